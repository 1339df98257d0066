import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import NIOPosix

@testable import MetaProxy

/// A client for end-to-end tests: writes calls with a protocol's synthesizer over one
/// connection and hands back each answer, matched by request id. A call not answered within
/// its deadline fails — a hung request is a test failure, never a hung test.
final class TestClient: @unchecked Sendable {
    struct Hung: Error, CustomStringConvertible {
        var id: UInt64
        var description: String { "call \(id) got no answer" }
    }

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the connection closed before the answer" }
    }

    let channel: Channel
    let synthesizer: any FrameSynthesizer
    /// Waiting calls by id; touched only on the channel's loop.
    fileprivate var waiting: [UInt64: CheckedContinuation<Message, Error>] = [:]
    private var nextID: UInt64 = 1

    private init(channel: Channel, synthesizer: any FrameSynthesizer) {
        self.channel = channel
        self.synthesizer = synthesizer
    }

    static func connect(to address: SocketAddress, protocolName: String, synthesizer: (any FrameSynthesizer)? = nil,
                        group: EventLoopGroup, autoRead: Bool = true) async throws -> TestClient {
        let codecType = CodecRegistry.codecTypes.first { $0.protocolName == protocolName }!
        let box = ClientBox()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: autoRead)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MetaFrameDecoder(codec: codecType.init())))
                    try channel.pipeline.syncOperations.addHandler(AnswerHandler(box: box))
                }
            }
            .connect(to: address)
            .get()
        let client = TestClient(channel: channel, synthesizer: synthesizer ?? CodecRegistry.makeSynthesizer(named: protocolName)!)
        box.client = client
        return client
    }

    /// One call; its answer, or an error when none came within `deadline`.
    func call(_ attributes: [KeyValue], payload: Int = 16, oneway: Bool = false, deadline: TimeAmount = .seconds(60)) async throws -> Message? {
        let loop = channel.eventLoop
        let id = try await loop.submit { () -> UInt64 in
            defer { self.nextID += 1 }
            return self.nextID
        }.get()
        let frame = try synthesizer.request(id: id, attributes: attributes, payloadSize: payload, oneway: oneway)
        if oneway {
            try await channel.writeAndFlush(frame)
            return nil
        }
        return try await withCheckedThrowingContinuation { continuation in
            loop.execute {
                guard self.channel.isActive else {
                    continuation.resume(throwing: Closed())
                    return
                }
                self.waiting[id] = continuation
                self.channel.writeAndFlush(frame).whenFailure { _ in self.waiting.removeValue(forKey: id)?.resume(throwing: Closed()) }
                loop.scheduleTask(in: deadline) {
                    self.waiting.removeValue(forKey: id)?.resume(throwing: Hung(id: id))
                }
            }
        }
    }

    /// `count` calls, at most `concurrency` in flight at once; answers in call order.
    func calls(_ count: Int, concurrency: Int = 16, payload: Int = 16, attributes: @escaping @Sendable (Int) -> [KeyValue]) async throws -> [Message] {
        try await withThrowingTaskGroup(of: (Int, Message).self) { group in
            var answers = [Message?](repeating: nil, count: count)
            var next = 0
            while next < min(concurrency, count) {
                let i = next
                group.addTask { (i, try await self.call(attributes(i), payload: payload)!) }
                next += 1
            }
            while let (i, answer) = try await group.next() {
                answers[i] = answer
                if next < count {
                    let j = next
                    group.addTask { (j, try await self.call(attributes(j), payload: payload)!) }
                    next += 1
                }
            }
            return answers.map { $0! }
        }
    }

    func close() async { try? await channel.close() }

    /// Starts reading answers (for a client connected with `autoRead: false`).
    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    /// Frames that answered no call (a server's notices), in arrival order; touched only on the
    /// channel's loop.
    fileprivate var unsolicited: [Message] = []

    /// The frames received so far that answered no call.
    func unsolicitedFrames() async throws -> [Message] {
        try await channel.eventLoop.submit { self.unsolicited }.get()
    }

    fileprivate func answered(_ message: Message) {
        // Thrift ids are 32 bits: match on the low half when the full id is not waiting.
        let key = waiting[message.requestID] != nil ? message.requestID : waiting.keys.first { UInt32(truncatingIfNeeded: $0) == UInt32(truncatingIfNeeded: message.requestID) }
        if let key {
            waiting.removeValue(forKey: key)?.resume(returning: message)
        } else {
            unsolicited.append(message)
        }
    }

    fileprivate func closed() {
        for (_, c) in waiting { c.resume(throwing: Closed()) }
        waiting = [:]
    }
}

private final class ClientBox: @unchecked Sendable {
    var client: TestClient?
}

private final class AnswerHandler: ChannelInboundHandler {
    typealias InboundIn = Message
    let box: ClientBox
    init(box: ClientBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { box.client?.answered(unwrapInboundIn(data)) }

    func channelInactive(context: ChannelHandlerContext) {
        box.client?.closed()
        context.fireChannelInactive()
    }
}
