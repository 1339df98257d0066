import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import TrafficModel
import NIOCore
import NIOPosix
import Testing
import Workload

/// The real proxy on loopback: a client writing real frames, the proxy, and synthetic servers.
/// Every test ends by checking the proxy answered or counted every request and holds none.
@Suite("Proxy on sockets: end to end", .serialized)
struct EndToEndTests {

    /// The talk's MetaRouter, DestinationRule and ServiceEntry, with the endpoints on loopback.
    static func talkManifests(v1: SyntheticServer, v2: SyntheticServer) -> String {
        let endpoints = (v1.addresses.map { ($0, "v1") } + v2.addresses.map { ($0, "v2") })
            .map { "    - { address: 127.0.0.1, ports: { tcp-metaprotocol-livepacket-qza: \($0.0.port!) }, labels: { version: \($0.1) } }" }
            .joined(separator: "\n")
        let talk = try! String(contentsOf: URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Workloads/configs/qza-traffic-split.yaml"), encoding: .utf8)
        return talk.components(separatedBy: "  endpoints:\n")[0] + "  endpoints:\n" + endpoints + "\n"
    }

    @Test func theTalksSplitHoldsOverRealConnections() async throws {
        let v1 = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        let v2 = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0, 0], behaviour: .instant, group: Fixtures.group)
        let loaded = try ConfigurationLoader.load([("talk.yaml", Self.talkManifests(v1: v1, v2: v2))])
        let config = try loaded.compile(capabilities: LivePacketCodec.capabilities)
        let proxy = try await ProxyServer.start(configuration: config, codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, settings: ProxySettings(seed: 7))
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let answers = try await client.calls(2000, concurrency: 32) { i in [KeyValue("cmd", "153"), KeyValue("sub_cmd", i % 2 == 0 ? "1" : "2")] }
        #expect(answers.allSatisfy { $0.status?.isSuccess == true })
        let toV1 = await v1.counters().reduce(0) { $0 + $1.calls }, toV2 = await v2.counters().reduce(0) { $0 + $1.calls }
        #expect(toV1 + toV2 == 2000)
        #expect(abs(toV1 - 400) < 72, "20 % of 2000 ± 4·17.9: \(toV1)")
        // Other commands have no route: LivePacket's "not found".
        let unroutable = try await client.call([KeyValue("cmd", "153"), KeyValue("sub_cmd", "3")])
        #expect(unroutable?.status == ResponseStatus(category: .unavailable, code: 2))
        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await v1.stop()
        await v2.stop()
    }

    @Test(arguments: ["livepacket", "dubbo"])
    func limitsAndMissingRoutesAnswerWithTheProtocolsOwnErrors(protocolName: String) async throws {
        let servers = try await SyntheticServer.start(protocolName: protocolName, ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        let method = protocolName == "dubbo" ? "sayHello" : "1.1"
        var config = ProxyConfiguration(protocolName: protocolName,
                                        routes: [RouteConfiguration(name: "r", match: [AttributeCondition("method", .exact(method))], destinations: [RouteDestination(cluster: "svc")])],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        config.localRateLimit = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 5, tokensPerFill: 5, fillInterval: .seconds(60)))
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: protocolName), codec: Fixtures.codec(protocolName),
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: protocolName, group: Fixtures.group)
        let answers = try await client.calls(8, concurrency: 1) { _ in [KeyValue("method", method)] }
        #expect(answers.prefix(5).allSatisfy { $0.status?.isSuccess == true })
        let limited = answers.suffix(3).map { $0.status }
        let missing = try await client.call([KeyValue("method", protocolName == "dubbo" ? "other" : "2.2")])?.status
        if protocolName == "dubbo" {
            #expect(limited.allSatisfy { $0 == ResponseStatus(category: .unavailable, code: 100) }, "threadpool exhausted: \(limited)")
            #expect(missing == ResponseStatus(category: .unavailable, code: 60), "service not found")
        } else {
            #expect(limited.allSatisfy { $0 == ResponseStatus(category: .unavailable, code: 5) }, "over limit: \(limited)")
            #expect(missing == ResponseStatus(category: .unavailable, code: 2), "not found")
        }
        await client.close()
        let (core, _) = await proxy.counters()
        #expect(core.localReplies[Int(LocalReplyError.Kind.overLimit.rawValue)] == 3)
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }

    @Test func anUpstreamKilledMidFlightEndsInAnswersNeverAHang() async throws {
        // The host to be killed holds its calls far longer than the kill can be late on a busy
        // machine (with 200 ms calls, one fresh-clone run killed it after it had answered them
        // all, and saw no reset); the other two answer in 200 ms.
        let doomed = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(600)), group: Fixtures.group)
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0.2)), group: Fixtures.group)
        let config = ProxyConfiguration(protocolName: "livepacket",
                                        routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(300),
                                                                    retry: RetryPolicy(numRetries: 2, retryOn: [.reset, .connectFailure]))],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(doomed, version: "v1") + Fixtures.hosts(servers, version: "v1"),
                                                                        circuitBreaker: .init(maxRetries: 100))])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        async let answers = client.calls(60, concurrency: 60) { _ in [KeyValue("method", "1.1")] }
        // Killed while it holds calls.
        try await Fixtures.waitUntil { await doomed.counters()[0].calls >= 10 }
        let held = await doomed.counters()[0]
        #expect(held.answered == 0, "the doomed host answers nothing before it is killed")
        await doomed.kill(0)
        let all = try await answers
        #expect(all.count == 60, "every call answered")
        #expect(all.allSatisfy { $0.status?.isSuccess == true }, "the killed host's calls were retried on the others")
        let (core, _) = await proxy.counters()
        #expect(core.upstreamResets >= 1 && core.retries >= 10, "\(core.upstreamResets) resets, \(core.retries) retries")
        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
        await doomed.stop()
    }

    @Test func aConfigurationSwappedUnderLoadLosesNoRequest() async throws {
        let v1 = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: HostBehaviour(workers: nil, serviceTime: .uniform(low: 0, high: 0.004)), group: Fixtures.group)
        let v2 = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: HostBehaviour(workers: nil, serviceTime: .uniform(low: 0, high: 0.004)), group: Fixtures.group)
        func config(_ subset: String) throws -> CompiledConfiguration {
            try Fixtures.compile(ProxyConfiguration(protocolName: "livepacket",
                                                    routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc", subset: subset)])],
                                                    clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(v1, version: "v1") + Fixtures.hosts(v2, version: "v2"),
                                                                                    subsets: [.init(name: "v1", labels: ["version": "v1"]), .init(name: "v2", labels: ["version": "v2"])])]),
                                 protocolName: "livepacket")
        }
        let proxy = try await ProxyServer.start(configuration: try config("v1"), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        async let answers = client.calls(3000, concurrency: 32) { _ in [KeyValue("method", "1.1")] }
        for i in 0..<20 {
            try await Task.sleep(for: .milliseconds(5))
            await proxy.apply(try config(i % 2 == 0 ? "v2" : "v1"))
        }
        let all = try await answers
        #expect(all.count == 3000 && all.allSatisfy { $0.status?.isSuccess == true })
        let toV1 = await v1.counters().reduce(0) { $0 + $1.calls }, toV2 = await v2.counters().reduce(0) { $0 + $1.calls }
        #expect(toV1 > 0 && toV2 > 0 && toV1 + toV2 == 3000, "both configurations served")
        #expect(await proxy.counters().core.configurationSwaps == 20)
        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await v1.stop()
        await v2.stop()
    }

    @Test func exclusivePoolsAndTimeoutsOnRealConnections() async throws {
        // One call per upstream connection: ten at once need ten connections. Each call of
        // method 1.1 takes 2 s, so all ten are in flight together however slowly the client
        // sends them; 2.2 takes a minute, so a 20 ms timeout always comes first.
        let behaviour = HostBehaviour(workers: nil, serviceTime: .constant(2), serviceTimeByMethod: [MethodServiceTime("2.2", .constant(60))])
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: behaviour, group: Fixtures.group)
        let config = ProxyConfiguration(protocolName: "livepacket",
                                        routes: [RouteConfiguration(name: "fast", match: [AttributeCondition("method", .exact("1.1"))], destinations: [RouteDestination(cluster: "svc")]),
                                                 RouteConfiguration(name: "impatient", destinations: [RouteDestination(cluster: "svc")], timeout: .milliseconds(20))],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"), multiplexing: false)])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let answers = try await client.calls(10, concurrency: 10) { _ in [KeyValue("method", "1.1")] }
        #expect(answers.allSatisfy { $0.status?.isSuccess == true })
        #expect(await servers.counters()[0].connections == 10)
        // A 20 ms route timeout against a minute's service: LivePacket's "timeout" status.
        let late = try await client.call([KeyValue("method", "2.2")])
        #expect(late?.status == ResponseStatus(category: .unavailable, code: 4))
        #expect(await proxy.counters().core.timeouts == 1)
        await client.close()
        #expect(await proxy.counters().core.upstreamConnects == 10, "the idle connections were reused")
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }

    @Test func aMalformedFrameClosesOnlyItsConnectionAndIsCounted() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        let config = ProxyConfiguration(protocolName: "livepacket", routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")])],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let good = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let bad = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        try await bad.channel.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        try await bad.channel.closeFuture.get()
        #expect(try await good.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        let (_, runtime) = await proxy.counters()
        #expect(runtime.downstreamProtocolErrors == 1)
        await good.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }

    @Test func shutdownLetsRequestsInProgressFinish() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0.2)), group: Fixtures.group)
        let config = ProxyConfiguration(protocolName: "livepacket", routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")])],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        async let answers = client.calls(10, concurrency: 10) { _ in [KeyValue("method", "1.1")] }
        try await Fixtures.waitUntil { await servers.counters()[0].calls == 10 }
        let left = await proxy.shutdown()
        #expect(left == 0, "all ten finished within the drain timeout")
        #expect(try await answers.allSatisfy { $0.status?.isSuccess == true })
        await servers.stop()
    }

    @Test func statsAndPrometheusReflectWhatHappened() async throws {
        let servers = try await SyntheticServer.start(protocolName: "dubbo", ports: [0, 0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0), errors: [.serverError(0.5)]), group: Fixtures.group, seed: 3)
        let config = ProxyConfiguration(protocolName: "dubbo", routes: [RouteConfiguration(name: "greet", destinations: [RouteDestination(cluster: "svc")])],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "dubbo"), codec: DubboCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "dubbo", group: Fixtures.group)
        let answers = try await client.calls(200, concurrency: 8) { _ in [KeyValue("interface", "demo.Greeter"), KeyValue("method", "sayHello")] }
        let errors = answers.filter { $0.status?.category == .serverError }.count
        let served = await servers.counters()
        #expect(errors == served.reduce(0) { $0 + $1.errors })
        let text = await proxy.prometheusText()
        #expect(text.contains("mplab_requests_accepted_total 200\n"))
        #expect(text.contains("mplab_method_requests_error_total{route=\"greet\",method=\"sayHello\"} \(errors)\n"))
        #expect(text.contains("mplab_downstream_connections_active 1\n"))
        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }
}
