import Foundation
import MetaProtocol
import MetaProtocolCodecs
import TrafficModel

#if canImport(Glibc)
import Glibc
#endif

/// What the proxy adds, measured from outside: `mplab serve`, `mplab proxy` and HAProxy (TCP
/// mode) as child processes on one path; direct, proxied and HAProxy calls in interleaved
/// rounds for each payload size; the generator calibrated against a C client; and the proxy
/// process's cost (CPU per request, memory, allocations).
public enum OverheadRun {
    /// The paths a call can take to the server.
    public enum Path: String, Sendable, CaseIterable {
        case direct
        case proxy
        case haproxy = "HAProxy"
        /// A second proxy that holds every call for ``OverheadPlan/proxyDelay`` (fault
        /// injection): a known cost, for checking that the harness sees what it should.
        case delayedProxy = "delayed proxy"
    }

    public static func run(_ plan: OverheadPlan, log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> OverheadReport {
        guard !plan.sizes.isEmpty, plan.rounds >= 2 else { throw OverheadFailure.badPlan("give at least one size and two rounds") }
        ProcessLimits.raiseOpenFiles()
        let pinned = plan.pin && ProcessInfo.processInfo.activeProcessorCount >= 2
        let folder = FileManager.default.temporaryDirectory.appending(path: "mplab-overhead-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let server = try ChildProcess(name: "mplab serve", [plan.mplab, "serve", "--protocol", plan.protocolName, "--ports", "0", "--event-loops", "1"],
                                      cores: pinned ? "1" : nil)
        defer { server.stop() }
        let serverPort = try port(in: try await server.wait(for: "serving \(plan.protocolName) on"), after: "serving \(plan.protocolName) on 127.0.0.1:")
        /// A proxy process in front of the server, adding `delay` to every call when given.
        func startProxy(delay: Duration?, name: String) async throws -> (process: ChildProcess, port: Int, admin: Int) {
            let config = folder.appending(path: "\(name).yaml").path
            try proxyConfiguration(plan, serverPort: serverPort, delay: delay).write(toFile: config, atomically: true, encoding: .utf8)
            let child = try ChildProcess(name: "mplab proxy (\(name))", [plan.mplab, "proxy", "--config", config, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                                                                       "--event-loops", "1"], cores: pinned ? "0" : nil)
            let output = try await child.wait(for: "admin endpoint")
            return (child, try port(in: output, after: "address=127.0.0.1:"),
                    try port(in: output.components(separatedBy: "listening").last ?? "", after: "address=127.0.0.1:"))
        }
        let (proxy, proxyPort, adminPort) = try await startProxy(delay: nil, name: "proxy")
        defer { proxy.stop() }
        var ports: [Path: Int] = [.direct: serverPort, .proxy: proxyPort]
        let delayed = try await plan.proxyDelay.asyncMap { try await startProxy(delay: $0, name: "delayed") }
        defer { delayed?.process.stop() }
        if let delayed { ports[.delayedProxy] = delayed.port }
        var haproxy: ChildProcess?
        if plan.haproxy {
            guard let port = Sockets.freePort() else { throw OverheadFailure.childFailed("HAProxy", "no free port") }
            let file = folder.appending(path: "haproxy.cfg").path
            try haproxyConfiguration(port: port, serverPort: serverPort).write(toFile: file, atomically: true, encoding: .utf8)
            let child = try ChildProcess(name: "HAProxy", ["haproxy", "-db", "-f", file], cores: pinned ? "0" : nil)
            guard await Sockets.waitForListener(port: port) else { throw OverheadFailure.childFailed("HAProxy", "did not listen: \(child.printed)") }
            haproxy = child
            ports[.haproxy] = port
        }
        defer { haproxy?.stop() }
        let paths = Path.allCases.filter { ports[$0] != nil }
        log("server on \(serverPort), proxy on \(proxyPort) (admin \(adminPort))" + (ports[.haproxy].map { ", HAProxy on \($0)" } ?? "")
            + (pinned ? "; proxy and HAProxy on core 0, server on core 1" : ""))

        var report = OverheadReport(plan: plan, paths: paths, pinning: pinned ? "mplab proxy and HAProxy pinned to core 0, mplab serve to core 1, the generator unpinned"
                                        : "nothing pinned (\(ProcessInfo.processInfo.activeProcessorCount) core\(ProcessInfo.processInfo.activeProcessorCount == 1 ? "" : "s"))")
        report.proxyIdleResident = proxy.residentBytes
        report.haproxyIdleResident = haproxy?.residentBytes

        if let source = plan.calibrationSource, let field = plan.lengthField {
            report.calibration = try await calibrate(plan, source: source, field: field, serverPort: serverPort, folder: folder)
            log("calibration: C client p50 \(report.calibration!.clientP50 / 1000) µs, generator p50 \(report.calibration!.generatorP50 / 1000) µs")
        }

        for size in plan.sizes {
            var row = OverheadReport.Row(size: size)
            // Each proxy's CPU and allocations are taken around its own rounds only, so that
            // what it spends idle while the other paths run is not put on its calls.
            var cpu: [OverheadRun.Path: Double] = [:]
            var allocations = (requests: 0, bytes: 0)
            for round in 0..<plan.rounds {
                // ABBA: each path comes first as often as last, so drift falls on all alike.
                for path in round % 2 == 0 ? paths : paths.reversed() {
                    let child = path == .proxy ? proxy : path == .haproxy ? haproxy : nil
                    let cpuBefore = child?.cpuSeconds ?? 0
                    let allocationsBefore = path == .proxy ? allocationTotals(adminPort: adminPort) : nil
                    let load = try await LoadRun.run(roundPlan(plan, port: ports[path]!, size: size, round: round))
                    if let child { cpu[path, default: 0] += child.cpuSeconds - cpuBefore }
                    if let before = allocationsBefore, let after = allocationTotals(adminPort: adminPort) {
                        allocations.requests += after.requests - before.requests
                        allocations.bytes += after.bytes - before.bytes
                    }
                    row.record(path, load.figures)
                }
            }
            row.proxyCPUPer1000 = cpu[.proxy].map { $0 / Double(max(1, row.answered(.proxy))) * 1000 }
            row.haproxyCPUPer1000 = cpu[.haproxy].map { $0 / Double(max(1, row.answered(.haproxy))) * 1000 }
            if row.answered(.proxy) > 0, allocations.requests > 0 {
                row.allocationsPerCall = Double(allocations.requests) / Double(row.answered(.proxy))
                row.allocatedBytesPerCall = Double(allocations.bytes) / Double(row.answered(.proxy))
            }
            log(row.line(calibration: report.calibration))
            report.rows.append(row)
        }

        if plan.saturation > .zero {
            for path in paths where path != .direct {
                let child = path == .proxy ? proxy : haproxy!
                let before = child.cpuSeconds
                var saturate = roundPlan(plan, port: ports[path]!, size: 1024, round: 0)
                // One call in flight per connection, as a client waiting for each answer: what
                // each call costs the proxy, not what a pipelined batch costs it.
                saturate.pacing = .closedLoop
                saturate.connections = 16
                saturate.depth = 1
                saturate.duration = plan.saturation
                saturate.warmUp = .zero
                let load = try await LoadRun.run(saturate)
                let cpu = child.cpuSeconds - before
                report.saturation.append(OverheadReport.Saturation(path: path, callsPerSecond: load.answeredRate,
                                                                   cpuPerCall: cpu / Double(max(1, load.figures.calls.answered))))
            }
        }

        // A thousand idle client connections: what holding them costs the proxy.
        var held: [Int32] = []
        for _ in 0..<1000 { if let fd = Sockets.connect(port: proxyPort) { held.append(fd) } }
        try await Task.sleep(for: .milliseconds(500))
        report.proxyResidentWith1000 = proxy.residentBytes
        report.heldConnections = held.count
        for fd in held { close(fd) }
        return report
    }

    /// One round's load on one path.
    public static func roundPlan(_ plan: OverheadPlan, port: Int, size: Int, round: Int) -> LoadPlan {
        LoadPlan(port: port, protocolName: plan.protocolName, pacing: .openLoop(.constant(rate: plan.rate)), connections: plan.connections, depth: plan.depth,
                 duration: plan.roundDuration, warmUp: .milliseconds(200), requestTimeout: .seconds(10), mix: [CallTemplate(attributes: calls(plan.protocolName))],
                 payloadSize: .constant(Double(size)), seed: plan.seed &+ UInt64(round))
    }

    /// Attributes the route matches and the protocol carries.
    public static func calls(_ protocolName: String) -> [KeyValue] {
        switch protocolName {
        case "livepacket": [KeyValue("method", "1.1")]
        default: [KeyValue("interface", "org.mplab.Synthetic"), KeyValue("method", "call")]
        }
    }

    /// The port that follows `marker` in `text`.
    public static func port(in text: String, after marker: String) throws -> Int {
        guard let range = text.range(of: marker), let port = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
            throw OverheadFailure.childFailed("harness", "no port after \"\(marker)\" in: \(text)")
        }
        return port
    }

