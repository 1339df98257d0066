import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import Testing
import TrafficModel

@testable import MetaProxy

/// What the proxy on sockets leaves behind, and an answer it cannot write.
@Suite("Proxy on sockets: lifetimes and undeliverable answers", .serialized)
struct LifetimeTests {
    @Test func aReleasedServerFreesItsCore() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        var proxy: ProxyServer? = try await ProxyServer.start(configuration: try RuntimeTests.simpleConfig(servers), codec: LivePacketCodec.self,
                                                              host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy!.localAddress, protocolName: "livepacket", group: Fixtures.group)
        #expect(try await client.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        let core = await proxy!.weakCore()
        #expect(core.core != nil)
        await client.close()
        await proxy!.shutdown()
        proxy = nil
        // The core is let go on its loop once the server is released.
        try await Fixtures.waitUntil { core.core == nil }
        await servers.stop()
    }

    /// LivePacket, except that it cannot write answers that carry `x-unwritable`.
    struct PickyCodec: MetaCodec {
        static let protocolName = LivePacketCodec.protocolName
        static let capabilities = LivePacketCodec.capabilities
        var inner = LivePacketCodec()
        init() {}
        mutating func decode(_ buffer: inout ByteBuffer) throws(CodecError) -> Message? { try inner.decode(&buffer) }
        func encode(_ message: Message, mutation: Mutation) throws(CodecError) -> EncodedFrame {
            if message.type != .request, mutation.entries.contains(where: { $0.key == "x-unwritable" }) {
                throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .invalidValue("x-unwritable"))
            }
            return try inner.encode(message, mutation: mutation)
        }
        func encodeLocalReply(_ error: LocalReplyError, to request: Message) throws(CodecError) -> ByteBuffer { try inner.encodeLocalReply(error, to: request) }
        func encodeHeartbeatReply(to heartbeat: Message) throws(CodecError) -> ByteBuffer { try inner.encodeHeartbeatReply(to: heartbeat) }
    }

    @Test func anAnswerTheProxyCannotWriteBecomesALocalReplyAndIsCountedAsOne() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        var route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")])
        route.responseMutation = [KeyValue("x-unwritable", "1")]
        let config = try Fixtures.compile(ProxyConfiguration(protocolName: "livepacket", routes: [route],
                                                             clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))]),
                                          protocolName: "livepacket")
        let proxy = try await ProxyServer.start(configuration: config, codec: PickyCodec.self, host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let answers = try await client.calls(5, concurrency: 5) { _ in [KeyValue("method", "1.1")] }
        #expect(answers.count == 5 && answers.allSatisfy { $0.status?.isSuccess == false }, "each client got an error reply, none nothing")
        let (core, runtime) = await proxy.counters()
        #expect(core.upstreamResponses == 0 && core.localReplies[Int(LocalReplyError.Kind.badResponse.rawValue)] == 5)
        #expect(core.undeliveredResponses == 5 && runtime.encodeFailures == 5)
        #expect(core.isConserved && core.active == 0)
        await client.close()
        await proxy.shutdown()
        await servers.stop()
    }
}
