import Foundation
import LoadGenerator
import Results
import Runner
import TrafficModel
import Workload

/// Measures capacity points on real sockets: the workload's mesh (``RealMesh``) started once,
/// and each point `rounds` load-generator runs in a row, so its percentile has a Student's t
/// interval over rounds. Latency counts from each call's intended send time, so a point the
/// mesh cannot keep up with shows it instead of hiding it.
public final class RealCapacityDriver: CapacityDriver, @unchecked Sendable {
    public let script: WorkloadScript
    public let section: WorkloadScript.CapacitySection
    let mesh: RealMesh
    var roundsRun = 0

    /// Starts the mesh with `manifests` (the workload's, local limit taken out).
    public init(script: WorkloadScript, section: WorkloadScript.CapacitySection, mplab: String, overrides: [String], manifests: String, folder: URL,
                log: @escaping @Sendable (String) -> Void) async throws {
        self.script = script
        self.section = section
        mesh = try await RealMesh.start(script, mplab: mplab, seed: script.seed, overrides: overrides, folder: folder, manifests: manifests, log: log)
    }

    public func stop() { mesh.stop() }

    public var name: String { "real" }
    public var method: String {
        "\(section.rounds) rounds per point on loopback through mplab proxy, each \(Expectation.duration(section.roundDuration.seconds)) "
            + "(the first fifth left out), Student's t 95 % bound on the percentile; direct path p50 \(Expectation.duration(mesh.directRoundTrip))"
    }

    func plans(_ clients: [ClientModel], pacing: (ClientModel) -> LoadPlan.Pacing, connections: (ClientModel) -> Int, depth: (ClientModel) -> Int) -> [LoadPlan] {
        roundsRun += 1
        return clients.enumerated().map { i, model in
            LoadPlan(port: mesh.proxyPort, protocolName: mesh.protocolName, pacing: pacing(model), connections: connections(model), depth: depth(model),
                     duration: section.roundDuration, warmUp: section.roundDuration / 5, requestTimeout: script.real.requestTimeout, mix: model.mix,
                     payloadSize: model.payloadSize, seed: script.seed &+ UInt64(roundsRun * 64 + i))
        }
    }

    public func measure(rate: Double, objective: CapacityResult.Objective) async throws -> CapacityResult.Point {
        var percentiles: [Double] = [], medians: [Double] = []
        var success = 0, sent = 0, seconds = 0.0
        for _ in 0..<section.rounds {
            let reports = try await run(plans(script.clients(offering: rate), pacing: { .openLoop($0.arrivals) }, connections: { _ in self.script.real.connections },
                                              depth: { _ in 128 }))
            var latency = LatencyDistribution()
            for r in reports {
                latency.merge(r.figures.latency)
                success += r.figures.calls.success
                // Calls the generator could not send in time count against the point too.
                sent += r.figures.calls.sent - r.figures.calls.oneway + r.figures.notSent
            }
            seconds += reports.map(\.measuredSeconds).max() ?? 0
            percentiles.append(Double(latency.nanoseconds(atPercentile: objective.percentile)) / 1e9)
            medians.append(Double(latency.nanoseconds(atPercentile: 50)) / 1e9)
        }
        return Self.point(rate: rate, percentiles: percentiles, medians: medians, success: success, sent: sent, seconds: seconds, objective: objective)
    }

    public func closedLoop(callers: Int) async throws -> Double {
        // Callers as connections × requests in flight on each, exactly `callers` in all.
        let connections = (1...min(callers, 8)).last { callers % $0 == 0 } ?? 1
        let reports = try await run(plans([script.closedLoopClient(callers: callers)], pacing: { _ in .closedLoop }, connections: { _ in connections },
                                          depth: { _ in callers / connections }))
        return reports.reduce(0) { $0 + Double($1.figures.calls.success) / max($1.measuredSeconds, 1e-9) }
    }

    /// Runs the plans at once.
    func run(_ plans: [LoadPlan]) async throws -> [LoadReport] {
        var tasks: [Task<LoadReport, Error>] = []
        for plan in plans { tasks.append(Task { try await LoadRun.run(plan) }) }
        var out: [LoadReport] = []
        for t in tasks { out.append(try await t.value) }
        return out
    }
}