    public static func proxyConfiguration(_ plan: OverheadPlan, serverPort: Int, delay: Duration?) -> String {
        let fault = delay.map { ", fault: { delay: { fixedDelay: \($0.nanoseconds / 1000)us, percentage: 100 } }" } ?? ""
        return """
            apiVersion: metaprotocol.aeraki.io/v1alpha1
            kind: MetaRouter
            metadata: { name: overhead }
            spec:
              hosts: [svc]
              routes: [{ name: all, route: [{ destination: { host: svc } }]\(fault) }]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: ServiceEntry
            metadata: { name: svc }
            spec:
              hosts: [svc]
              ports: [{ number: \(serverPort), name: tcp-metaprotocol-\(plan.protocolName)-svc, protocol: TCP }]
              endpoints: [{ address: 127.0.0.1 }]

            """
    }

    /// HAProxy as an L4 proxy on the same path: TCP mode, one thread.
    static func haproxyConfiguration(port: Int, serverPort: Int) -> String {
        """
        global
          nbthread 1
          maxconn 4000
        defaults
          mode tcp
          timeout connect 5s
          timeout client 60s
          timeout server 60s
        listen overhead
          bind 127.0.0.1:\(port)
          server upstream 127.0.0.1:\(serverPort)

        """
    }

    /// The proxy's allocations so far, from its admin endpoint's jemalloc counters.
    static func allocationTotals(adminPort: Int) -> (requests: Int, bytes: Int)? {
        guard let text = Sockets.get(port: adminPort, path: "/memory") else { return nil }
        func value(_ key: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(key + " ") }.flatMap { Int($0.dropFirst(key.count + 1)) }
        }
        guard let requests = value("allocation_requests"), let bytes = value("allocation_request_bytes") else { return nil }
        return (requests, bytes)
    }

    /// The generator against the C ping-pong client, one call at a time on one connection,
    /// straight to the server: the difference of their medians is what the generator adds.
    static func calibrate(_ plan: OverheadPlan, source: String, field: (offset: Int, add: Int), serverPort: Int, folder: URL) async throws -> OverheadReport.Calibration {
        let binary = folder.appending(path: "pingpong").path
        let frameFile = folder.appending(path: "frame.bin").path
        guard let synthesizer = CodecRegistry.makeSynthesizer(named: plan.protocolName) else { throw OverheadFailure.calibrationFailed("no synthesizer") }
        let frame = try synthesizer.request(id: 1, attributes: calls(plan.protocolName), payloadSize: 1024, oneway: false)
        try Data(frame.readableBytesView).write(to: URL(fileURLWithPath: frameFile))
        let calls = 4000
        let output = try await Task.detached {
            _ = try run(["cc", "-O2", "-o", binary, source])
            return try run([binary, "127.0.0.1", "\(serverPort)", frameFile, "\(field.offset)", "\(field.add)", "\(calls)"])
        }.value
        let values = output.split(separator: "\n").compactMap { Double($0) }
        guard values.count == 3 else { throw OverheadFailure.calibrationFailed("unexpected output: \(output)") }
        var generator = roundPlan(plan, port: serverPort, size: 1024, round: 0)
        generator.pacing = .closedLoop
        generator.connections = 1
        generator.depth = 1
        generator.duration = .seconds(2)
        generator.warmUp = .milliseconds(200)
        let load = try await LoadRun.run(generator)
        return OverheadReport.Calibration(calls: calls, clientP50: values[0], clientP90: values[1], clientP99: values[2],
                                          generatorP50: Double(load.figures.serviceTime.nanoseconds(atPercentile: 50)),
                                          generatorP99: Double(load.figures.serviceTime.nanoseconds(atPercentile: 99)), generatorCalls: load.figures.calls.answered)
    }

    /// Runs a command to its end; its standard output.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw OverheadFailure.calibrationFailed("\(arguments[0]) exited \(process.terminationStatus): \(stderr)") }
        return stdout
    }
}

extension Optional {
    /// `map` with an asynchronous transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
