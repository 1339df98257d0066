import MetaProtocol
import MetaProtocolCodecs
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import MetaProxy

/// A large frame is routed once its head is in and forwarded as the rest arrives: the upstream
/// gets its first bytes before the client has sent its last.
@Suite("Proxy on sockets: cut-through", .serialized)
struct CutThroughTests {
    static let frameSize = 120 << 10

    @Test(arguments: ["livepacket", "thrift"])
    func aLargeCallReachesTheUpstreamBeforeItHasFullyArrived(protocolName: String) async throws {
        let upstream = try await RecordingUpstream.start(protocolName: protocolName)
        let proxy = try await ProxyServer.start(configuration: try Self.configuration(protocolName, upstream: upstream), codec: Fixtures.codec(protocolName),
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await RawClient.connect(to: proxy.localAddress)
        let frame = try Self.call(protocolName, id: 7)
        #expect(frame.readableBytes > Self.frameSize)
        try await client.send(frame.getSlice(at: frame.readerIndex, length: 8 << 10)!)
        // The proxy has 8 KB of a 120 KB frame: the upstream must see bytes of it now, or this
        // waits out its limit and fails.
        try await Fixtures.waitUntil { upstream.received > 0 }
        #expect(upstream.received < frame.readableBytes)
        try await client.send(frame.getSlice(at: frame.readerIndex + (8 << 10), length: frame.readableBytes - (8 << 10))!)
        let answer = try await client.answer(protocolName)
        #expect(answer.status?.isSuccess == true)
        #expect(answer.requestID == 7, "answered with the client's own id")
        #expect(upstream.frames.map(\.bodySize) == [try Self.decode(protocolName, frame).bodySize], "the whole frame arrived, renumbered")
        let counters = await proxy.counters().runtime
        #expect(counters.cutThroughFrames == 1, "the call cut through (its 16-byte answer is whole)")
        #expect(counters.cutThroughAborted == 0)
        await client.close()
        try await Fixtures.waitUntil { await Fixtures.conserved(proxy) }
        await proxy.shutdown()
        await upstream.stop()
    }

    /// A route that may retry needs the whole call again: such frames are buffered whole.
    @Test func aRouteThatRetriesGetsWholeFrames() async throws {
        let upstream = try await RecordingUpstream.start(protocolName: "livepacket")
        var configuration = try Self.configuration("livepacket", upstream: upstream).source
        configuration.routes[0].retry = RetryPolicy(numRetries: 1, retryOn: [.reset])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(configuration, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await RawClient.connect(to: proxy.localAddress)
        let frame = try Self.call("livepacket", id: 9)
        try await client.send(frame.getSlice(at: frame.readerIndex, length: 8 << 10)!)
        try await Task.sleep(for: .milliseconds(300))
        #expect(upstream.received == 0, "nothing forwarded before the frame is whole")
        try await client.send(frame.getSlice(at: frame.readerIndex + (8 << 10), length: frame.readableBytes - (8 << 10))!)
        #expect(try await client.answer("livepacket").status?.isSuccess == true)
        #expect(await proxy.counters().runtime.cutThroughFrames == 0)
        await client.close()
        await proxy.shutdown()
        await upstream.stop()
    }

    /// A client that closes halfway through a large call: the upstream connection holding the
    /// head of a frame that will not end is closed, counted, and the proxy serves on.
    @Test func aClientGoneMidFrameClosesTheUpstreamConnectionItWasWritingTo() async throws {
        let upstream = try await RecordingUpstream.start(protocolName: "livepacket")
        let proxy = try await ProxyServer.start(configuration: try Self.configuration("livepacket", upstream: upstream), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let client = try await RawClient.connect(to: proxy.localAddress)
        let frame = try Self.call("livepacket", id: 3)
        try await client.send(frame.getSlice(at: frame.readerIndex, length: 8 << 10)!)
        try await Fixtures.waitUntil { upstream.received > 0 }
        await client.close()
        try await Fixtures.waitUntil { await proxy.counters().runtime.cutThroughAborted == 1 }
        try await Fixtures.waitUntil { upstream.closedConnections == 1 }
        // A new client is served whole.
        let next = try await RawClient.connect(to: proxy.localAddress)
        try await next.send(try Self.call("livepacket", id: 4))
        #expect(try await next.answer("livepacket").requestID == 4)
        await next.close()
        try await Fixtures.waitUntil { await Fixtures.conserved(proxy) }
        await proxy.shutdown()
        await upstream.stop()
    }

    static func configuration(_ protocolName: String, upstream: RecordingUpstream) throws -> CompiledConfiguration {
        // A route timeout of ten minutes: the default 15 s runs out between the frame's head and
        // its end when the whole suite runs beside these tests on two cores (the proxy then answers
        // with a timeout and drops the rest, as it should).
        try Fixtures.compile(ProxyConfiguration(protocolName: protocolName,
                                                routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(600))],
                                                clusters: [ClusterConfiguration(name: "svc", hosts: [HostConfiguration(address: Fixtures.address(upstream.address))])]),
                             protocolName: protocolName)
    }

    static func call(_ protocolName: String, id: UInt64) throws -> ByteBuffer {
        try CodecRegistry.makeSynthesizer(named: protocolName)!.request(id: id, attributes: [KeyValue("method", protocolName == "thrift" ? "upload" : "1.1")],
                                                                         payloadSize: frameSize, oneway: false)
    }

    static func decode(_ protocolName: String, _ frame: ByteBuffer) throws -> Message {
        var codec = Fixtures.codec(protocolName).init()
        var bytes = frame
        return try #require(try codec.decode(&bytes))
    }
}

/// An upstream host that counts the bytes it receives and answers each whole call.
final class RecordingUpstream: Sendable {
    let address: SocketAddress
    private let channel: Channel
    private let state: NIOLockedValueBox<(received: Int, frames: [Message], closed: Int)>

