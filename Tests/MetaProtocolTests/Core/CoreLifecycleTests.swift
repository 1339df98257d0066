import Testing

@testable import MetaProtocol

@Suite("Proxy core: the request lifecycle")
struct CoreLifecycleTests {
    @Test func aRequestIsRoutedSentWithAnUpstreamIDAndAnsweredWithTheClientsID() throws {
        let d = try TestDriver.make(Configs.single())
        d.request([("method", "sayHello")], id: 777)
        #expect(d.connects.count == 1)
        #expect(d.sent.count == 1)
        let upstreamID = d.sent[0].message.requestID
        #expect(upstreamID != 777, "the upstream id is the proxy's own")
        d.answer(0)
        #expect(d.responses.count == 1)
        #expect(d.responses[0].message.requestID == 777)
        #expect(d.core.counters.upstreamResponses == 1)
        #expect(d.core.counters.isConserved)
        #expect(d.core.isIdle)
    }

    @Test func requestsShareAConnectionAndAnswersMatchByID() throws {
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 1)))
        for id in 1...5 { d.request([("method", "m")], id: UInt64(id)) }
        #expect(d.connects.count == 1, "multiplexed: one connection per host")
        #expect(Set(d.sent.map(\.message.requestID)).count == 5)
        for i in [3, 0, 4, 1, 2] { d.answer(i) }
        #expect(d.responses.map(\.message.requestID) == [4, 1, 5, 2, 3])
        #expect(d.core.isIdle)
    }

    @Test func exclusiveConnectionsCarryOneRequestAtATime() throws {
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 1, multiplexing: false)))
        d.autoConnect = false
        d.request([], id: 1)
        d.request([], id: 2)
        #expect(d.connects.count == 2, "one connection opens for each waiting request")
        d.core.upstreamConnected(d.connects[0].id)
        #expect(d.sent.count == 1)
        #expect(d.connects.count == 2, "no more: the other is on its way")
        d.core.upstreamConnected(d.connects[1].id)
        d.autoConnect = true
        #expect(d.sent.count == 2)
        #expect(d.sent[0].connection != d.sent[1].connection)
        d.answer(0)
        d.request([], id: 3)
        #expect(d.sent.count == 3)
        #expect(d.sent[2].connection == d.sent[0].connection, "a freed connection is reused")
    }

    @Test func heartbeatsAreAnsweredLocallyAndOnewaysForwarded() throws {
        let d = try TestDriver.make(Configs.single())
        d.request([], id: 9, type: .heartbeat)
        #expect(d.heartbeatReplies.count == 1)
        #expect(d.sent.isEmpty)
        d.request([("method", "notify")], id: 10, type: .oneway)
        #expect(d.sent.count == 1)
        #expect(d.core.counters.onewayForwarded == 1)
        #expect(d.core.counters.accepted == 1)
        #expect(d.core.isIdle)
        #expect(d.responses.isEmpty && d.localReplies.isEmpty)
    }

    @Test func localRepliesForEachReason() throws {
        var config = Configs.single(route: RouteConfiguration(name: "r", match: [AttributeCondition("method", .exact("go"))],
                                                             destinations: [RouteDestination(cluster: "svc")]))
        config.routes.append(RouteConfiguration(name: "lost", match: [AttributeCondition("method", .exact("lost"))], destinations: [RouteDestination(cluster: "nowhere")]))
        config.clusters.append(ClusterConfiguration(name: "empty", hosts: []))
        config.routes.append(RouteConfiguration(name: "void", match: [AttributeCondition("method", .exact("void"))], destinations: [RouteDestination(cluster: "empty")]))
        let d = try TestDriver.make(config)
        d.request([("method", "other")], id: 1)
        d.request([("method", "lost")], id: 2)
        d.request([("method", "void")], id: 3)
        #expect(d.localReplies.map(\.error.kind) == [.routeNotFound, .clusterNotFound, .noHealthyUpstream])
        #expect(d.localReplies.map(\.request.requestID) == [1, 2, 3])
        #expect(d.core.counters.localReplies[Int(LocalReplyError.Kind.routeNotFound.rawValue)] == 1)
        #expect(d.core.isIdle)
    }

    @Test func circuitBreakerOverflowIsALocalReplyAndCountedOnce() throws {
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 2, breaker: .init(maxRequests: 3))))
        for id in 1...5 { d.request([], id: UInt64(id)) }
        #expect(d.sent.count == 3)
        #expect(d.localReplies.map(\.error.kind) == [.overflow, .overflow])
        #expect(d.core.circuitBreaker("svc")?.overflows(.requests) == 2)
        d.answer(0)
        d.request([], id: 6)
        #expect(d.sent.count == 4, "a freed request slot is used again")
    }

    @Test func pendingRequestsAreBoundedByTheBreaker() throws {
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 1, breaker: .init(maxPendingRequests: 2))))
        d.autoConnect = false
        for id in 1...4 { d.request([], id: UInt64(id)) }
        #expect(d.sent.isEmpty)
        #expect(d.localReplies.map(\.error.kind) == [.overflow, .overflow])
        #expect(d.core.circuitBreaker("svc")?.overflows(.pendingRequests) == 2)
        d.core.upstreamConnected(d.connects[0].id)
        #expect(d.sent.count == 2)
    }

    @Test func retriesOnUnavailableGoToAnotherHostAfterABackoff() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], retry: RetryPolicy(numRetries: 2))
        let d = try TestDriver.make(Configs.single(route: route))
        d.request([], id: 1)
        d.answer(0, .unavailable, code: 100)
        #expect(d.responses.isEmpty, "retrying, not answering")
        #expect(d.sent.count == 1, "waiting out the backoff")
        d.advance(to: 0.025)
        #expect(d.sent.count == 2)
        #expect(d.host(of: d.sent[1]) != d.host(of: d.sent[0]))
        d.answer(1)
        #expect(d.responses.count == 1)
        #expect(d.core.counters.retries == 1)
        #expect(d.core.isIdle)
    }

    @Test func retriesStopAtTheLimitAndForwardTheLastAnswer() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], retry: RetryPolicy(numRetries: 1))
        let d = try TestDriver.make(Configs.single(route: route))
        d.request([], id: 1)
        d.answer(0, .unavailable, code: 100)
        d.advance(to: 1)
        d.answer(1, .unavailable, code: 100)
        #expect(d.responses.count == 1)
        #expect(d.responses[0].message.status?.code == 100)
        #expect(d.core.counters.retries == 1)
    }

    @Test func applicationErrorsAreNotRetried() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], retry: RetryPolicy(numRetries: 3))
        let d = try TestDriver.make(Configs.single(route: route))
        d.request([], id: 1)
        d.answer(0, .applicationError, code: 40)
        #expect(d.responses.count == 1)
        #expect(d.core.counters.retries == 0)
    }

    @Test func retriesAreCountedAgainstTheBreaker() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], retry: RetryPolicy(numRetries: 1))
        let d = try TestDriver.make(Configs.single(route: route, cluster: Configs.cluster("svc", hosts: 3, breaker: .init(maxRetries: 1))))
        d.request([], id: 1)
        d.request([], id: 2)
        d.answer(0, .unavailable)
        d.answer(1, .unavailable)
        #expect(d.responses.count == 1, "the second retry was refused; its answer is forwarded")
        #expect(d.core.circuitBreaker("svc")?.overflows(.retries) == 1)
    }

    @Test func perTryTimeoutRetriesAndTheLateAnswerIsDropped() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")],
                                       retry: RetryPolicy(numRetries: 1, retryOn: [.perTryTimeout], perTryTimeout: .milliseconds(100)))
        let d = try TestDriver.make(Configs.single(route: route))
        d.request([], id: 1)
        d.advance(to: 0.1)
        #expect(d.core.counters.perTryTimeouts == 1)
        d.advance(to: 0.2)
        #expect(d.sent.count == 2)
        d.answer(0)  // the first try's answer, too late
        #expect(d.responses.isEmpty)
        #expect(d.core.counters.lateResponsesDropped == 1)
        d.answer(1)
        #expect(d.responses.count == 1)
        #expect(d.core.isIdle)
    }

    @Test func theOverallTimeoutAnswersAndLateAnswersAreDropped() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], timeout: .milliseconds(500))
        let d = try TestDriver.make(Configs.single(route: route))
        d.request([], id: 1)
        d.advance(to: 0.499)
        #expect(d.localReplies.isEmpty)
        d.advance(to: 0.5)
        #expect(d.localReplies.map(\.error.kind) == [.timeout])
        d.answer(0)
        #expect(d.responses.isEmpty)
        #expect(d.core.counters.lateResponsesDropped == 1)
        #expect(d.core.isIdle)
    }

    @Test func connectFailuresAreRetriedElsewhere() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], retry: RetryPolicy(numRetries: 1))
        let d = try TestDriver.make(Configs.single(route: route))
        d.autoConnect = false
        d.request([], id: 1)
        d.core.upstreamConnectFailed(d.connects[0].id)
        d.advance(to: 1)
        #expect(d.connects.count == 2)
        #expect(d.connects[1].address != d.connects[0].address)
        d.core.upstreamConnected(d.connects[1].id)
        d.answer(0)
        #expect(d.responses.count == 1)
    }

    @Test func aConnectTimeoutFailsTheWaitingRequests() throws {
        var cluster = Configs.cluster("svc", hosts: 1)
        cluster.connectTimeout = .seconds(1)
        let d = try TestDriver.make(Configs.single(cluster: cluster))
        d.autoConnect = false
        d.request([], id: 1)
        d.advance(to: 1)
        #expect(d.closed == [d.connects[0].id])
        #expect(d.localReplies.map(\.error.kind) == [.unspecified])
        #expect(d.core.counters.upstreamConnectTimeouts == 1)
        #expect(d.core.isIdle)
    }

    @Test func aResetFailsTheTriesOnTheConnection() throws {
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 1)))
        d.request([], id: 1)
        d.request([], id: 2)
        d.core.upstreamClosed(d.sent[0].connection)
        #expect(d.localReplies.map(\.request.requestID) == [1, 2])
        #expect(d.core.counters.upstreamResets == 1)
        d.request([], id: 3)
        #expect(d.connects.count == 2, "a new connection replaces the broken one")
    }

    @Test func aConnectionWhoseAnswersStopComingIsRetired() throws {
        // Mirrors to a host that never answers: entries no one waits for, with no timeout to
        // end them, pile up on its connection while the route's own host answers every call.
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")],
                                       mirrors: [MirrorPolicy(destination: RouteDestination(cluster: "shadow"))])
        let config = ProxyConfiguration(protocolName: "test", routes: [route],
                                        clusters: [Configs.cluster("svc", hosts: 1), Configs.cluster("shadow", hosts: 1)])
        let d = try TestDriver.make(config)
        let n = UpstreamConnection.maxUnanswered + 6
        for id in 1...n {
            d.request([], id: UInt64(id))
            if let i = d.sent.lastIndex(where: { d.addressOf[$0.connection]!.hasPrefix("10.0.3.") }) { d.answer(i) }
        }
        let mirrored = d.sent.filter { d.addressOf[$0.connection]!.hasPrefix("10.0.6.") }
        let first = try #require(mirrored.first?.connection)
        #expect(mirrored.filter { $0.connection == first }.count == UpstreamConnection.maxUnanswered, "none sent past the cap")
        #expect(d.core.counters.upstreamConnectionsClogged == 1)
        #expect(d.closed == [first], "its table of unanswered ids does not grow forever")
        #expect(d.connects.count == 3 && mirrored.last?.connection != first, "a new mirror connection takes over")
        #expect(d.responses.count == n && d.core.counters.upstreamConnectionsSilent == 0)
    }

    @Test func aClientLeavingDropsItsRequests() throws {
        let d = try TestDriver.make(Configs.single())
        d.request([], id: 1, from: 1)
        d.request([], id: 2, from: 2)
        d.core.downstreamClosed(DownstreamID(1))
        #expect(d.core.counters.dropped == 1)
        d.answer(0)
        d.answer(1)
        #expect(d.responses.map(\.downstream) == [DownstreamID(2)])
        #expect(d.core.counters.lateResponsesDropped == 1)
        #expect(d.core.counters.isConserved)
        #expect(d.core.isIdle)
    }

    @Test func mirrorsAreFireAndForget() throws {
        var config = Configs.single(route: RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")],
                                                             mirrors: [MirrorPolicy(destination: RouteDestination(cluster: "shadow"), percentage: 100)]))
        config.clusters.append(Configs.cluster("shadow", hosts: 1))
        let d = try TestDriver.make(config)
        d.request([], id: 1)  // the shadow connection is opened, this mirror is missed
        d.request([], id: 2)
        #expect(d.core.counters.mirrorsFailed == 1)
        #expect(d.core.counters.mirrorsSent == 1)
        let mirror = try #require(d.sent.firstIndex { d.host(of: $0).hasPrefix("10.0.6.") })
        d.answer(mirror)
        #expect(d.core.counters.mirrorResponsesDropped == 1)
        #expect(d.responses.isEmpty)
        for i in d.sent.indices where i != mirror { d.answer(i) }
        #expect(d.responses.map(\.message.requestID) == [1, 2])
        #expect(d.core.isIdle)
    }

    @Test func mutationsAndTraceContextTravelAsMutations() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")],
                                       requestMutation: [KeyValue("x-env", "prod")], responseMutation: [KeyValue("served-by", "mplab")])
        let d = try TestDriver.make(Configs.single(route: route, tracing: TracingConfiguration(samplingPercentage: 100)))
        d.request([("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")], id: 1)
        let m = d.sent[0].mutation
        #expect(m["x-env"] == "prod")
        let traceparent = try #require(m["traceparent"])
        #expect(traceparent.hasPrefix("00-0af7651916cd43dd8448eb211c80319c-"), "the client's trace goes on")
        #expect(!traceparent.contains("b7ad6b7169203331"), "with the proxy's own span")
        #expect(traceparent.hasSuffix("-01"))
        d.answer(0)
        #expect(d.responses[0].mutation["served-by"] == "mplab")
        d.request([], id: 2)
        #expect(d.sent[1].mutation["traceparent"]?.count == 55, "a trace is started when none came")
    }

    @Test func tracingIsSampledAtItsPercentage() throws {
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 3, breaker: .init(maxRequests: 10_000)),
                                                   tracing: TracingConfiguration(samplingPercentage: 25)), seed: 4)
        for id in 1...4000 { d.request([], id: UInt64(id)) }
        let sampled = d.sent.filter { $0.mutation["traceparent"]!.hasSuffix("-01") }.count
        #expect(abs(sampled - 1000) < 110, "1000 ± 4·27")
    }

    @Test func faultsAbortAndDelayTheirPercentage() throws {
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")],
                                       fault: FaultInjection(abort: (.unspecified, 10), delay: (.seconds(2), 50)))
        let d = try TestDriver.make(Configs.single(route: route, cluster: Configs.cluster("svc", hosts: 3, breaker: .init(maxRequests: 10_000))), seed: 8)
        for id in 1...2000 { d.request([], id: UInt64(id)) }
        let delayed = d.core.counters.filterDelays["fault"] ?? 0
        #expect(abs(delayed - 1000) < 90, "1000 ± 4·22.4 held")
        let abortedAtOnce = d.localReplies.count
        #expect(d.sent.count + abortedAtOnce == 2000 - delayed)
        d.advance(to: 2)
        let aborted = d.localReplies.count
        #expect(aborted - abortedAtOnce > 40, "held requests are aborted too, after their delay (100 ± 4·9.5)")
        #expect(abs(aborted - 200) < 54, "200 ± 4·13.4 in all")
        #expect(d.sent.count == 2000 - aborted)
        #expect(d.core.counters.filterReplies["fault"] == aborted)
    }

    @Test func aSwapKeepsTheBucketsOfAnUnchangedLocalLimit() throws {
        let local = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 3, tokensPerFill: 3, fillInterval: .seconds(60)))
        let d = try TestDriver.make(Configs.single(local: local))
        for id in 1...2 { d.request([], id: UInt64(id)) }
        var next = Configs.single(route: RouteConfiguration(name: "renamed", destinations: [RouteDestination(cluster: "svc")]), local: local)
        next.protocolName = "test"
        d.core.apply(try CompiledConfiguration.compile(next, capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)))
        for id in 3...5 { d.request([], id: UInt64(id)) }
        #expect(d.localReplies.map(\.request.requestID) == [4, 5], "one token was left, not a full bucket")
        next.localRateLimit = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 4, tokensPerFill: 4, fillInterval: .seconds(60)))
        d.core.apply(try CompiledConfiguration.compile(next, capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)))
        for id in 6...10 { d.request([], id: UInt64(id)) }
        #expect(d.localReplies.map(\.request.requestID) == [4, 5, 10], "a changed limit starts with its own full bucket")
    }

    @Test func localRateLimitRejectsWithOverLimit() throws {
        let local = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 5, tokensPerFill: 5, fillInterval: .seconds(60)),
                                                conditions: [.init(match: [AttributeCondition("method", .exact("sayHello"))],
                                                                   tokenBucket: TokenBucketSpec(maxTokens: 2, tokensPerFill: 2, fillInterval: .seconds(10)))])
        let d = try TestDriver.make(Configs.single(local: local))
        for id in 1...4 { d.request([("method", "sayHello")], id: UInt64(id)) }
        for id in 5...11 { d.request([("method", "other")], id: UInt64(id)) }
        #expect(d.localReplies.map(\.request.requestID) == [3, 4, 10, 11])
        #expect(d.localReplies.allSatisfy { $0.error.kind == .overLimit })
        d.advance(to: 10)
        d.request([("method", "sayHello")], id: 12)
        #expect(d.localReplies.count == 4)
        #expect(d.core.localRateLimiter?.conditionStats[0].limited == 2)
    }

    @Test func globalRateLimitAsksWithoutBlockingAndHonoursTimeoutAndFailureMode() throws {
        for deny in [false, true] {
            let global = GlobalRateLimitConfiguration(domain: "live", descriptors: [.init(key: "method", attribute: "method")],
                                                      timeout: .milliseconds(20), denyOnFailure: deny)
            let d = try TestDriver.make(Configs.single(global: global), rateLimitService: true)
            d.request([("method", "a")], id: 1)
            d.request([("method", "b")], id: 2)
            d.request([("method", "c")], id: 3)
            d.request([("method", "d")], id: 4)
            #expect(d.rateLimitCalls.count == 4)
            #expect(d.rateLimitCalls[0].domain == "live")
            #expect(d.rateLimitCalls[0].descriptors == [KeyValue("method", "a")])
            #expect(d.sent.isEmpty, "all four wait for the service, none blocks another")
            d.core.globalRateLimitAnswered(d.rateLimitCalls[1].call, .overLimit)
            d.core.globalRateLimitAnswered(d.rateLimitCalls[0].call, .ok)
            d.core.globalRateLimitAnswered(d.rateLimitCalls[2].call, .error)
            d.settle()
            d.advance(to: 0.02)  // call 4 times out
            d.core.globalRateLimitAnswered(d.rateLimitCalls[3].call, .ok)  // too late: ignored
            let passed = d.sent.map(\.message.attributes["method"]!.string).sorted()
            #expect(passed == (deny ? ["a"] : ["a", "c", "d"]))
            #expect(d.localReplies.map(\.request.requestID).sorted() == (deny ? [2, 3, 4] : [2]))
            #expect(d.core.counters.globalRateLimitTimeouts == 1)
        }
    }

    @Test func ejectedHostsAreNotPicked() throws {
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 3, outlier: OutlierDetectionPolicy(maxEjectionPercent: 50))))
        for id in 1...30 { d.request([], id: UInt64(id)) }
        let bad = d.host(of: d.sent[0])
        for i in d.sent.indices { d.answer(i, d.host(of: d.sent[i]) == bad ? .serverError : .success) }
        #expect(d.core.outlierDetector("svc")?.enforced[0] == 1)
        let before = d.sent.count
        for id in 31...60 { d.request([], id: UInt64(id)) }
        #expect(d.sent[before...].allSatisfy { d.host(of: $0) != bad })
        d.advance(to: 40)  // the first sweep 30 s after the ejection brings it back
        for id in 61...90 { d.request([], id: UInt64(id)) }
        #expect(d.sent[(before + 30)...].contains { d.host(of: $0) == bad })
    }

    @Test func accessLogAndPrometheusReflectWhatHappened() throws {
        let route = RouteConfiguration(name: "greet", destinations: [RouteDestination(cluster: "svc")])
        let d = try TestDriver.make(Configs.single(route: route), accessLog: true)
        d.request([("method", "sayHello"), ("interface", "demo.Greeter")], id: 1)
        d.request([("method", "sayBye"), ("interface", "demo.Greeter")], id: 2)
        d.advance(to: 0.003)
        d.answer(0)
        d.answer(1, .serverError, code: 80)
        #expect(d.accessLog.count == 2)
        #expect(d.accessLog[0].line.contains("demo.Greeter/sayHello route=greet cluster=svc host=10.0.3."))
        #expect(d.accessLog[0].duration == .milliseconds(3))
        let text = d.core.prometheusText()
        #expect(text.contains("mplab_requests_accepted_total 2\n"))
        #expect(text.contains("mplab_method_requests_total{route=\"greet\",method=\"sayHello\"} 1\n"))
        #expect(text.contains("mplab_method_requests_error_total{route=\"greet\",method=\"sayBye\"} 1\n"))
        #expect(text.contains("mplab_route_request_duration_seconds_bucket{route=\"greet\",le=\"0.005\"} 2\n"))
        #expect(text.contains("mplab_upstream_requests_total{route=\"greet\",cluster=\"svc\",host=\"" + d.host(of: d.sent[0]) + "\",method=\"sayHello\"} 1\n"))
        #expect(text.contains("mplab_cluster_circuit_breaker_overflow_total{cluster=\"svc\",resource=\"rq\"} 0\n"))
        #expect(text.contains("# TYPE mplab_route_request_duration_seconds histogram\n"))
    }

    @Test func aConfigurationSwapLeavesRequestsInFlightAlone() throws {
        let d = try TestDriver.make(Configs.single(route: RouteConfiguration(name: "old", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(1))))
        d.request([], id: 1)
        var next = Configs.single(route: RouteConfiguration(name: "new", destinations: [RouteDestination(cluster: "svc2")]),
                                  cluster: Configs.cluster("svc2", hosts: 2))
        next.protocolName = "test"
        d.core.apply(try CompiledConfiguration.compile(next, capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)))
        d.request([], id: 2)
        #expect(d.host(of: d.sent[1]).hasPrefix("10.0.4."), "new requests follow the new routes")
        d.answer(0)
        d.answer(1)
        #expect(d.responses.map(\.message.requestID) == [1, 2], "the old request still got its answer")
        #expect(d.core.isIdle)
        #expect(d.core.routeStats.map(\.name) == ["new", "old"])
    }

    @Test func hostsAddedAtTheEndGrowTheClusterInPlace() throws {
        let capabilities = CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)
        let outlier = OutlierDetectionPolicy(maxEjectionPercent: 50)
        let d = try TestDriver.make(Configs.single(cluster: Configs.cluster("svc", hosts: 2, breaker: .init(maxRequests: 10), outlier: outlier)))
        for id in 1...14 { d.request([], id: UInt64(id)) }  // 10 sent, 5 a host; 4 refused
        let bad = d.host(of: d.sent[0])
        for i in d.sent.indices where d.host(of: d.sent[i]) == bad { d.answer(i, .serverError) }
        #expect(d.core.outlierDetector("svc")?.isEjected(0) == true)
        let connectsBefore = d.connects.count, overflowBefore = d.core.circuitBreaker("svc")!.overflows(.requests)
        #expect(overflowBefore == 4)
        d.core.apply(try CompiledConfiguration.compile(Configs.single(cluster: Configs.cluster("svc", hosts: 3, breaker: .init(maxRequests: 10), outlier: outlier)),
                                                       capabilities: capabilities))
        #expect(d.core.outlierDetector("svc")?.isEjected(0) == true, "the ejection carries over")
        #expect(d.core.circuitBreaker("svc")!.overflows(.requests) == overflowBefore, "so does the breaker")
        #expect(d.core.clusterStats("svc")!.hostAddresses.count == 3)
        for i in d.sent.indices where d.host(of: d.sent[i]) != bad { d.answer(i) }
        for id in 11...12 { d.request([], id: UInt64(id)) }
        let new = d.sent.suffix(2).map { d.host(of: $0) }
        #expect(Set(new) == ["10.0.3.1:20880", "10.0.3.2:20880"], "the new host takes traffic; the ejected one none")
        #expect(d.connects.count == connectsBefore + 1, "only the new host needed a connection")
        #expect(d.closed.isEmpty)
        // Anything else changed: a fresh cluster.
        d.core.apply(try CompiledConfiguration.compile(Configs.single(cluster: Configs.cluster("svc", hosts: 3, breaker: .init(maxRequests: 11), outlier: outlier)),
                                                       capabilities: capabilities))
        #expect(d.core.circuitBreaker("svc")!.overflows(.requests) == 0)
        #expect(d.core.outlierDetector("svc")?.isEjected(0) == false)
    }

    @Test func aRequestHeldAcrossASwapFindsItsSubsetByNameAndTheOldPoolDrains() throws {
        // Before: v2 is subset 1 (hosts 2, 3). After: subset 1 is v1 and v2 is host 4 alone.
        func config(_ versions: [String], subsets: [String]) -> ProxyConfiguration {
            let cluster = Configs.cluster("svc", hosts: versions.count, labels: { ["version": versions[$0]] },
                                          subsets: subsets.map { SubsetConfiguration(name: $0, labels: ["version": $0]) })
            let slow = RouteConfiguration(name: "slow", match: [AttributeCondition("method", .exact("slow"))],
                                          destinations: [RouteDestination(cluster: "svc", subset: "v2")],
                                          fault: FaultInjection(delay: (.seconds(1), 100)))
            var c = Configs.single(route: RouteConfiguration(name: "rest", destinations: [RouteDestination(cluster: "svc", subset: "v1")]), cluster: cluster)
            c.routes.insert(slow, at: 0)
            return c
        }
        let capabilities = CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)
        let d = try TestDriver.make(config(["v1", "v1", "v2", "v2"], subsets: ["v1", "v2"]))
        d.request([("method", "fast")], id: 1)
        d.request([("method", "fast")], id: 2)
        d.answer(1)
        d.request([("method", "slow")], id: 3)
        #expect(d.sent.count == 2, "the slow one is held by its delay")
        let busy = d.sent[0].connection, idle = d.sent[1].connection
        d.core.apply(try CompiledConfiguration.compile(config(["v0", "v1", "v1", "v1", "v2"], subsets: ["v0", "v1", "v2"]), capabilities: capabilities))
        #expect(d.closed == [idle], "the replaced pool lets its idle connection go at once")
        d.answer(0)
        #expect(d.closed == [idle, busy], "and the busy one once its answer is in")
        d.advance(to: 1)
        #expect(d.sent.count == 3)
        #expect(d.host(of: d.sent[2]) == "10.0.3.4:20880", "v2 is found by name in the new cluster")
        d.answer(2)
        #expect(d.responses.map(\.message.requestID) == [2, 1, 3])
        #expect(d.core.isIdle && d.core.counters.isConserved)
    }
}

