import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import NIOPosix
import Testing

@testable import MetaProxy

/// One listener's connections — its clients' and the upstream ones its core opens — live on its
/// core's loop, however many loops the group has: no frame changes threads on its way through.
@Suite("Proxy on sockets: one loop per listener", .serialized)
struct LoopPinningTests {
    @Test func everyConnectionOfAListenerIsOnItsCoresLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0, 0], behaviour: .instant, group: Fixtures.group)
        let configuration = try Fixtures.compile(
            ProxyConfiguration(protocolName: "livepacket", routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")])],
                               clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))]),
            protocolName: "livepacket")
        // Two listeners on one group: each keeps to its own loop.
        let first = try await ProxyServer.start(configuration: configuration, codec: LivePacketCodec.self, host: "127.0.0.1", port: 0, group: group)
        let second = try await ProxyServer.start(configuration: configuration, codec: LivePacketCodec.self, host: "127.0.0.1", port: 0, group: group)
        for proxy in [first, second] {
            // Clients on every loop of the client group, with calls enough to open a connection
            // to every host.
            var clients: [TestClient] = []
            for _ in 0..<8 { clients.append(try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: group)) }
            for client in clients {
                let answers = try await client.calls(24, concurrency: 8) { _ in [KeyValue("method", "1.1")] }
                #expect(answers.allSatisfy { $0.status?.isSuccess == true })
            }
            let loops = await proxy.connectionLoops()
            #expect(loops.downstream.count == 8)
            #expect(loops.upstream.count >= 3, "a connection to each host")
            #expect(loops.downstream.allSatisfy { $0 === loops.core }, "client connections on the core's loop")
            #expect(loops.upstream.allSatisfy { $0 === loops.core }, "upstream connections on the core's loop")
            for client in clients { await client.close() }
            #expect(await Fixtures.conserved(proxy))
        }
        let (a, b) = (await first.connectionLoops().core, await second.connectionLoops().core)
        #expect(a !== b, "listeners spread over the group's loops")
        await first.shutdown()
        await second.shutdown()
        await servers.stop()
        try await group.shutdownGracefully()
    }
}