    var received: Int { state.withLockedValue { $0.received } }
    var frames: [Message] { state.withLockedValue { $0.frames } }
    var closedConnections: Int { state.withLockedValue { $0.closed } }

    private init(channel: Channel, state: NIOLockedValueBox<(received: Int, frames: [Message], closed: Int)>) {
        self.channel = channel
        self.state = state
        address = channel.localAddress!
    }

    static func start(protocolName: String) async throws -> RecordingUpstream {
        let state = NIOLockedValueBox<(received: Int, frames: [Message], closed: Int)>((0, [], 0))
        let codecType = Fixtures.codec(protocolName)
        let synthesizer = CodecRegistry.makeSynthesizer(named: protocolName)!
        let channel = try await ServerBootstrap(group: Fixtures.group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(codec: codecType.init(), synthesizer: synthesizer, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RecordingUpstream(channel: channel, state: state)
    }

    func stop() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var codec: any MetaCodec
        let synthesizer: any FrameSynthesizer
        let state: NIOLockedValueBox<(received: Int, frames: [Message], closed: Int)>
        var buffer = ByteBuffer()

        init(codec: any MetaCodec, synthesizer: any FrameSynthesizer, state: NIOLockedValueBox<(received: Int, frames: [Message], closed: Int)>) {
            self.codec = codec
            self.synthesizer = synthesizer
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            state.withLockedValue { $0.received += bytes.readableBytes }
            buffer.writeBuffer(&bytes)
            while let message = try? codec.decode(&buffer) {
                state.withLockedValue { $0.frames.append(message) }
                if let answer = try? synthesizer.response(to: message, status: ResponseStatus(category: .success, code: 0), payloadSize: 16) {
                    context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.closed += 1 }
        }
    }
}

/// A client that writes raw bytes and reads one answer.
final class RawClient: Sendable {
    private let channel: Channel
    private let answers: NIOLockedValueBox<ByteBuffer>

    private init(channel: Channel, answers: NIOLockedValueBox<ByteBuffer>) {
        self.channel = channel
        self.answers = answers
    }

    static func connect(to address: SocketAddress) async throws -> RawClient {
        let answers = NIOLockedValueBox(ByteBuffer())
        let channel = try await ClientBootstrap(group: Fixtures.group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(answers: answers)) }
            }
            .connect(to: address).get()
        return RawClient(channel: channel, answers: answers)
    }

    func send(_ bytes: ByteBuffer) async throws { try await channel.writeAndFlush(bytes) }

    /// The first answer, decoded (waits for it up to the fixtures' limit).
    func answer(_ protocolName: String) async throws -> Message {
        var codec = Fixtures.codec(protocolName).init()
        var decoded: Message?
        try await Fixtures.waitUntil {
            var bytes = answers.withLockedValue { $0 }
            decoded = try? codec.decode(&bytes)
            return decoded != nil
        }
        return decoded!
    }

    func close() async { try? await channel.close() }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let answers: NIOLockedValueBox<ByteBuffer>
        init(answers: NIOLockedValueBox<ByteBuffer>) { self.answers = answers }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            answers.withLockedValue { $0.writeBuffer(&bytes) }
        }
    }
}
