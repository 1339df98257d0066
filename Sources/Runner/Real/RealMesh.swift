import Foundation
import LoadGenerator
import MetaProtocol
import MetaProtocolCodecs
import Results
import TrafficModel
import Workload

/// A workload's mesh on real sockets, on this machine: its hosts as `mplab serve` processes
/// (each host a port, named by its address, with the behaviour the workload gives it), and
/// `mplab proxy` with the workload's own manifests told where the hosts really are
/// (`--upstream-address`). The proxy decides by the manifests' addresses, so balancing and
/// hashing pick the same hosts as in the simulation. It stays up for as many load runs as the
/// caller sends through ``proxyPort`` (a capacity search sends dozens), until ``stop()``.
public final class RealMesh: @unchecked Sendable {
    /// Where the load generator connects.
    public let proxyPort: Int
    public let protocolName: String
    /// The direct path's round trip (client to an instant host and back), p50 in seconds.
    public let directRoundTrip: Double
    public let directCalls: Int
    /// Files the hosts and the proxy write their results to when stopped.
    public let hostResults: [String]
    public let proxyResult: String
    public let hostCount: Int
    private var children: [ChildProcess]
    private let lock = NSLock()

    private init(proxyPort: Int, protocolName: String, directRoundTrip: Double, directCalls: Int, hostResults: [String], proxyResult: String,
                 hostCount: Int, children: [ChildProcess]) {
        self.proxyPort = proxyPort
        self.protocolName = protocolName
        self.directRoundTrip = directRoundTrip
        self.directCalls = directCalls
        self.hostResults = hostResults
        self.proxyResult = proxyResult
        self.hostCount = hostCount
        self.children = children
    }

    deinit { stop() }

    /// Stops the proxy, then the hosts (each writes its result file as it exits).
    public func stop() {
        lock.lock()
        let all = children
        children = []
        lock.unlock()
        for c in all.reversed() { c.stop() }
    }

    /// Starts the hosts, measures the direct path, and starts the proxy. `manifests` replaces
    /// the workload's own manifests (YAML, all documents) when given — `mplab capacity` runs
    /// its search with the workload's local limit taken out.
    public static func start(_ script: WorkloadScript, mplab: String, seed: UInt64, overrides: [String], folder: URL, manifests: String? = nil,
                             log: @escaping @Sendable (String) -> Void) async throws -> RealMesh {
        ProcessLimits.raiseOpenFiles()
        let protocolName = script.proxy.configuration.protocolName
        var children: [ChildProcess] = []
        var handedOver = false
        defer { if !handedOver { for c in children.reversed() { c.stop() } } }

        // The hosts: one process per distinct behaviour within a cluster.
        var ports: [String: Int] = [:]
        var hostResults: [String] = []
        for cluster in script.proxy.configuration.clusters where !cluster.hosts.isEmpty {
            let service = script.services.first { $0.cluster == cluster.name }
            var groups: [(behaviour: HostBehaviour, hosts: [String])] = []
            for host in cluster.hosts {
                let b = service?.behaviour(of: host.address) ?? HostBehaviour()
                if let i = groups.firstIndex(where: { $0.behaviour == b }) { groups[i].hosts.append(host.address) } else { groups.append((b, [host.address])) }
            }
            for group in groups {
                let resultFile = folder.appending(path: "hosts-\(hostResults.count).json").path
                hostResults.append(resultFile)
                var arguments = [mplab, "serve", "--workload", script.file, "--seed", "\(seed)", "--result", resultFile, "--event-loops", "1"]
                for o in overrides { arguments += ["--set", o] }
                for h in group.hosts { arguments += ["--workload-host", h] }
                let child = try ChildProcess(name: "mplab serve (\(group.hosts.joined(separator: ", ")))", arguments)
                children.append(child)
                var output = try await child.wait(for: "serving \(protocolName) on")
                // One line per port, in the order of the hosts.
                while output.components(separatedBy: "serving \(protocolName) on").count - 1 < group.hosts.count {
                    try await Task.sleep(for: .milliseconds(20))
                    output = child.printed
                    guard !Task.isCancelled else { throw CancellationError() }
                }
                let lines = output.split(separator: "\n").filter { $0.hasPrefix("serving \(protocolName) on") }
                for (host, line) in zip(group.hosts, lines) { ports[host] = try OverheadRun.port(in: String(line), after: "127.0.0.1:") }
            }
        }
        log("hosts: \(ports.count) on loopback (\(hostResults.count) mplab serve processes)")

        // The direct path: an instant host, one call at a time.
        let instant = try ChildProcess(name: "mplab serve (instant)", [mplab, "serve", "--protocol", protocolName, "--ports", "0", "--event-loops", "1"])
        children.append(instant)
        let instantPort = try OverheadRun.port(in: try await instant.wait(for: "serving \(protocolName) on"), after: "127.0.0.1:")
        let template = script.clientModels.first?.mix.first ?? CallTemplate(attributes: [])
        let direct = try await LoadRun.run(LoadPlan(port: instantPort, protocolName: protocolName, pacing: .closedLoop, connections: 1, depth: 1,
                                                    duration: .seconds(1), warmUp: .milliseconds(200), requestTimeout: .seconds(5), mix: [template],
                                                    payloadSize: .constant(20), seed: seed))
        let directRoundTrip = Double(direct.figures.latency.nanoseconds(atPercentile: 50)) / 1e9
        instant.stop()
        children.removeLast()
        log("direct path: p50 round trip \(Expectation.duration(directRoundTrip)) over \(direct.figures.latency.count) calls")

        // The proxy, with the workload's manifests.
        var files = manifests == nil ? script.proxy.manifestFiles : []
        if let inline = manifests ?? script.proxy.inlineManifests {
            let file = folder.appending(path: "manifests-\(UInt32.random(in: 0...UInt32.max)).yaml").path
            try inline.write(toFile: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        let proxyResult = folder.appending(path: "proxy-\(UInt32.random(in: 0...UInt32.max)).json").path
        var arguments = [mplab, "proxy", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--event-loops", "\(script.real.proxyEventLoops)",
                         "--seed", "\(seed)", "--result", proxyResult]
        for f in files { arguments += ["--config", f] }
        for (address, port) in ports.sorted(by: { $0.key < $1.key }) { arguments += ["--upstream-address", "\(address)=127.0.0.1:\(port)"] }
        guard script.proxy.instances == 1 else { throw RunFailure.unsupported("proxy.instances above 1 on real sockets (one mplab proxy runs)") }
        let proxy = try ChildProcess(name: "mplab proxy", arguments)
        children.append(proxy)
        let proxyPort = try OverheadRun.port(in: try await proxy.wait(for: "admin endpoint"), after: "address=127.0.0.1:")
        log("proxy on 127.0.0.1:\(proxyPort)")
        handedOver = true
        return RealMesh(proxyPort: proxyPort, protocolName: protocolName, directRoundTrip: directRoundTrip, directCalls: Int(direct.figures.latency.count),
                        hostResults: hostResults, proxyResult: proxyResult, hostCount: ports.count, children: children)
    }
}
