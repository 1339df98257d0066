import Foundation
import MetaProtocol
import Results
import TrafficModel
import Testing

@testable import Simulation

@Suite("Simulation: determinism and soundness")
struct DeterminismTests {
    @Test func theSameSeedGivesTheSameRunAndAnotherSeedAnother() throws {
        let config = Scenarios.simple(seed: 7, behaviour: HostBehaviour(workers: 2, serviceTime: .exponential(mean: 0.01), errors: [.serverError(0.05)]))
        let a = try Simulation.run(config), b = try Simulation.run(config)
        #expect(a.traceHash == b.traceHash)
        #expect(a.eventsDispatched == b.eventsDispatched)
        #expect(a.calls == b.calls)
        #expect(a.latency == b.latency)
        #expect(a.timeSeries == b.timeSeries)
        var other = config
        other.seed = 8
        let c = try Simulation.run(other)
        #expect(c.traceHash != a.traceHash)
        #expect(a.violations == [] && c.violations == [])
    }

    /// The whole result, not a chosen few fields: two runs of a busy configuration (two proxy
    /// instances, a crash and a restart, retries, errors, a queue limit, two methods) encode to
    /// the same bytes — the versioned JSON `result.json` holds, under a fixed provenance. A
    /// field the comparison above leaves out (hosts, coverage, footprint, wire bytes, counters
    /// per instance, latency by method) that differed between runs fails here; a third run
    /// with another seed must give other bytes. (`RunCommandTests` compares two processes.)
    @Test func theSameSeedGivesTheSameResultBytes() throws {
        let config = ResultAndLifetimeTests.busyRun()
        let provenance = ResultAndLifetimeTests.provenance
        let a = try Simulation.run(config).runResult(provenance: provenance).encoded()
        let b = try Simulation.run(config).runResult(provenance: provenance).encoded()
        #expect(a.count > 1000)
        #expect(a == b, "two runs of one configuration encoded differently")
        var other = config
        other.seed = config.seed + 1
        let c = try Simulation.run(other).runResult(provenance: provenance).encoded()
        #expect(c != a)
    }

    @Test func everyCallIsAnsweredAndCounted() throws {
        let r = try Simulation.run(Scenarios.simple(behaviour: HostBehaviour(serviceTime: .constant(0.002))))
        #expect(r.violations == [])
        #expect(r.calls.sent > 900 && r.calls.sent < 1100, "about 100 a second for 10 s")
        #expect(r.calls.answered == r.calls.sent)
        #expect(r.calls.success == r.calls.sent)
        #expect(r.proxy.accepted == r.calls.sent && r.proxy.upstreamResponses == r.calls.sent)
        // Constant 2 ms service, three hosts at 100/s: almost never a queue.
        #expect(abs(r.latencySeconds(atPercentile: 50) - 0.002) < 0.0001)
        #expect(r.hosts.map(\.completions).reduce(0, +) == r.calls.sent)
        #expect(r.timeSeries.windows.count >= 10)
    }

    @Test func replicationsDoNotDependOnThreads() throws {
        let config = Scenarios.simple(seed: 100, behaviour: HostBehaviour(serviceTime: .exponential(mean: 0.005)), duration: .seconds(3))
        let parallel = try Simulation.replicate(config, count: 6, parallel: true)
        let serial = try Simulation.replicate(config, count: 6, parallel: false)
        #expect(parallel.map(\.traceHash) == serial.map(\.traceHash))
        #expect(Set(parallel.map(\.traceHash)).count == 6)
    }
}
