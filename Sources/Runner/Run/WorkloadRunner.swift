import Foundation
import LoadGenerator
import MetaProtocol
import Results
import Simulation
import TrafficModel
import Workload

/// Runs a workload on the drivers its mode names — the simulator (with replications), real
/// sockets, or both side by side — plus its overhead round, and checks its expectations.
public enum WorkloadRunner {
    /// How to run.
    public struct Options: Sendable {
        /// This `mplab` executable: the real run starts it as `mplab serve` and `mplab proxy`.
        public var mplab: String
        /// The `--set` overrides the script was read with (the hosts' processes read it alike).
        public var overrides: [String]
        /// Replications instead of the workload's own count.
        public var replications: Int?
        /// Run only this slice of the replications (`--shard i/N`): replications i, i+N, ….
        public var shard: LoadPlan.Shard
        public var commandLine: [String]
        /// Run the overhead round when the workload has one (tests of the simulated parts skip it).
        public var runOverhead: Bool

        public init(mplab: String, overrides: [String] = [], replications: Int? = nil, shard: LoadPlan.Shard = .whole,
                    commandLine: [String] = CommandLine.arguments, runOverhead: Bool = true) {
            self.mplab = mplab
            self.runOverhead = runOverhead
            self.overrides = overrides
            self.replications = replications
            self.shard = shard
            self.commandLine = commandLine
        }
    }

    /// What the runner is doing, for a progress bar or a log line.
    public struct Progress: Sendable {
        /// `simulate`, `real`, `overhead`.
        public var phase: String
        /// 0–1 within the phase.
        public var fraction: Double
        public var detail: String
    }

