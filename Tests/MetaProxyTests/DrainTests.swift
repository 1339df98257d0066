import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import TrafficModel
import Testing

/// A graceful shutdown on real sockets: calls that arrive on open connections while the proxy
/// drains are served, and what is still in progress at the drain deadline is answered with a
/// local error reply before the connections close, never dropped. Dubbo clients are told first.
@Suite("Proxy on sockets: drain", .serialized)
struct DrainTests {
    /// Waits until the proxy's listener refuses new connections: the drain has begun.
    static func waitForListenerToClose(_ proxy: ProxyServer, protocolName: String) async throws {
        try await Fixtures.waitUntil(limit: .seconds(600)) {
            guard let probe = try? await TestClient.connect(to: proxy.localAddress, protocolName: protocolName, group: Fixtures.group) else { return true }
            await probe.close()
            return false
        }
    }

    @Test func callsInProgressAtTheDrainDeadlineAreAnsweredNotDropped() async throws {
        let hole = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(3600)),
                                                   group: Fixtures.group)
        let config = ProxyConfiguration(protocolName: "livepacket",
                                        routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(3600))],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(hole, version: "v1"))])
        // Long enough for the second call to be sent inside it on a loaded machine.
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group, settings: ProxySettings(drainTimeout: .seconds(20)))
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let before = Task { try await client.call([KeyValue("method", "1.1")], deadline: .seconds(600)) }
        try await Fixtures.waitUntil(limit: .seconds(600)) { await proxy.activeRequests() == 1 }
        let shutdown = Task { await proxy.shutdown() }
        try await Self.waitForListenerToClose(proxy, protocolName: "livepacket")
        // Sent during the drain, on the connection still open: taken, forwarded, and then answered.
        let during = try await client.call([KeyValue("method", "1.2")], deadline: .seconds(600))
        let answered = try await before.value
        #expect(await shutdown.value == 2, "two calls in progress at the deadline")
        for answer in [answered, during] {
            #expect(answer != nil && answer?.status?.isSuccess == false, "a local error reply: \(String(describing: answer?.status))")
        }
        let (core, _) = await proxy.counters()
        #expect(core.dropped == 0)
        #expect(core.localReplies[Int(LocalReplyError.Kind.unspecified.rawValue)] == 2)
        #expect(await Fixtures.conserved(proxy))
        await client.close()
        await hole.stop()
    }

    @Test func dubboClientsAreToldReadOnlyAndCallsDuringTheDrainAreServed() async throws {
        // Calls to `slow` are held for an hour: one keeps the drain open until its deadline.
        let behaviour = HostBehaviour(workers: nil, serviceTime: .constant(0), serviceTimeByMethod: [MethodServiceTime("slow", .constant(3600))])
        let servers = try await SyntheticServer.start(protocolName: "dubbo", ports: [0], behaviour: behaviour, group: Fixtures.group)
        let config = ProxyConfiguration(protocolName: "dubbo", routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(3600))],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "dubbo"), codec: DubboCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group, settings: ProxySettings(drainTimeout: .seconds(20)))
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "dubbo", group: Fixtures.group)
        #expect(try await client.call([KeyValue("method", "sayHello")])?.status?.isSuccess == true)
        #expect(try await client.unsolicitedFrames().isEmpty)
        // Holds the drain open (a call in progress) while the notice is checked.
        let held = try await TestClient.connect(to: proxy.localAddress, protocolName: "dubbo", group: Fixtures.group)
        let slow = Task { try await held.call([KeyValue("method", "slow")], deadline: .seconds(600)) }
        try await Fixtures.waitUntil(limit: .seconds(600)) { await proxy.activeRequests() == 1 }
        let shutdown = Task { await proxy.shutdown() }
        try await Fixtures.waitUntil(limit: .seconds(600)) { (try? await client.unsolicitedFrames().isEmpty) == false }
        let notices = try await client.unsolicitedFrames()
        #expect(notices.count == 1)
        // A one-way event request, as a Dubbo provider's READONLY event is; its body is "R".
        let notice = try #require(notices.first)
        #expect(notice.type == .oneway)
        let flags = notice.frame.getInteger(at: notice.frame.readerIndex + 2, as: UInt8.self)!
        #expect(flags & 0x80 != 0 && flags & 0x20 != 0 && flags & 0x40 == 0, "request, event, not two-way: \(flags)")
        #expect(notice.frame.getBytes(at: notice.frame.readerIndex + 16, length: 2) == [0x01, UInt8(ascii: "R")])
        #expect(try await held.unsolicitedFrames().count == 1, "every connection is told")
        // Still served while draining.
        #expect(try await client.call([KeyValue("method", "sayHello")])?.status?.isSuccess == true)
        let unfinished = await shutdown.value
        #expect(unfinished == 1, "the slow call, answered at the deadline")
        #expect(try await slow.value?.status?.isSuccess == false)
        #expect(await Fixtures.conserved(proxy))
        await client.close()
        await held.close()
        await servers.stop()
    }
}
