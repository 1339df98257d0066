import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import NIOPosix
import RateLimitService
import Testing
import Workload

/// The real proxy's global rate limits against a real rate-limit service on loopback: Envoy's
/// gRPC API, served by the same ``RateLimitServer`` `mplab ratelimit-server` runs. (That two
/// `mplab proxy` processes share one server's limit is checked by `scripts/test`, as processes.)
@Suite("Global rate limits over Envoy's rate-limit service API", .serialized)
struct GlobalRateLimitTests {
    /// Calls of method 1.1 are limited to `perHour` (a token every 3600/perHour s: none refills
    /// while a test runs); other methods have no limit.
    static func rules(perHour: Int) -> RateLimitRules {
        RateLimitRules(domains: ["mplab": [.init(key: "method", value: "1.1", limit: .init(requestsPerUnit: perHour, unit: .hour))]])
    }

    /// A running service and its port.
    struct Service {
        let server: RateLimitServer
        let task: Task<Void, Error>
        let port: Int

        static func start(_ rules: RateLimitRules, port: Int = 0) async throws -> Service {
            let server = RateLimitServer(rules: rules)
            let bound = AsyncStream<Int>.makeStream()
            let task = Task { try await server.serve(host: "127.0.0.1", port: port) { bound.continuation.yield($0) } }
            var iterator = bound.stream.makeAsyncIterator()
            guard let p = await iterator.next() else { throw Fixtures.TimedOut() }
            return Service(server: server, task: task, port: p)
        }

        func stop() async {
            task.cancel()
            _ = await task.result
        }
    }

    /// A livepacket proxy in front of `servers` whose methods 1.1 ask the service at `port`.
    static func proxy(_ servers: SyntheticServer, servicePort: Int, deny: Bool = true, timeout: Duration = .seconds(30),
                      localTokens: Int? = nil, services: RateLimitServices) async throws -> ProxyServer {
        var config = ProxyConfiguration(protocolName: "livepacket",
                                        routes: [RouteConfiguration(name: "r", match: [], destinations: [RouteDestination(cluster: "svc")])],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        config.globalRateLimit = GlobalRateLimitConfiguration(match: [AttributeCondition("method", .exact("1.1"))], domain: "mplab",
                                                              descriptors: [.init(key: "method", attribute: "method")], timeout: timeout,
                                                              denyOnFailure: deny, service: "outbound|\(servicePort)||127.0.0.1")
        if let localTokens {
            config.localRateLimit = LocalRateLimitConfiguration(tokenBucket: nil, conditions: [
                .init(match: [AttributeCondition("method", .exact("1.1"))],
                      tokenBucket: TokenBucketSpec(maxTokens: localTokens, tokensPerFill: localTokens, fillInterval: .seconds(3600))),
            ])
        }
        return try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                           host: "127.0.0.1", port: 0, group: Fixtures.group, rateLimitServices: services)
    }

    static let limited = [KeyValue("method", "1.1")]
    static let unlimited = [KeyValue("method", "2.1")]

    static func succeeded(_ answers: [Message]) -> Int { answers.filter { $0.status?.isSuccess == true }.count }

    /// Checks that the proxy answered everything, and stops what a test started.
    static func finish(_ client: TestClient, _ proxy: ProxyServer, _ services: RateLimitServices, _ servers: SyntheticServer, _ service: Service) async {
        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await services.shutdown()
        await servers.stop()
        await service.stop()
    }

