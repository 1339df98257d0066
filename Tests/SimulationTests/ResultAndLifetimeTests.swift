import Foundation
import MetaProtocol
import Results
import Testing
import TrafficModel

@testable import Simulation

/// The simulator's result as a versioned run result, and what a finished run leaves behind.
@Suite("Simulation: run results and lifetimes")
struct ResultAndLifetimeTests {
    static func busyRun(seed: UInt64 = 3) -> SimulationConfiguration {
        var c = Scenarios.simple(seed: seed, hosts: 4, behaviour: HostBehaviour(workers: 2, queueLimit: 3, serviceTime: .exponential(mean: 0.01), errors: [.serverError(0.05)]),
                                 rate: 400, duration: .seconds(5))
        c.proxyInstances = 2
        c.warmUp = .seconds(1)
        c.clients[0].mix = [CallTemplate(weight: 3, attributes: [KeyValue("method", "get")]), CallTemplate(weight: 1, attributes: [KeyValue("method", "put")])]
        c.proxy.routes[0].retry = RetryPolicy(numRetries: 1, retryOn: [.serverError])
        c.faults = [FaultEvent(at: .seconds(2), .crash(host: "10.0.0.1:9000")), FaultEvent(at: .seconds(3), .restart(host: "10.0.0.1:9000"))]
        return c
    }

    static let provenance = Provenance(build: "test", machine: Machine(cores: 2, cpuModel: "test", operatingSystem: "test"), seed: 3, commandLine: ["test"])

    @Test func theResultConvertsToARunResultAndBackWithoutLoss() throws {
        let r = try Simulation.run(Self.busyRun())
        #expect(r.violations == [] && r.calls.localReplies.reduce(0, +) > 0 && r.latencyByMethod.count == 2 && !r.coverage.isEmpty)
        let run = r.runResult(provenance: Self.provenance)
        let bytes = try run.encoded()
        let back = try SimulationResult(try RunResult.decode(bytes))
        // Every stored property of the result has a place in the run result: one added later
        // without one fails here.
        let labels = Mirror(reflecting: r).children.map { $0.label! }
        #expect(labels == ["seed", "traceHash", "eventsDispatched", "simulatedSeconds", "window", "calls", "latency", "successLatency", "latencyByMethod",
                           "proxy", "proxyInstances", "hosts", "timeSeries", "coverage", "violations", "scaleEvents", "footprint", "wireBytes"])
        #expect(back.seed == r.seed && back.traceHash == r.traceHash && back.eventsDispatched == r.eventsDispatched && back.simulatedSeconds == r.simulatedSeconds)
        #expect(back.window == r.window && back.calls == r.calls && back.hosts == r.hosts && back.timeSeries == r.timeSeries)
        #expect(back.proxy == r.proxy && back.proxyInstances == r.proxyInstances && back.coverage == r.coverage && back.violations == r.violations)
        #expect(back.scaleEvents == r.scaleEvents && back.footprint == r.footprint && back.wireBytes == r.wireBytes)
        #expect(LatencyDistribution(back.latency) == LatencyDistribution(r.latency))
        #expect(LatencyDistribution(back.successLatency) == LatencyDistribution(r.successLatency))
        #expect(back.latencyByMethod.map(\.method) == r.latencyByMethod.map(\.method))
        #expect(zip(back.latencyByMethod, r.latencyByMethod).allSatisfy { LatencyDistribution($0.histogram) == LatencyDistribution($1.histogram) })
        #expect(try back.runResult(provenance: Self.provenance).encoded() == bytes)
        // How each latency was measured, and its samples.
        #expect(run.latency("latency")!.samples == UInt64(r.calls.answered) && run.latency("latency")!.measurement.clock == .virtual)
    }

    @Test func theSameSeedGivesTheSameResultBytes() throws {
        let a = try Simulation.run(Self.busyRun()).runResult(provenance: Self.provenance).encoded()
        let b = try Simulation.run(Self.busyRun()).runResult(provenance: Self.provenance).encoded()
        let other = try Simulation.run(Self.busyRun(seed: 4)).runResult(provenance: Self.provenance).encoded()
        #expect(a == b && a != other)
    }

    /// Weak references to what a run made.
    final class Left {
        weak var world: World?
        weak var core: ProxyCore?
        weak var proxy: SimProxy?
    }

    static func runAndForget(_ c: SimulationConfiguration) throws -> Left {
        let left = Left()
        let world = try World(c)
        _ = world.run()
        left.world = world
        left.core = world.cores.first
        left.proxy = world.proxies.first
        return left
    }

    @Test func aFinishedRunFreesItsWorldAndCores() throws {
        let left = try Self.runAndForget(Self.busyRun())
        #expect(left.world == nil && left.core == nil && left.proxy == nil)
    }

    @Test func twoHundredReplicationsLeaveNothingBehind() throws {
        // Every world, core and proxy of 200 runs is freed: what replications and campaigns
        // hold does not grow with the number of runs.
        var c = Scenarios.simple(hosts: 3, behaviour: HostBehaviour(workers: 2, serviceTime: .exponential(mean: 0.005)), rate: 200, duration: .seconds(1))
        c.proxyInstances = 2
        var left: [Left] = []
        for i in 0..<200 {
            c.seed = UInt64(i)
            left.append(try Self.runAndForget(c))
        }
        #expect(left.filter { $0.world != nil || $0.core != nil || $0.proxy != nil }.count == 0)
    }
}
