import Foundation
import MetaProtocol
import Results
import Simulation
import TrafficModel
import Workload

/// The recommendation replayed in simulation before anyone applies it: the workload's mesh
/// with the recommended manifests (loaded from the very YAML the report prints), offered
/// multiples of the capacity and a flash crowd, with an autoscaler watching rate-limited calls.
public struct WhatIf: Sendable {
    public var script: WorkloadScript
    public var section: WorkloadScript.CapacitySection
    public var objective: CapacityResult.Objective

    public init(script: WorkloadScript, section: WorkloadScript.CapacitySection, objective: CapacityResult.Objective) {
        self.script = script
        self.section = section
        self.objective = objective
    }

    /// The scenarios, in order: each multiple of `capacity`, then the flash crowd.
    public func replay(manifests: String, recommendation: CapacityResult.Recommendation, capacity: Double) throws -> [CapacityResult.WhatIfOutcome] {
        let loaded = try ConfigurationLoader.load([(name: "recommended manifests", text: manifests)], protocolName: script.proxy.configuration.protocolName)
        var scenarios: [(String, Double, (Double) -> ArrivalProcess)] = section.whatIfMultiples.map { m in
            ("\(Self.trim(m))× capacity", m * capacity, { share in .poisson(rate: m * capacity * share) })
        }
        if section.flashCrowd > 1 {
            // Half the capacity, then a crowd of `flashCrowd` times it for a third of the run.
            let d = section.whatIfDuration.seconds
            let base = capacity / 2, m = section.flashCrowd
            scenarios.append(("flash crowd \(Self.trim(m))× half the capacity", base * m, { share in
                .flashCrowd(base: base * share, multiplier: m, at: .seconds(d / 4), rise: .seconds(d / 24), hold: .seconds(d / 3), decay: .seconds(d / 24))
            }))
        }
        let configurations = scenarios.map { _, _, arrivals in configuration(proxy: loaded.configuration, recommendation: recommendation, arrivals: arrivals) }
        let runs = try Simulation.runAll(configurations)
        return zip(scenarios, runs).map { scenario, run in outcome(scenario.0, offered: scenario.1, run) }
    }

    /// Whether the recommended manifests keep the objective at `multiple` × `capacity`, judged
    /// as the search judges a point: on the upper end of the 95 % interval of the percentile
    /// of successful calls over `replications` runs of `duration`.
    public func holds(manifests: String, recommendation: CapacityResult.Recommendation, capacity: Double, multiple: Double, replications: Int,
                      duration: Duration) throws -> (holds: Bool, upper: Double) {
        let loaded = try ConfigurationLoader.load([(name: "recommended manifests", text: manifests)], protocolName: script.proxy.configuration.protocolName)
        let configurations = (0..<replications).map { i in
            var c = configuration(proxy: loaded.configuration, recommendation: recommendation, arrivals: { .poisson(rate: multiple * capacity * $0) },
                                  seed: script.seed &+ 1000 &+ UInt64(i))
            c.duration = duration
            c.autoscaling = nil  // the limit alone: a scale-out must not be what keeps the objective
            return c
        }
        let p = try Simulation.runAll(configurations).map { Double($0.successLatency.valueAtPercentile(objective.percentile)) / 1e9 }
        let interval = ConfidenceInterval(p)
        let upper = interval.mean + interval.halfWidth
        return (upper < objective.bound, upper)
    }

    func configuration(proxy: ProxyConfiguration, recommendation: CapacityResult.Recommendation, arrivals: (Double) -> ArrivalProcess,
                       seed: UInt64? = nil) -> SimulationConfiguration {
        var c = script.simulationConfiguration(seed: seed ?? script.seed)
        c.proxy = proxy
        c.clients = zip(script.clientModels, script.clientShares).map { model, share in
            var m = model
            m.concurrency = nil
            m.arrivals = arrivals(share)
            return m
        }
        c.duration = section.whatIfDuration
        c.warmUp = section.warmUp
        c.faults = []
        c.callLimit = nil
        c.timeSeriesInterval = .seconds(5)
        if let cluster = script.autoscaling?.cluster ?? script.proxy.configuration.clusters.first(where: { !$0.hosts.isEmpty })?.name {
            let hosts = script.proxy.configuration.clusters.first { $0.name == cluster }?.hosts.count ?? 1
            var rule = script.autoscaling ?? AutoscalingRule(cluster: cluster, threshold: 1, maxHosts: hosts * 4)
            rule.window = .seconds(recommendation.autoscalingWindowSeconds)
            rule.threshold = recommendation.autoscalingThreshold
            c.autoscaling = rule
        }
        return c
    }

    func outcome(_ scenario: String, offered: Double, _ run: SimulationResult) -> CapacityResult.WhatIfOutcome {
        let windows = run.timeSeries.windows.filter { $0.start >= run.window.warmUpSeconds }
        // Rate-limited calls per 30 s: on average over the measured windows, and the most in
        // six 5-second windows at a time.
        let mean = windows.isEmpty ? 0 : Double(windows.reduce(0) { $0 + $1.rateLimited }) * 30 / (Double(windows.count) * 5)
        var per30: [Double] = []
        var i = 0
        while i < windows.count {
            let slice = windows[i..<min(i + 6, windows.count)]
            per30.append(Double(slice.reduce(0) { $0 + $1.rateLimited }) * 6 / Double(slice.count))
            i += 6
        }
        let p = Double(run.successLatency.valueAtPercentile(objective.percentile)) / 1e9
        let seconds = max(run.window.measuredSeconds, 1e-9)
        return CapacityResult.WhatIfOutcome(
            scenario: scenario, offered: offered, admitted: Double(run.calls.success) / seconds,
            rejectedPer30s: mean, rejectedPer30sMax: per30.max() ?? 0,
            p99: p, withinObjective: p < objective.bound, scaleEvents: run.scaleEvents.map(\.seconds), hostsAtEnd: hostCount + run.scaleEvents.reduce(0) { $0 + $1.hosts },
            calls: run.calls.sent, rejectedOverTime: run.timeSeries.windows.map { [$0.start, Double($0.rateLimited)] })
    }

    var hostCount: Int {
        let cluster = script.autoscaling?.cluster ?? script.proxy.configuration.clusters.first { !$0.hosts.isEmpty }?.name
        return script.proxy.configuration.clusters.first { $0.name == cluster }?.hosts.count ?? 0
    }

    static func trim(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.3g", v) }
}
