import MetaProtocol
import TrafficModel
import Testing

@testable import Simulation

/// The synthetic world's parts, each checked against a figure worked out by hand: limits per
/// proxy instance and shared through the service, arrival shapes, faults, autoscaling, the
/// network's cost of bytes, and memory that does not grow with the number of calls.
@Suite("Simulation: scenarios")
struct ScenarioTests {
    static let overLimit = Int(LocalReplyError.Kind.overLimit.rawValue)

    @Test func eachProxyInstanceAdmitsTheLocalLimitAndTheServiceSharesOne() throws {
        // 1,500 calls a second for 10 s; a bucket of 100 refilled by 100 each second admits
        // 100 + 9 · 100 = 1,000 calls per bucket.
        var config = Scenarios.simple(hosts: 3, behaviour: HostBehaviour(workers: 100, serviceTime: .constant(0.001)), rate: 1500)
        config.proxy.localRateLimit = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 100, tokensPerFill: 100, fillInterval: .seconds(1)))
        for instances in [1, 3] {
            config.proxyInstances = instances
            let r = try Simulation.run(config)
            #expect(r.violations == [])
            #expect(r.proxyInstances.map { $0.accepted - $0.localReplies[Self.overLimit] } == Array(repeating: 1000, count: instances),
                    "a local limit is per instance: \(instances) instances admit \(instances) × 1,000")
        }
        // The same limit in the global service: one bucket for all instances. Asked until 9.5 s,
        // so 100 + 9 · 100 again, whatever the number of instances.
        var global = Scenarios.simple(hosts: 3, behaviour: HostBehaviour(workers: 100, serviceTime: .constant(0.001)), rate: 1500, duration: .milliseconds(9500))
        global.proxy.globalRateLimit = GlobalRateLimitConfiguration(domain: "live", descriptors: [.init(key: "method", attribute: "method")])
        global.rateLimitService = RateLimitServiceModel(bucket: TokenBucketSpec(maxTokens: 100, tokensPerFill: 100, fillInterval: .seconds(1)))
        global.proxyInstances = 3
        let r = try Simulation.run(global)
        #expect(r.violations == [])
        #expect(r.proxy.accepted - r.proxy.localReplies[Self.overLimit] == 1000)
        #expect(r.proxy.globalRateLimitOverLimit == r.proxy.accepted - 1000)
    }

    @Test func aFlashCrowdHasTheVolumeAndShapeItDescribes() throws {
        // 100/s, rising to 2,000/s over 2 s from t = 10 s, holding 5 s, falling over 3 s:
        // 2,500 + 1,900 + 9,500 + 2,850 = 16,750 calls in 25 s.
        let crowd = ArrivalProcess.flashCrowd(base: 100, multiplier: 20, at: .seconds(10), rise: .seconds(2), hold: .seconds(5), decay: .seconds(3))
        let r = try Simulation.run(Scenarios.simple(hosts: 10, behaviour: HostBehaviour(workers: 50, serviceTime: .constant(0.001)), duration: .seconds(25), arrivals: crowd))
        #expect(r.violations == [])
        #expect(abs(r.calls.sent - 16_750) < 518, "16,750 ± 4·129")
        let window = { (second: Int) in r.timeSeries.windows.first { Int($0.start.rounded()) == second }!.sent }
        #expect(abs(window(5) - 100) < 40, "100 ± 4·10 before")
        #expect(abs(window(14) - 2000) < 179, "2,000 ± 4·44.7 at the peak")
        #expect(abs(window(22) - 100) < 40, "and back")
    }

    @Test func rateLimitedCallsDriveAutoscaling() throws {
        // A flash crowd against a local limit of 200/s: over-limit replies pass 1,000 in 10 s,
        // two more hosts come 5 s later, then two more, up to 7.
        var config = Scenarios.simple(hosts: 3, behaviour: HostBehaviour(workers: 10, serviceTime: .constant(0.001)), duration: .seconds(40),
                                      arrivals: .flashCrowd(base: 100, multiplier: 10, at: .seconds(5), rise: .seconds(1), hold: .seconds(25), decay: .seconds(1)))
        config.proxy.localRateLimit = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 200, tokensPerFill: 200, fillInterval: .seconds(1)))
        config.autoscaling = AutoscalingRule(cluster: "svc", window: .seconds(10), threshold: 1000, hostsPerStep: 2, provisioningDelay: .seconds(5), maxHosts: 7)
        let r = try Simulation.run(config)
        #expect(r.violations == [])
        #expect(r.scaleEvents.map(\.hosts) == [2, 2])
        let first = r.scaleEvents[0].seconds
        #expect(first > 11 && first < 14, "the threshold is passed within 2 s of the crowd, plus 5 s provisioning")
        #expect(r.scaleEvents[1].seconds - first >= 5)
        #expect(r.timeSeries.windows.first!.hostsUp == 3 && r.timeSeries.windows.last!.hostsUp == 7)
        #expect(r.hosts.count == 7 && r.hosts[3...].allSatisfy { $0.completions > 0 }, "the new hosts take traffic")
    }

    @Test func aCrashIsRetriedElsewhereAndTheHostEjected() throws {
        var config = Scenarios.simple(hosts: 4, behaviour: HostBehaviour(workers: 4, serviceTime: .exponential(mean: 0.005)), rate: 400)
        config.proxy.clusters[0].outlierDetection = OutlierDetectionPolicy()
        config.proxy.routes[0].retry = RetryPolicy(numRetries: 2, retryOn: [.connectFailure, .reset])
        config.faults = [FaultEvent(at: .seconds(3), .crash(host: "10.0.0.1:9000")), FaultEvent(at: .seconds(6), .restart(host: "10.0.0.1:9000"))]
        let r = try Simulation.run(config)
        #expect(r.violations == [])
        #expect(r.calls.answered == r.calls.sent)
        #expect(r.calls.success == r.calls.sent, "every call hit by the crash succeeded on a retry")
        #expect(r.coverage["reset", default: 0] + r.coverage["connect failure", default: 0] > 0)
        #expect(r.coverage["retry", default: 0] > 0)
        #expect(r.coverage["ejection svc consecutive_5xx"] == 1, "ejected once, and out for 30 s: past the end")
        let crashed = r.hosts[1].completions, others = r.hosts.map(\.completions).filter { $0 != crashed }
        #expect(crashed < others.min()! / 2, "the crashed host served only until t = 3 s")
        #expect(r.timeSeries.windows.first { Int($0.start.rounded()) == 4 }!.hostsUp == 3)
        #expect(r.timeSeries.windows.first { Int($0.start.rounded()) == 7 }!.hostsUp == 4)
    }

    @Test func aPartitionEndsInPerTryTimeoutsRetriesAndAnEjection() throws {
        var config = Scenarios.simple(hosts: 4, behaviour: HostBehaviour(workers: 4, serviceTime: .exponential(mean: 0.005)), rate: 400)
        config.proxy.clusters[0].outlierDetection = OutlierDetectionPolicy()
        config.proxy.routes[0].timeout = .seconds(1)
        config.proxy.routes[0].retry = RetryPolicy(numRetries: 2, retryOn: [.perTryTimeout], perTryTimeout: .milliseconds(50))
        config.faults = [FaultEvent(at: .seconds(2), .partition(host: "10.0.0.0:9000")), FaultEvent(at: .seconds(5), .heal(host: "10.0.0.0:9000"))]
        let r = try Simulation.run(config)
        #expect(r.violations == [])
        // A call whose retry the breaker refused (at most 3 retries at once) is the only kind
        // that fails.
        #expect(r.calls.sent - r.calls.success == r.coverage["breaker svc rq_retry", default: 0])
        #expect(r.calls.sent - r.calls.success <= 2)
        #expect(r.coverage["per-try timeout", default: 0] >= 5)
        #expect(r.coverage["ejection svc consecutive_5xx"] == 1)
        // Held back by the 50 ms per-try timeout and a backoff, never by the 1 s route timeout.
        #expect(r.latencySeconds(atPercentile: 100) < 0.2)
        #expect(r.coverage["request timeout"] == nil)
    }

    @Test func leastRequestSteersAroundASlowHostWhereRoundRobinQueuesOnIt() throws {
        // Four hosts at 40 % load; host 0 is ten times slower from the start (400 % under
        // round robin: its queue grows for the whole run).
        func run(_ lb: LoadBalancerPolicy) throws -> SimulationResult {
            var config = Scenarios.simple(hosts: 4, behaviour: HostBehaviour(workers: 1, serviceTime: .exponential(mean: 0.002)), rate: 800, duration: .seconds(5), lb: lb)
            config.faults = [FaultEvent(at: .zero, .slowDown(host: "10.0.0.0:9000", factor: 10))]
            return try Simulation.run(config)
        }
        let rr = try run(.roundRobin), lr = try run(.leastRequest())
        #expect(rr.violations == [] && lr.violations == [])
        let rrShare = Double(rr.hosts[0].completions) / Double(rr.calls.sent), lrShare = Double(lr.hosts[0].completions) / Double(lr.calls.sent)
        #expect(abs(rrShare - 0.25) < 0.01, "round robin gives it a quarter regardless")
        #expect(lrShare < 0.1, "least request gives it what it can serve")
        #expect(lr.latencySeconds(atPercentile: 99) * 10 < rr.latencySeconds(atPercentile: 99))
    }

    @Test func bytesCostTimeOnTheWireAndAtTheHost() throws {
        // 0.5 ms per hop plus bytes at 1 Gbit/s, four hops (request and echoed response, each
        // client–proxy and proxy–host), 1 ms of service: no queueing at 50 calls a second.
        func p50(payload: Double, secondsPerByte: Double = 0) throws -> Double {
            var config = Scenarios.simple(hosts: 3, behaviour: HostBehaviour(workers: 10, serviceTime: .constant(0.001), secondsPerByte: secondsPerByte), rate: 50, duration: .seconds(5))
            let link = LinkModel(latency: .constant(0.0005), bandwidth: 125_000_000)
            config.network = NetworkModel(clientToProxy: link, proxyToHost: link)
            config.clients[0].payloadSize = .constant(payload)
            let r = try Simulation.run(config)
            #expect(r.violations == [])
            return r.latencySeconds(atPercentile: 50)
        }
        let small = try p50(payload: 20), large = try p50(payload: 122_880)
        let expectedSmall = 0.003 + 4 * 20 / 125e6, expectedLarge = 0.003 + 4 * 122_880 / 125e6
        #expect(abs(small - expectedSmall) / expectedSmall < 0.002)
        #expect(abs(large - expectedLarge) / expectedLarge < 0.002, "120 KB costs ~1 ms a hop at 1 Gbit/s")
        let processed = try p50(payload: 122_880, secondsPerByte: 1e-8)
        #expect(abs(processed - (expectedLarge + 122_880e-8)) / expectedLarge < 0.002, "and the host's per-byte cost on top")
    }

    @Test func aRecordedRateProfileIsReplayed() throws {
        let csv = "seconds,rate\n0,100\n5,300   # the match starts\n\n8,0\n"
        let profile = try ArrivalProcess.profile(csv: csv, source: "match.csv")
        #expect(profile == .profile([.init(at: .zero, rate: 100), .init(at: .seconds(5), rate: 300), .init(at: .seconds(8), rate: 0)]))
        let r = try Simulation.run(Scenarios.simple(duration: .seconds(10), arrivals: profile))
        let sent = { (range: Range<Int>) in r.timeSeries.windows.filter { range.contains(Int($0.start.rounded())) }.reduce(0) { $0 + $1.sent } }
        #expect(abs(sent(0..<5) - 500) < 90, "500 ± 4·22.4")
        #expect(abs(sent(5..<8) - 900) < 120, "900 ± 4·30")
        #expect(sent(8..<10) == 0)

        let bad: [(String, RateProfileError)] = [
            ("0,100\n5,abc\n", RateProfileError(source: "p.csv", line: 2, message: "rate is not a number: `abc`")),
            ("0,1\n0,2\n", RateProfileError(source: "p.csv", line: 2, message: "times must rise: 0 s comes after 0.0 s")),
            ("# header-less\n1,2,3\n", RateProfileError(source: "p.csv", line: 2, message: "expected two fields `seconds,rate`, found 3")),
            ("0,-5\n", RateProfileError(source: "p.csv", line: 1, message: "rate must be a finite number ≥ 0, found -5")),
            ("seconds,rate\n", RateProfileError(source: "p.csv", line: 0, message: "no rows")),
        ]
        for (text, error) in bad {
            #expect(throws: error) { try ArrivalProcess.profile(csv: text, source: "p.csv") }
        }
    }

    @Test func memoryFollowsWhatIsInFlightNotHowManyCalls() throws {
        let behaviour = HostBehaviour(workers: 2, serviceTime: .exponential(mean: 0.004))
        let short = try Simulation.run(Scenarios.simple(hosts: 4, behaviour: behaviour, rate: 1000, duration: .seconds(2)))
        let long = try Simulation.run(Scenarios.simple(hosts: 4, behaviour: behaviour, rate: 1000, duration: .seconds(20)))
        #expect(long.calls.sent > 9 * short.calls.sent)
        // Ten times the calls; the working sets stay at what a 50 %-loaded system holds at once.
        for (a, b) in [(short.footprint.events, long.footprint.events), (short.footprint.jobs, long.footprint.jobs),
                       (short.footprint.messages, long.footprint.messages), (short.footprint.outstandingCalls, long.footprint.outstandingCalls)] {
            #expect(b < 2 * a + 32)
        }
        #expect(long.footprint.outstandingCalls < 100)
    }
}
