import Testing

@testable import MetaProtocol

/// One answer per request, under a randomized mix of everything that can go wrong: answers of
/// every kind in any order, resets, failed and slow connects, clients leaving, faults, limits,
/// retries and timeouts. Each seed is a different world; each must end with every accepted
/// request answered exactly once or counted as dropped, and nothing held.
@Suite("Proxy core: one answer per request")
struct ConservationPropertyTests {
    static func configuration(_ r: inout SeededRandom) -> ProxyConfiguration {
        let retry = RetryPolicy(numRetries: r.nextIndex(3), retryOn: [.connectFailure, .reset, .perTryTimeout, .unavailable, .serverError],
                                perTryTimeout: r.nextIndex(2) == 0 ? nil : .milliseconds(Int64(50 + r.nextIndex(200))))
        let multiplexing = r.nextIndex(2) == 0
        let breaker = CircuitBreakerThresholds(maxConnections: 2 + r.nextIndex(6), maxPendingRequests: 1 + r.nextIndex(8),
                                               maxRequests: 2 + r.nextIndex(20), maxRetries: r.nextIndex(3),
                                               retryBudget: r.nextIndex(3) == 0 ? RetryBudget() : nil)
        let outlier = r.nextIndex(2) == 0 ? OutlierDetectionPolicy(consecutiveErrors: 2, interval: .milliseconds(500), baseEjectionTime: .seconds(1), maxEjectionPercent: 50) : nil
        var main = Configs.cluster("main", hosts: 1 + r.nextIndex(4), labels: { ["v": $0 % 2 == 0 ? "a" : "b"] },
                                   subsets: [SubsetConfiguration(name: "a", labels: ["v": "a"]), SubsetConfiguration(name: "none", labels: ["v": "z"])], breaker: breaker, outlier: outlier, multiplexing: multiplexing)
        main.connectTimeout = .milliseconds(300)
        let routes = [
            RouteConfiguration(name: "split", match: [AttributeCondition("method", .prefix("s"))],
                               destinations: [RouteDestination(cluster: "main", subset: "a", weight: 2), RouteDestination(cluster: "main", weight: 6),
                                              RouteDestination(cluster: "main", subset: "none", weight: 1)],
                               mirrors: [MirrorPolicy(destination: RouteDestination(cluster: "shadow"), percentage: 30)],
                               timeout: .milliseconds(Int64(300 + r.nextIndex(2000))), retry: retry,
                               fault: FaultInjection(abort: (.unspecified, 5), delay: (.milliseconds(100), 10))),
            RouteConfiguration(name: "rest", destinations: [RouteDestination(cluster: "main")], timeout: .seconds(1), retry: retry),
        ]
        let local = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 20, tokensPerFill: 10, fillInterval: .milliseconds(100)))
        let global = GlobalRateLimitConfiguration(match: [AttributeCondition("method", .exact("limited"))], domain: "d",
                                                  descriptors: [.init(key: "m", attribute: "method")], timeout: .milliseconds(30), denyOnFailure: r.nextIndex(2) == 0)
        return ProxyConfiguration(protocolName: "test", routes: routes, clusters: [main, Configs.cluster("shadow", hosts: 1)],
                                  localRateLimit: local, globalRateLimit: global, tracing: TracingConfiguration(samplingPercentage: 50))
    }

    static func run(seed: UInt64, events: Int) throws -> TestDriver {
        var r = SeededRandom(seed: seed)
        let d = try TestDriver.make(configuration(&r), seed: seed, rateLimitService: true, accessLog: true)
        d.autoConnect = false
        var nextID: [UInt64] = Array(repeating: 1, count: 6)
        var answeredSent = Set<Int>()
        var answeredCalls = 0
        var handledConnects = 0
        let methods = ["say", "sing", "other", "limited"]
        for _ in 0..<events {
            switch r.nextIndex(100) {
            case 0..<40:
                let client = 1 + r.nextIndex(5)
                d.request([("method", methods[r.nextIndex(methods.count)])], id: nextID[client], from: UInt64(client), type: r.nextIndex(10) == 0 ? .oneway : .request)
                nextID[client] += 1
            case 40..<65:
                let open = d.sent.indices.filter { !answeredSent.contains($0) }
                if let i = open.isEmpty ? nil : open[r.nextIndex(open.count)] {
                    answeredSent.insert(i)
                    let categories: [ResponseStatus.Category] = [.success, .success, .success, .applicationError, .serverError, .unavailable]
                    d.answer(i, categories[r.nextIndex(categories.count)])
                }
            case 65..<72:
                if let s = d.sent.randomElement(using: &r) { d.core.upstreamClosed(s.connection); d.settle() }
            case 72..<82:
                if handledConnects < d.connects.count {
                    let c = d.connects[handledConnects].id
                    handledConnects += 1
                    if r.nextIndex(5) == 0 { d.core.upstreamConnectFailed(c) } else { d.core.upstreamConnected(c) }
                    d.settle()
                }
            case 82..<85:
                d.core.downstreamClosed(DownstreamID(UInt64(1 + r.nextIndex(5))))
            case 85..<90:
                if answeredCalls < d.rateLimitCalls.count {
                    let decisions: [GlobalRateLimitDecision] = [.ok, .ok, .overLimit, .error]
                    d.core.globalRateLimitAnswered(d.rateLimitCalls[answeredCalls].call, decisions[r.nextIndex(decisions.count)])
                    answeredCalls += 1
                    d.settle()
                }
            default:
                d.advance(to: Double(d.now.nanoseconds) / 1e9 + r.nextUnit() * 0.2)
            }
            let violations = d.core.invariantViolations()
            if !violations.isEmpty { Issue.record("seed \(seed): \(violations)"); break }
        }
        // Let the world finish: connect what is waiting, answer what is left, run out the clock.
        for _ in 0..<5 {
            while handledConnects < d.connects.count {
                d.core.upstreamConnected(d.connects[handledConnects].id)
                handledConnects += 1
                d.settle()
            }
            for i in d.sent.indices where !answeredSent.contains(i) {
                answeredSent.insert(i)
                d.answer(i)
            }
            d.advance(to: Double(d.now.nanoseconds) / 1e9 + 30)
        }
        return d
    }

    /// The most retries the breaker of `thresholds` can ever grant at once: `max_retries`, or,
    /// with a retry budget, the budget at the most requests and pending requests the same
    /// breaker lets in (the budget only grows with the load, and the load is capped).
    static func retryCeiling(_ thresholds: CircuitBreakerThresholds) -> Int {
        thresholds.retryBudget.map { $0.allowedRetries(active: thresholds.maxRequests, pending: thresholds.maxPendingRequests) } ?? thresholds.maxRetries
    }

    @Test func everyAcceptedRequestGetsExactlyOneAnswerOrACountedDrop() throws {
        var total = CoreCounters()
        var overflows = 0
        // Retries against the breaker, which `invariantViolations()` leaves out (its limit moves
        // with the load under a budget): worlds whose retry limit was reached, retries the
        // breaker refused, and worlds with `max_retries` 0 whose route still asked for retries.
        var worldsAtTheRetryLimit = 0
        var retryOverflows = 0
        var worldsRefusingEveryRetry = 0
        for seed in UInt64(0)..<200 {
            let d = try Self.run(seed: seed, events: 400)
            let c = d.core.counters
            total.accepted += c.accepted
            total.dropped += c.dropped
            total.retries += c.retries
            total.perTryTimeouts += c.perTryTimeouts
            total.timeouts += c.timeouts
            total.upstreamResets += c.upstreamResets
            total.upstreamConnectFailures += c.upstreamConnectFailures
            total.upstreamConnectTimeouts += c.upstreamConnectTimeouts
            total.lateResponsesDropped += c.lateResponsesDropped
            total.globalRateLimitTimeouts += c.globalRateLimitTimeouts
            total.onewayForwarded += c.onewayForwarded
            total.mirrorResponsesDropped += c.mirrorResponsesDropped
            for k in c.localReplies.indices { total.localReplies[k] += c.localReplies[k] }
            overflows += CircuitBreaker.Resource.allCases.map { d.core.circuitBreaker("main")!.overflows($0) }.reduce(0, +)
            let breaker = d.core.circuitBreaker("main")!
            let retriesAtOnce = breaker.highWater[CircuitBreaker.Resource.retries.rawValue], ceiling = Self.retryCeiling(breaker.thresholds)
            #expect(retriesAtOnce <= ceiling, "seed \(seed): \(retriesAtOnce) retries at once, over the breaker's \(ceiling)")
            if retriesAtOnce == ceiling && ceiling > 0 { worldsAtTheRetryLimit += 1 }
            retryOverflows += breaker.overflows(.retries)
            if breaker.thresholds.retryBudget == nil && breaker.thresholds.maxRetries == 0 {
                // Every retry must have been refused by the breaker: none started, each refusal
                // counted (the routes' policies allow up to two).
                #expect(d.core.clusterStats("main")!.retries == 0, "seed \(seed): a retry started past max_retries 0")
                if breaker.overflows(.retries) > 0 { worldsRefusingEveryRetry += 1 }
            }
            #expect(d.core.invariantViolations() == [], "seed \(seed)")
            #expect(c.isConserved, "seed \(seed)")
            #expect(d.core.isIdle, "seed \(seed): something is still held")
            #expect(c.active == 0)
            // Each (client, request id) answered at most once, and the answers add up.
            var answers: [String: Int] = [:]
            for r in d.responses { answers["\(r.downstream.rawValue)/\(r.message.requestID)", default: 0] += 1 }
            for l in d.localReplies { answers["\(l.downstream.rawValue)/\(l.request.requestID)", default: 0] += 1 }
            #expect(answers.values.allSatisfy { $0 == 1 }, "seed \(seed): a request answered twice")
            let onewayLocal = c.totalLocalReplies - d.localReplies.count
            #expect(answers.count + c.dropped + c.onewayForwarded + onewayLocal == c.accepted, "seed \(seed)")
            #expect(d.accessLog.count == c.accepted, "one access-log line per request")
        }
        // The worlds did exercise what they are meant to: every path below was taken.
        for (what, n) in [("accepted", total.accepted), ("dropped", total.dropped), ("retries", total.retries),
                          ("per-try timeouts", total.perTryTimeouts), ("timeouts", total.timeouts), ("resets", total.upstreamResets),
                          ("connect failures", total.upstreamConnectFailures), ("connect timeouts", total.upstreamConnectTimeouts),
                          ("late answers", total.lateResponsesDropped), ("rate-limit timeouts", total.globalRateLimitTimeouts),
                          ("oneways", total.onewayForwarded), ("mirror answers", total.mirrorResponsesDropped), ("breaker overflows", overflows)] {
            #expect(n > 0, "no \(what) in 200 worlds")
        }
        for kind in [LocalReplyError.Kind.overflow, .overLimit, .timeout, .unspecified, .noHealthyUpstream] {
            #expect(total.localReplies[Int(kind.rawValue)] > 0, "no \(kind) local reply in 200 worlds")
        }
        // The retry limit was exercised, not merely never reached: without retries counted
        // against the breaker none of these happen (and the max_retries-0 worlds would retry).
        #expect(worldsAtTheRetryLimit > 0, "no world reached its retry limit")
        #expect(retryOverflows > 0, "the breaker never refused a retry")
        #expect(worldsRefusingEveryRetry > 0, "no max_retries-0 world had a retry to refuse")
    }

    @Test func theSameSeedGivesTheSameRun() throws {
        let a = try Self.run(seed: 12345, events: 600), b = try Self.run(seed: 12345, events: 600)
        #expect(a.core.counters == b.core.counters)
        #expect(a.core.prometheusText() == b.core.prometheusText())
        #expect(a.accessLog.map(\.line) == b.accessLog.map(\.line))
        let c = try Self.run(seed: 54321, events: 600)
        #expect(a.core.counters != c.core.counters)
    }
}
