import Foundation
import LoadGenerator
import MetaProtocol
import MetaProtocolCodecs
import Results
import TrafficModel
import Workload

/// The workload on real sockets, on this machine: its hosts as `mplab serve` processes (each
/// host a port, named by its address, with the behaviour the workload gives it), `mplab proxy`
/// with the workload's own manifests told where the hosts really are (`--upstream-address`),
/// and the load generator sending each client's calls. The proxy decides by the manifests'
/// addresses, so balancing and hashing pick the same hosts as in the simulation.
enum RealRun {
    struct Outcome {
        var result: RunResult
        /// The direct path's round trip (client to an instant host and back), p50 in seconds.
        var directRoundTrip: Double
    }

    static func run(_ script: WorkloadScript, mplab: String, seed: UInt64, overrides: [String], folder: URL,
                    log: @escaping @Sendable (String) -> Void, progress: @escaping @Sendable (Double, String) -> Void) async throws -> Outcome {
        ProcessLimits.raiseOpenFiles()
        let started = Date()
        let protocolName = script.proxy.configuration.protocolName
        var children: [ChildProcess] = []
        defer { for c in children.reversed() { c.stop() } }

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
        log("direct path: p50 round trip \(Expectation.duration(directRoundTrip)) over \(direct.figures.latency.count) calls")

        // The proxy, with the workload's manifests.
        var files = script.proxy.manifestFiles
        if let inline = script.proxy.inlineManifests {
            let file = folder.appending(path: "inline-manifests.yaml").path
            try inline.write(toFile: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        let proxyResult = folder.appending(path: "proxy.json").path
        var arguments = [mplab, "proxy", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--event-loops", "\(script.real.proxyEventLoops)",
                         "--seed", "\(seed)", "--result", proxyResult]
        for f in files { arguments += ["--config", f] }
        for (address, port) in ports.sorted(by: { $0.key < $1.key }) { arguments += ["--upstream-address", "\(address)=127.0.0.1:\(port)"] }
        guard script.proxy.instances == 1 else { throw RunFailure.unsupported("proxy.instances above 1 on real sockets (one mplab proxy runs)") }
        let proxy = try ChildProcess(name: "mplab proxy", arguments)
        children.append(proxy)
        let proxyPort = try OverheadRun.port(in: try await proxy.wait(for: "admin endpoint"), after: "address=127.0.0.1:")
        log("proxy on 127.0.0.1:\(proxyPort)")

        // The clients, all at once, each with its own plan.
        let duration = script.real.duration ?? script.duration
        let models = script.clientModels
        let totalCalls = script.callLimit
        var plans: [LoadPlan] = []
        for (i, model) in models.enumerated() {
            var plan = LoadPlan(port: proxyPort, protocolName: protocolName, pacing: .openLoop(model.arrivals.scaled(by: script.real.rateScale)),
                                connections: script.real.connections, depth: 128, duration: duration, warmUp: script.warmUp,
                                requestTimeout: script.real.requestTimeout, mix: model.mix, payloadSize: model.payloadSize, seed: seed &+ UInt64(i))
            if let totalCalls { plan.requestLimit = max(1, totalCalls / models.count) }
            plans.append(plan)
        }
        let reports = try await runAll(plans, duration: duration, progress: progress)

        proxy.stop()
        for c in children where c !== proxy { c.stop() }
        children = []

        // One result: the clients' calls and latencies, the proxy's counters, the hosts' figures.
        let provenance = Provenance.current(seed: seed, commandLine: CommandLine.arguments, startedAt: started)
        var run = try RunResult.merging(reports.map { $0.runResult(provenance: provenance) }, commandLine: CommandLine.arguments)
        run.provenance = provenance
        let proxyRun = try RunResult.decode(Data(contentsOf: URL(fileURLWithPath: proxyResult)))
        run.counters = run.counters.filter { $0.name == "load generator" } + proxyRun.counters
        run.invariants += proxyRun.invariants
        run.coverage = proxyRun.coverage
        var hosts: [HostResult] = []
        for file in hostResults { hosts += try RunResult.decode(Data(contentsOf: URL(fileURLWithPath: file))).hosts }
        let order = script.proxy.configuration.clusters.flatMap { $0.hosts.map(\.address) }
        run.hosts = hosts.sorted { (order.firstIndex(of: $0.address) ?? .max) < (order.firstIndex(of: $1.address) ?? .max) }
        run.notes.append("real sockets on loopback: \(ports.count) hosts in \(hostResults.count) mplab serve processes, one mplab proxy "
                         + "(\(script.real.proxyEventLoops) event loops), \(models.count) load-generator client(s) at \(Expectation.number(script.real.rateScale))× the workload's rates")
        run.notes.append("direct path p50 round trip \(Expectation.duration(directRoundTrip)) (\(direct.figures.latency.count) calls to an instant host, one at a time)")
        return Outcome(result: run, directRoundTrip: directRoundTrip)
    }
}

extension RealRun {
    /// Runs the plans at once; their reports in the plans' order.
    static func runAll(_ plans: [LoadPlan], duration: Duration, progress: @escaping @Sendable (Double, String) -> Void) async throws -> [LoadReport] {
        let total = duration.seconds
        let first: @Sendable (LoadProgress) -> Void = { p in
            let elapsed: Double = p.elapsed.seconds
            progress(min(1, elapsed / total), "\(p.figures.calls.answered) answered")
        }
        var tasks: [Task<LoadReport, Error>] = []
        for (index, plan) in plans.enumerated() {
            let report: (@Sendable (LoadProgress) -> Void)? = index == 0 ? first : nil
            tasks.append(Task { try await LoadRun.run(plan, progress: report) })
        }
        var out: [LoadReport] = []
        for t in tasks { out.append(try await t.value) }
        return out
    }
}

/// Why a workload could not run.
public enum RunFailure: Error, CustomStringConvertible {
    case unsupported(String)
    case failed(String)

    public var description: String {
        switch self {
        case .unsupported(let what): "not supported yet: \(what)"
        case .failed(let why): why
        }
    }
}