/// Filters of a driver's own: stop a request with a local reply, or replace an upstream answer
/// with one on the way back.
@Suite("Proxy core: custom filters")
struct CustomFilterTests {
    /// Refuses requests for `method: forbidden`; turns server errors into a local `unspecified`.
    final class Guard: MetaFilter {
        let name = "guard"
        var completed: [ExchangeOutcome] = []

        func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
            exchange.request.attributes["method"]?.equals("forbidden") == true ? .reply(LocalReplyError(.routeNotFound, message: "forbidden")) : .proceed
        }

        func onResponse(_ exchange: inout Exchange, response: Message?, now: Timestamp) -> FilterDecision {
            response?.status?.category == .serverError ? .reply(LocalReplyError(.unspecified, message: "hidden")) : .proceed
        }

        func onComplete(_ exchange: Exchange, now: Timestamp) { completed.append(exchange.outcome!) }
    }

    @Test func requestAndResponsePathsCanBothStopWithALocalReply() throws {
        let filter = Guard()
        let d = TestDriver()
        d.core = ProxyCore(configuration: try CompiledConfiguration.compile(Configs.single(), capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)),
                           clock: d, upstream: d, downstream: d, customFilters: [filter], seed: 1)
        d.request([("method", "forbidden")], id: 1)
        #expect(d.sent.isEmpty)
        d.request([("method", "ok")], id: 2)
        d.request([("method", "ok")], id: 3)
        d.answer(0)
        d.answer(1, .serverError, code: 80)
        #expect(d.localReplies.map(\.error.message) == ["forbidden", "hidden"])
        #expect(d.responses.map(\.message.requestID) == [2])
        #expect(filter.completed == [.localReply(.routeNotFound), .response(ResponseStatus(category: .success, code: 0)), .localReply(.unspecified)])
        #expect(d.core.counters.filterReplies["guard"] == 1)
        #expect(d.core.isIdle && d.core.counters.isConserved)
    }
}
