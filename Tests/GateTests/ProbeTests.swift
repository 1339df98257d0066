import Gate
import MetaProtocol
import Testing

@Suite("Gate: hot-path probes")
struct ProbeTests {
    @Test(arguments: HotPathProbe.names)
    func everyProbeRunsInProcess(name: String) throws {
        let probe = try #require(HotPathProbe.named(name))
        var between = 0, after = 0
        probe.run(iterations: 200, warmUp: 20, injection: .init(copyFrames: true, extraWork: 3), between: { between += 1 }, after: { after += 1 })
        #expect(between == 1 && after == 1)
    }

    @Test func theCoreProbeTakesEveryRequestThroughTheCore() {
        let driver = NullDriver()
        for i in 0..<300 { driver.roundTrip(copyingFrames: i % 2 == 0) }
        #expect(driver.core.counters.accepted == 300)
        #expect(driver.core.counters.upstreamResponses == 300, "every request answered by an upstream, none locally")
        #expect(driver.core.counters.isConserved)
    }

    @Test func theDecisionPathRoutesAndPicks() {
        var path = DecisionPath(policy: .maglev())
        let decisions = (0..<1000).map { _ in path.decide() }
        #expect(decisions.allSatisfy { $0 >= 0 }, "the breaker and the bucket admit every decision")
        #expect(Set(decisions).count > 100, "picks spread over the 1000 hosts")
    }
}