    @Test func twoProxiesShareTheServicesLimitWhileEachKeepsItsOwnLocalLimit() async throws {
        let service = try await Service.start(Self.rules(perHour: 20))
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        // Each proxy its own client and connection, as two processes would have.
        let a = try await Self.proxy(servers, servicePort: service.port, localTokens: 12, services: RateLimitServices())
        let b = try await Self.proxy(servers, servicePort: service.port, localTokens: 12, services: RateLimitServices())
        let ca = try await TestClient.connect(to: a.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let cb = try await TestClient.connect(to: b.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let clock = ContinuousClock()
        let started = clock.now
        async let fromA = ca.calls(15, concurrency: 3) { _ in Self.limited }
        async let fromB = cb.calls(15, concurrency: 3) { _ in Self.limited }
        let (answersA, answersB) = try await (fromA, fromB)
        let elapsed = clock.now - started
        // Local limits are per instance: 12 + 12 of the 30 reach the service, which admits its
        // 20 in total, not 20 each (plus a token per 180 s the test took, none in practice).
        let admitted = Self.succeeded(answersA) + Self.succeeded(answersB)
        #expect(admitted == 20 + Int(elapsed / .seconds(180)), "admitted \(admitted) in \(elapsed)")
        let (coreA, _) = await a.counters(), (coreB, _) = await b.counters()
        #expect(coreA.localReplies[Int(LocalReplyError.Kind.overLimit.rawValue)] - coreA.globalRateLimitOverLimit == 3, "local refusals at a")
        #expect(coreB.localReplies[Int(LocalReplyError.Kind.overLimit.rawValue)] - coreB.globalRateLimitOverLimit == 3, "local refusals at b")
        #expect(coreA.globalRateLimitOverLimit + coreB.globalRateLimitOverLimit == 4)
        #expect(coreA.globalRateLimitErrors + coreB.globalRateLimitErrors == 0)
        #expect(service.server.counters.requests == 24)
        // Calls no limit covers never ask.
        #expect(Self.succeeded(try await ca.calls(10, concurrency: 2) { _ in Self.unlimited }) == 10)
        #expect(service.server.counters.requests == 24)
        for c in [ca, cb] { await c.close() }
        #expect(await Fixtures.conserved(a))
        #expect(await Fixtures.conserved(b))
        await a.shutdown()
        await b.shutdown()
        await servers.stop()
        await service.stop()
    }

    @Test(arguments: [true, false])
    func aServiceKilledMidRunFollowsTheFailureModeAndIsUsedAgainWhenBack(deny: Bool) async throws {
        var service = try await Service.start(Self.rules(perHour: 1000))
        let port = service.port
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        let services = RateLimitServices()
        let timeout = Duration.seconds(2)
        let proxy = try await Self.proxy(servers, servicePort: port, deny: deny, timeout: timeout, services: services)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        #expect(Self.succeeded(try await client.calls(5, concurrency: 1) { _ in Self.limited }) == 5)
        #expect(service.server.counters.requests == 5)

        await service.stop()
        let clock = ContinuousClock()
        for _ in 0..<5 {
            let started = clock.now
            let answer = try await client.call(Self.limited)
            let took = clock.now - started
            // Deny refuses with the protocol's over-limit error; allow lets the call through.
            #expect(answer?.status?.isSuccess == !deny, "\(String(describing: answer?.status))")
            // By the timeout at the latest (the margin is for a loaded machine, far below the
            // client's own 60 s deadline).
            #expect(took < timeout + .seconds(15), "answered after \(took)")
        }
        let (during, _) = await proxy.counters()
        #expect(during.globalRateLimitErrors + during.globalRateLimitTimeouts == 5)
        #expect(during.globalRateLimitFailedOpen == (deny ? 0 : 5))

        // Back on the same port: the proxy reconnects and asks it again.
        service = try await Service.start(Self.rules(perHour: 1000), port: port)
        try await Fixtures.waitUntil(limit: .seconds(600)) {
            _ = try? await client.call(Self.limited)
            return service.server.counters.requests > 0
        }
        let before = service.server.counters.requests
        #expect(Self.succeeded(try await client.calls(5, concurrency: 1) { _ in Self.limited }) == 5)
        #expect(service.server.counters.requests == before + 5)
        await Self.finish(client, proxy, services, servers, service)
    }

    @Test func aStalledServiceHoldsOnlyTheCallsItCoversAndOnlyUpToTheBound() async throws {
        let service = try await Service.start(Self.rules(perHour: 1000))
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        let services = RateLimitServices(maxInFlight: 2)
        let proxy = try await Self.proxy(servers, servicePort: service.port, deny: true, timeout: .seconds(600), services: services)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        // Connected and answering first, so that nothing below waits for a connection.
        #expect(Self.succeeded([try await client.call(Self.limited)].compactMap { $0 }) == 1)

        service.server.hold()
        let covered = (0..<2).map { _ in Task { try await client.call(Self.limited) } }
        try await Fixtures.waitUntil(limit: .seconds(600)) { service.server.received == 3 }
        // Calls no global limit covers go through while the service sits on the others.
        #expect(Self.succeeded(try await client.calls(50, concurrency: 8) { _ in Self.unlimited }) == 50)
        // Past the bound of calls in flight, a covered call fails at once (deny: refused).
        let third = try await client.call(Self.limited)
        #expect(third?.status?.isSuccess == false)
        #expect(services.counters.first?.counters.refusedBusy == 1)
        #expect(await proxy.activeRequests() == 2, "the two held calls wait in the filter chain")

        service.server.release()
        for task in covered { #expect(try await task.value?.status?.isSuccess == true) }
        await Self.finish(client, proxy, services, servers, service)
    }
}
