import Foundation
import MetaProtocol
import Results
import Runner
import Simulation
import TrafficModel
import Workload

/// Measures capacity points in the simulator: each point is `replications` independent runs
/// (seeds seed, seed + 1, …), so its percentile has a Student's t interval; the same seed gives
/// the same search. The workload's own local rate limit, faults and autoscaling are left out:
/// the search measures what the service can take, not what the limit lets through.
public struct SimulatedCapacityDriver: CapacityDriver {
    public var script: WorkloadScript
    public var section: WorkloadScript.CapacitySection
    /// The proxy the points run through (the workload's, local limit removed).
    public var proxy: ProxyConfiguration

    public init(script: WorkloadScript, section: WorkloadScript.CapacitySection) {
        self.script = script
        self.section = section
        var proxy = script.proxy.configuration
        proxy.localRateLimit = nil
        self.proxy = proxy
    }

    public var name: String { "simulated" }
    public var method: String {
        "\(section.replications) replications per point, each \(Expectation.duration(section.pointDuration.seconds)) of simulated time "
            + "(the first \(Expectation.duration(section.warmUp.seconds)) left out), Student's t 95 % bound on the percentile"
    }

    /// The simulation of `clients` for `duration`, with seed `seed`.
    func configuration(clients: [ClientModel], duration: Duration, warmUp: Duration, seed: UInt64) -> SimulationConfiguration {
        var c = script.simulationConfiguration(seed: seed)
        c.proxy = proxy
        c.clients = clients
        c.duration = duration
        c.warmUp = warmUp
        c.faults = []
        c.autoscaling = nil
        c.callLimit = nil
        return c
    }

    public func measure(rate: Double, objective: CapacityResult.Objective) async throws -> CapacityResult.Point {
        let configurations = (0..<section.replications).map {
            configuration(clients: script.clients(offering: rate), duration: section.pointDuration, warmUp: section.warmUp, seed: script.seed &+ UInt64($0))
        }
        let runs = try Simulation.runAll(configurations)
        let percentiles = runs.map { Double($0.latency.valueAtPercentile(objective.percentile)) / 1e9 }
        let medians = runs.map { Double($0.latency.valueAtPercentile(50)) / 1e9 }
        let success = runs.reduce(0) { $0 + $1.calls.success }
        let sent = runs.reduce(0) { $0 + $1.calls.sent - $1.calls.oneway }
        let seconds = runs.reduce(0) { $0 + $1.window.measuredSeconds }
        return Self.point(rate: rate, percentiles: percentiles, medians: medians, success: success, sent: sent, seconds: seconds, objective: objective)
    }

    public func closedLoop(callers: Int) async throws -> Double {
        let c = configuration(clients: [script.closedLoopClient(callers: callers)], duration: section.sweepDuration,
                              warmUp: min(section.warmUp, section.sweepDuration / 5), seed: script.seed)
        let run = try Simulation.run(c)
        return Double(run.calls.success) / max(run.window.measuredSeconds, 1e-9)
    }
}
