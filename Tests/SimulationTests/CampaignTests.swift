import MetaProtocol
import TrafficModel
import Testing

@testable import Simulation

@Suite("Simulation: fault campaigns")
struct CampaignTests {
    /// Five hosts behind breakers, outlier detection, a local limit, retries and timeouts.
    static func guarded(seed: UInt64 = 1) -> SimulationConfiguration {
        var c = Scenarios.simple(seed: seed, hosts: 5, behaviour: HostBehaviour(workers: 4, serviceTime: .exponential(mean: 0.004)), rate: 300,
                                 breaker: CircuitBreakerThresholds(maxConnections: 64, maxPendingRequests: 8, maxRequests: 40, maxRetries: 3))
        c.proxy.clusters[0].outlierDetection = OutlierDetectionPolicy(maxEjectionPercent: 40)
        c.proxy.routes[0].timeout = .milliseconds(400)
        c.proxy.routes[0].retry = RetryPolicy(numRetries: 2, retryOn: .default.union(.perTryTimeout), perTryTimeout: .milliseconds(100))
        c.proxy.localRateLimit = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 400, tokensPerFill: 280, fillInterval: .seconds(1)))
        return c
    }

    @Test func aCampaignReportsWhatFiredAndNoInvariantBreaks() throws {
        let campaign = FaultCampaign(base: Self.guarded(), runs: 16, faultsPerRun: 2...5)
        let report = try campaign.run()
        #expect(report.violations == [], "\(report.violations.prefix(3))")
        #expect(Set(report.traceHashes).count == 16, "each run has its own timeline")
        // Fixed seeds, so what fired is a fixed outcome; these are the mechanisms the faults
        // are there to reach.
        for name in ["ejection svc consecutive_5xx", "retry", "per-try timeout", "filter local_ratelimit"] {
            #expect(report.runs(firing: name) > 0, "\(name) never fired:\n\(report.text)")
        }
        #expect(report.mechanisms.map(\.name).contains("breaker svc rq_pending"), "every mechanism is listed, fired or not")
        #expect(report.text.contains("16 runs, 0 invariant violations"))
        // A flagged run replays alone: its configuration is a function of the run number.
        let replay = try Simulation.run(campaign.configuration(run: 5))
        #expect(replay.traceHash == report.traceHashes[5])
    }

    @Test func theTimelineIsDrawnFromTheSeed() {
        let campaign = FaultCampaign(base: Self.guarded(), runs: 4, faultsPerRun: 3...3)
        let a = campaign.configuration(run: 2).faults, b = campaign.configuration(run: 2).faults, c = campaign.configuration(run: 3).faults
        #expect(a == b && a != c)
        #expect(a.count == 6, "each fault and its undoing")
        #expect(a.allSatisfy { $0.at <= .seconds(10) })
    }

    @Test func mechanismsFollowTheConfiguration() {
        let names = CampaignReport.mechanisms(of: Self.guarded())
        #expect(names == ["breaker svc cx", "breaker svc rq_pending", "breaker svc rq", "breaker svc rq_retry", "ejection svc consecutive_5xx", "ejection svc success_rate",
                          "filter local_ratelimit", "retry", "per-try timeout", "request timeout"])
        #expect(CampaignReport.mechanisms(of: Scenarios.simple()) == ["breaker svc cx", "breaker svc rq_pending", "breaker svc rq", "breaker svc rq_retry", "request timeout"])
    }
}