    /// Runs `script`. `log` gets lines worth keeping; `progress` gets the phase and how far it is.
    /// When the task is cancelled (Ctrl-C) between parts, what was measured is returned, marked
    /// incomplete.
    public static func run(_ script: WorkloadScript, options: Options, log: @escaping @Sendable (String) -> Void = { _ in },
                           progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> WorkloadResult {
        let source = (try? Data(contentsOf: URL(fileURLWithPath: script.file))).map {
            WorkloadSource(path: script.file, hash: "xxh64:" + String(format: "%016llx", XXHash64.hash([UInt8]($0))))
        }
        let real = (script.mode != .simulate && !script.clients.isEmpty) || script.overhead != nil
        var outcome = WorkloadResult(
            workload: script.name, summary: script.summary, mode: script.clients.isEmpty ? "overhead round" : script.mode.rawValue,
            provenance: .current(seed: script.seed, workload: source, commandLine: options.commandLine, startedAt: real ? Date() : nil),
            resolvedConfiguration: script.resolvedDescription, warnings: script.warnings)
        var simulated: RunResult?, realResult: RunResult?, overhead: RunResult?
        let folder = FileManager.default.temporaryDirectory.appending(path: "mplab-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        do {
            var directRoundTrip: Double?
            let drivers = !script.clients.isEmpty
            if drivers && script.mode != .simulate {
                progress(Progress(phase: "real", fraction: 0, detail: "starting hosts and proxy"))
                let r = try await RealRun.run(script, mplab: options.mplab, seed: script.seed, overrides: options.overrides, folder: folder, log: log) { f, d in
                    progress(Progress(phase: "real", fraction: f, detail: d))
                }
                realResult = r.result
                directRoundTrip = r.directRoundTrip
                outcome.parts.append(RunPart(role: .real, name: "real", result: r.result))
                try Task.checkCancellation()
            }
            if drivers && script.mode != .real {
                progress(Progress(phase: "simulate", fraction: 0, detail: "\(options.replications ?? script.replications) replication(s)"))
                var network: NetworkModel?
                if let rtt = directRoundTrip, script.network.fromDirectPath {
                    let oneWay = LinkModel(latency: .constant(rtt / 2), bandwidth: script.network.bandwidth)
                    network = NetworkModel(clientToProxy: oneWay, proxyToHost: oneWay)
                    outcome.warnings.append("the simulator's links were set from the measured direct path: \(Expectation.duration(rtt / 2)) one way each")
                }
                let parts = try simulate(script, options: options, network: network)
                simulated = parts.first?.result
                outcome.parts += parts
                outcome.figures += replicationFigures(parts.map(\.result))
                progress(Progress(phase: "simulate", fraction: 1, detail: "\(parts.count) run(s)"))
                try Task.checkCancellation()
            }
            if let o = script.overhead, options.runOverhead {
                progress(Progress(phase: "overhead", fraction: 0, detail: "direct, proxy\(o.haproxy ? ", HAProxy" : "") at \(o.sizes.map(ByteSize.describe).joined(separator: ", "))"))
                let plan = OverheadPlan(mplab: options.mplab, protocolName: o.protocolName, sizes: o.sizes, rounds: o.rounds, roundDuration: o.roundDuration,
                                        rate: o.rate, connections: o.connections, haproxy: o.haproxy, calibrationSource: nil, saturation: .zero, seed: script.seed)
                let report = try await OverheadRun.run(plan, log: log)
                let r = report.runResult(provenance: outcome.provenance)
                overhead = r
                outcome.parts.append(RunPart(role: .overhead, name: "overhead", result: r))
                progress(Progress(phase: "overhead", fraction: 1, detail: "\(o.sizes.count) size(s)"))
            }
        } catch is CancellationError {
            outcome.complete = false
        }
        if let s = simulated, let r = realResult { outcome.comparisons = comparisons(script, simulated: s, real: r) }
        for (name, result) in [("simulated", simulated), ("real", realResult)] {
            guard let result else { continue }
            outcome.figures += subsetShares(script, result).map { Figure(name: "\(name) share of subset \($0.subset)", value: $0.share, unit: "ratio",
                                                                        note: "of \(result.hosts.reduce(0) { $0 + $1.arrivals }) host arrivals, retries and mirrors included") }
        }
        outcome.expectations = ExpectationCheck(script: script, simulated: simulated, real: realResult, overhead: overhead).outcomes()
        return outcome
    }

    /// The replications of this shard, in order: the first is the `simulated` part.
    static func simulate(_ script: WorkloadScript, options: Options, network: NetworkModel?) throws -> [RunPart] {
        let count = options.replications ?? script.replications
        let mine = (0..<count).filter { $0 % options.shard.count == options.shard.index }
        let configurations = mine.map { script.simulationConfiguration(seed: script.seed &+ UInt64($0), network: network) }
        let results = try Simulation.runAll(configurations)
        return zip(mine, results).map { i, r in
            let seed = script.seed &+ UInt64(i)
            let result = r.runResult(provenance: .current(seed: seed, commandLine: options.commandLine))
            return i == 0 ? RunPart(role: .simulated, name: "simulated", result: result)
                : RunPart(role: .replication, name: "replication \(i + 1) (seed \(seed))", result: result)
        }
    }

    /// Means with 95 % intervals over replications (Student's t), when there are several.
    static func replicationFigures(_ runs: [RunResult]) -> [Figure] {
        guard runs.count > 1 else { return [] }
        func figure(_ name: String, _ unit: String, _ values: [Double]) -> Figure {
            let ci = ConfidenceInterval(values)
            return Figure(name: name, value: ci.mean, unit: unit, low: ci.lower, high: ci.upper, note: "mean over \(runs.count) replications, Student's t 95 % interval")
        }
        let latency = runs.compactMap { $0.latency("latency") }
        var out: [Figure] = []
        for p in [50.0, 99.0] where latency.count == runs.count {
            out.append(figure("p\(Int(p)) latency", "ms", latency.map { Double($0.distribution.nanoseconds(atPercentile: p)) / 1e6 }))
        }
        out.append(figure("success share", "ratio", runs.map { $0.calls.answered == 0 ? 0 : Double($0.calls.success) / Double($0.calls.answered) }))
        out.append(figure("answered per second", "calls/s", runs.map { Double($0.calls.answered) / max($0.window.measuredSeconds, 1e-9) }))
        return out
    }

    /// Each subset's share of host arrivals.
    static func subsetShares(_ script: WorkloadScript, _ result: RunResult) -> [(subset: String, share: Double)] {
        var out: [(String, Double)] = []
        for subset in script.proxy.configuration.clusters.flatMap(\.subsets).map(\.name) where !out.contains(where: { $0.0 == subset }) {
            if let share = try? ExpectationCheck.metric(.share(.subset(subset)), of: result, script: script) { out.append((subset, share)) }
        }
        return out
    }

    /// The simulation and the real run side by side.
    static func comparisons(_ script: WorkloadScript, simulated s: RunResult, real r: RunResult) -> [Comparison] {
        var out: [Comparison] = []
        if let a = s.latency("latency"), let b = r.latency("latency"), a.samples > 0, b.samples > 0 {
            for p in [50.0, 90.0, 99.0] {
                out.append(Comparison(name: "p\(Int(p)) latency", unit: "ms", simulated: Double(a.distribution.nanoseconds(atPercentile: p)) / 1e6,
                                      real: Double(b.distribution.nanoseconds(atPercentile: p)) / 1e6))
            }
        }
        func perSecond(_ x: RunResult, _ v: Double) -> Double { v / max(x.window.measuredSeconds, 1e-9) }
        out.append(Comparison(name: "answered per second", unit: "calls/s", simulated: perSecond(s, Double(s.calls.answered)), real: perSecond(r, Double(r.calls.answered))))
        out.append(Comparison(name: "success share", unit: "ratio", simulated: Double(s.calls.success) / Double(max(1, s.calls.answered)),
                              real: Double(r.calls.success) / Double(max(1, r.calls.answered))))
        for name in ["rateLimited", "breakerOverflows", "ejections"] {
            let a = (try? ExpectationCheck.metric(.count(name), of: s, script: script)) ?? 0
            let b = (try? ExpectationCheck.metric(.count(name), of: r, script: script)) ?? 0
            out.append(Comparison(name: "\(name) per second", unit: "1/s", simulated: perSecond(s, a), real: perSecond(r, b)))
        }
        for cluster in script.proxy.configuration.clusters {
            for subset in cluster.subsets {
                let a = (try? ExpectationCheck.metric(.share(.subset(subset.name)), of: s, script: script)) ?? 0
                let b = (try? ExpectationCheck.metric(.share(.subset(subset.name)), of: r, script: script)) ?? 0
                out.append(Comparison(name: "share of subset \(subset.name)", unit: "ratio", simulated: a, real: b))
            }
        }
        return out
    }
}
