import Foundation
import LoadGenerator
import MetaProtocol
import Workload

/// The candidate build's proxy against the baseline build's, on one path in one run: one
/// `mplab serve`, one proxy of each build in front of it (one event loop each, pinned to the same
/// core), both warmed, and rounds through each in ABBA order (closed loop unless the suite says
/// open), so that whatever the machine does during the run falls on both builds alike.
public struct LatencyComparison: Sendable {
    public var baselineMplab: String
    public var candidateMplab: String
    /// What is run: the suite's latency section.
    public var plan: GateSuite.Latency
    /// Extra arguments for the candidate's `mplab proxy` (the gate's test-only `--inject-delay`).
    public var candidateProxyArguments: [String]

    public init(baselineMplab: String, candidateMplab: String, plan: GateSuite.Latency, candidateProxyArguments: [String] = []) {
        self.baselineMplab = baselineMplab
        self.candidateMplab = candidateMplab
        self.plan = plan
        self.candidateProxyArguments = candidateProxyArguments
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> [GateMetric] {
        ProcessLimits.raiseOpenFiles()
        let pinned = ProcessInfo.processInfo.activeProcessorCount >= 2
        let folder = FileManager.default.temporaryDirectory.appending(path: "mplab-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let overhead = OverheadPlan(mplab: candidateMplab, protocolName: plan.protocolName, sizes: plan.sizes, rounds: plan.rounds, roundDuration: plan.roundDuration,
                                    rate: plan.rate, connections: plan.connections, haproxy: false, saturation: .zero)
        let server = try ChildProcess(name: "mplab serve", [candidateMplab, "serve", "--protocol", plan.protocolName, "--ports", "0", "--event-loops", "1"],
                                      cores: pinned ? "1" : nil)
        defer { server.stop() }
        let serverPort = try OverheadRun.port(in: try await server.wait(for: "serving \(plan.protocolName) on"), after: "serving \(plan.protocolName) on 127.0.0.1:")
        let config = folder.appending(path: "proxy.yaml").path
        try OverheadRun.proxyConfiguration(overhead, serverPort: serverPort, delay: nil).write(toFile: config, atomically: true, encoding: .utf8)
        func proxy(_ mplab: String, _ name: String, _ extra: [String]) async throws -> (ChildProcess, Int) {
            let child = try ChildProcess(name: "mplab proxy (\(name))", [mplab, "proxy", "--config", config, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                                                                                   "--event-loops", "1"] + extra,
                                         cores: pinned ? "0" : nil)
            let output = try await child.wait(for: "admin endpoint")
            let line = output.split(separator: "\n").first { $0.contains("listening") }.map(String.init) ?? output
            return (child, try OverheadRun.port(in: line, after: "address=127.0.0.1:"))
        }
        let (baseline, baselinePort) = try await proxy(baselineMplab, "baseline", [])
        defer { baseline.stop() }
        let (candidate, candidatePort) = try await proxy(candidateMplab, "candidate", candidateProxyArguments)
        defer { candidate.stop() }

        var metrics: [GateMetric] = []
        /// One round through one build's proxy (the plan's pacing; `duration` instead of the
        /// round's when given).
        func round(_ port: Int, size: Int, pair: Int, duration: Duration? = nil) async throws -> LoadReport {
            var round = OverheadRun.roundPlan(overhead, port: port, size: size, round: pair)
            if plan.closedLoop {
                round.pacing = .closedLoop
                round.depth = 1
            }
            if let duration { round.duration = duration }
            return try await LoadRun.run(round)
        }
        for size in plan.sizes {
            var medians: (baseline: [Double], candidate: [Double]) = ([], [])
            var calls = 0
            var decision: LatencyDecision?
            // A process just started runs its first thousands of calls slower (page faults,
            // caches, lazily bound symbols): seen as the first rounds of one build 3× the rest.
            // Both builds are warmed before any round counts.
            for port in [baselinePort, candidatePort] { _ = try await round(port, size: size, pair: 0, duration: .seconds(2)) }
            while medians.baseline.count < plan.maxRounds {
                let target = medians.baseline.isEmpty ? plan.rounds : min(plan.maxRounds, medians.baseline.count + plan.step)
                while medians.baseline.count < target {
                    let pair = medians.baseline.count
                    // ABBA: each build goes first in every other pair.
                    for isCandidate in pair % 2 == 0 ? [false, true] : [true, false] {
                        let load = try await round(isCandidate ? candidatePort : baselinePort, size: size, pair: pair)
                        guard load.figures.calls.answered > 0 else { throw GateError.badOutput("a latency round", "no call was answered") }
                        calls += load.figures.calls.answered
                        let median = Double(load.figures.latency.nanoseconds(atPercentile: 50)) / 1e3
                        if isCandidate { medians.candidate.append(median) } else { medians.baseline.append(median) }
                    }
                }
                let d = LatencyDecision(baseline: medians.baseline, candidate: medians.candidate, minEffect: plan.minEffect, alpha: plan.alpha)
                decision = d
                log("latency \(size) B: \(d.pairs) pairs, ratio \(GateFormat.number(d.ratio)) [\(GateFormat.number(d.interval.lowerBound)), \(GateFormat.number(d.interval.upperBound))], p \(GateFormat.number(d.p)): \(d.verdict.rawValue)")
                if d.verdict != .inconclusive { break }
            }
            guard let d = decision else { continue }
            let baselineMedian = BootstrapInterval.median(medians.baseline), candidateMedian = BootstrapInterval.median(medians.candidate)
            let detail = "candidate/baseline p50 \(GateFormat.number(d.ratio))× (95 % interval \(GateFormat.number(d.interval.lowerBound))–\(GateFormat.number(d.interval.upperBound))), "
                + "Mann-Whitney p = \(GateFormat.number(d.p)), \(d.pairs) ABBA pairs of \(GateFormat.number(Double(plan.roundDuration.nanoseconds) / 1e9))-s rounds, "
                + (plan.closedLoop ? "closed loop over \(plan.connections) connection(s); " : "\(GateFormat.number(plan.rate))/s open loop; ")
                + "medians \(GateFormat.number(candidateMedian)) µs vs \(GateFormat.number(baselineMedian)) µs; minimum effect \(GateFormat.percent(plan.minEffect, signed: false))"
            var metric = GateMetric(name: "latency p50 ratio \(plan.protocolName) \(size) B", group: .latency, unit: "×", value: d.ratio, baseline: 1,
                                    tolerance: plan.minEffect, direction: .lowerIsBetter, samples: calls, interval: d.interval, verdict: d.verdict, detail: detail)
            metric.baselineRounds = medians.baseline
            metric.candidateRounds = medians.candidate
            metrics.append(metric)
        }
        return metrics
    }
}
