import Foundation
import LoadGenerator
import MetaProtocol
import MetaProtocolCodecs
import Results
import TrafficModel
import Workload

/// The workload on real sockets, on this machine: its mesh (``RealMesh``) and the load
/// generator sending each client's calls.
enum RealRun {
    struct Outcome {
        var result: RunResult
        /// The direct path's round trip (client to an instant host and back), p50 in seconds.
        var directRoundTrip: Double
    }

    static func run(_ script: WorkloadScript, mplab: String, seed: UInt64, overrides: [String], folder: URL,
                    log: @escaping @Sendable (String) -> Void, progress: @escaping @Sendable (Double, String) -> Void) async throws -> Outcome {
        let started = Date()
        let mesh = try await RealMesh.start(script, mplab: mplab, seed: seed, overrides: overrides, folder: folder, log: log)
        defer { mesh.stop() }

        // The clients, all at once, each with its own plan.
        let duration = script.real.duration ?? script.duration
        let models = script.clientModels
        let totalCalls = script.callLimit
        var plans: [LoadPlan] = []
        for (i, model) in models.enumerated() {
            var plan = LoadPlan(port: mesh.proxyPort, protocolName: mesh.protocolName, pacing: .openLoop(model.arrivals.scaled(by: script.real.rateScale)),
                                connections: script.real.connections, depth: 128, duration: duration, warmUp: script.warmUp,
                                requestTimeout: script.real.requestTimeout, mix: model.mix, payloadSize: model.payloadSize, seed: seed &+ UInt64(i))
            if let totalCalls { plan.requestLimit = max(1, totalCalls / models.count) }
            plans.append(plan)
        }
        let reports = try await runAll(plans, duration: duration, progress: progress)
        mesh.stop()

        // One result: the clients' calls and latencies, the proxy's counters, the hosts' figures.
        let provenance = Provenance.current(seed: seed, commandLine: CommandLine.arguments, startedAt: started)
        var run = try RunResult.merging(reports.map { $0.runResult(provenance: provenance) }, commandLine: CommandLine.arguments)
        run.provenance = provenance
        let proxyRun = try RunResult.decode(Data(contentsOf: URL(fileURLWithPath: mesh.proxyResult)))
        run.counters = run.counters.filter { $0.name == "load generator" } + proxyRun.counters
        run.invariants += proxyRun.invariants
        run.coverage = proxyRun.coverage
        var hosts: [HostResult] = []
        for file in mesh.hostResults { hosts += try RunResult.decode(Data(contentsOf: URL(fileURLWithPath: file))).hosts }
        let order = script.proxy.configuration.clusters.flatMap { $0.hosts.map(\.address) }
        run.hosts = hosts.sorted { (order.firstIndex(of: $0.address) ?? .max) < (order.firstIndex(of: $1.address) ?? .max) }
        run.notes.append("real sockets on loopback: \(mesh.hostCount) hosts in \(mesh.hostResults.count) mplab serve processes, one mplab proxy "
                         + "(\(script.real.proxyEventLoops) event loops), \(models.count) load-generator client(s) at \(Expectation.number(script.real.rateScale))× the workload's rates")
        run.notes.append("direct path p50 round trip \(Expectation.duration(mesh.directRoundTrip)) (\(mesh.directCalls) calls to an instant host, one at a time)")
        return Outcome(result: run, directRoundTrip: mesh.directRoundTrip)
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
