import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import NIOPosix

/// Synthetic upstream servers on real sockets, one per port, each a host of a synthetic
/// cluster: they decode calls with the protocol's codec and answer with its
/// ``FrameSynthesizer`` after a service time, with errors, a response size, a concurrency limit
/// with a line, and scripted phases (``SyntheticBehaviour``). The upstream for load tests and
/// end-to-end tests (`mplab serve`).
///
/// Each port's connections all live on one event loop, so its line and counters need no lock.
public final class SyntheticServer: Sendable {
    /// One listening port and its state.
    final class Port: @unchecked Sendable {
        let loop: EventLoop
        let behaviour: SyntheticBehaviour
        let synthesizer: any FrameSynthesizer
        let started: NIODeadline
        var random: SeededRandom
        var counters = SyntheticCounters()
        var busy = 0
        var line: [(Channel, Message)] = []
        var lineHead = 0
        var channels: [ObjectIdentifier: Channel] = [:]
        var listener: Channel?

        init(loop: EventLoop, behaviour: SyntheticBehaviour, synthesizer: any FrameSynthesizer, seed: UInt64, port: Int) {
            self.loop = loop
            self.behaviour = behaviour
            self.synthesizer = synthesizer
            started = .now()
            random = SeededRandom(seed: seed, stream: "serve:\(port)")
        }
    }

    private let ports: [Port]
    /// The addresses listened on, in the order of the ports asked for.
    public let addresses: [SocketAddress]

    private init(ports: [Port]) {
        self.ports = ports
        addresses = ports.map { $0.listener!.localAddress! }
    }

    /// Starts one server per entry of `ports` on `host` (0 lets the system choose), speaking
    /// `protocolName`'s frames (with `synthesizer`, or the protocol's default one).
    public static func start(protocolName: String, synthesizer: (any FrameSynthesizer)? = nil, host: String = "127.0.0.1", ports: [Int],
                             behaviour: SyntheticBehaviour, group: EventLoopGroup, seed: UInt64 = 1) async throws -> SyntheticServer {
        guard let codecType = CodecRegistry.codecTypes.first(where: { $0.protocolName == protocolName }),
            let synthesizer = synthesizer ?? CodecRegistry.makeSynthesizer(named: protocolName)
        else {
            throw SyntheticServerError.unknownProtocol(protocolName)
        }
        var started: [Port] = []
        for number in ports {
            let loop = group.next()
            let port = Port(loop: loop, behaviour: behaviour, synthesizer: synthesizer, seed: seed, port: number)
            port.listener = try await ServerBootstrap(group: loop, childGroup: loop)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MetaFrameDecoder(codec: codecType.init())))
                        try channel.pipeline.syncOperations.addHandler(SyntheticHandler(port: port, codec: codecType.init()))
                    }
                }
                .bind(host: host, port: number)
                .get()
            started.append(port)
        }
        return SyntheticServer(ports: started)
    }

    /// What each port did, in the order of ``addresses``.
    public func counters() async -> [SyntheticCounters] {
        var result: [SyntheticCounters] = []
        for port in ports { result.append(try! await port.loop.submit { port.counters }.get()) }
        return result
    }

    /// Closes port `index`'s listener and every connection on it at once (a host killed).
    public func kill(_ index: Int) async {
        let port = ports[index]
        let channels = try! await port.loop.submit { Array(port.channels.values) + [port.listener].compactMap { $0 } }.get()
        for channel in channels { try? await channel.close() }
    }

    /// Stops every port.
    public func stop() async {
        for index in ports.indices { await kill(index) }
    }
}

/// Why a synthetic server could not start.
public enum SyntheticServerError: Error, CustomStringConvertible {
    case unknownProtocol(String)

    public var description: String {
        switch self {
        case .unknownProtocol(let name): "no codec named \"\(name)\" (known: \(CodecRegistry.protocolNames.joined(separator: ", ")))"
        }
    }
}

/// Serves the calls of one connection of a synthetic server.
final class SyntheticHandler: ChannelInboundHandler {
    typealias InboundIn = Message

    private let port: SyntheticServer.Port
    private let codec: any MetaCodec
    /// Inside `channelRead`: answers given at once are flushed together at the end of the read
    /// batch, not one system call each.
    private var reading: Channel?
    private var unflushed = false

    init(port: SyntheticServer.Port, codec: any MetaCodec) {
        self.port = port
        self.codec = codec
    }

    func channelActive(context: ChannelHandlerContext) {
        port.counters.connections += 1
        port.channels[ObjectIdentifier(context.channel)] = context.channel
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        port.channels[ObjectIdentifier(context.channel)] = nil
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = context.channel
        defer { reading = nil }
        let call = unwrapInboundIn(data)
        switch call.type {
        case .heartbeat:
            if let reply = try? codec.encodeHeartbeatReply(to: call) { context.writeAndFlush(NIOAny(reply), promise: nil) }
            return
        case .oneway:
            port.counters.oneway += 1
            return
        case .request:
            break
        default:
            return
        }
        port.counters.calls += 1
        let phase = port.behaviour.phase(at: .nanoseconds(Int64(NIODeadline.now().uptimeNanoseconds - port.started.uptimeNanoseconds)))
        if phase?.closesConnections == true {
            port.counters.closedByPhase += 1
            context.close(promise: nil)
            return
        }
        if let limit = port.behaviour.concurrency, port.busy >= limit {
            if let queueLimit = port.behaviour.queueLimit, port.line.count - port.lineHead >= queueLimit {
                port.counters.rejected += 1
                answer(call, on: context.channel, status: ResponseStatus(category: .unavailable, code: 0))
                return
            }
            port.line.append((context.channel, call))
            return
        }
        serve(call, on: context.channel, phase: phase)
    }

    /// Takes a worker for `call` and answers after its service time; then the next in line.
    private func serve(_ call: Message, on channel: Channel, phase: SyntheticBehaviour.Phase?) {
        let port = port
        port.busy += 1
        port.counters.peakConcurrency = max(port.counters.peakConcurrency, port.busy)
        let seconds = max(0, (phase?.serviceTime ?? port.behaviour.serviceTime).sampler().sample(&port.random))
        let failed = port.random.nextUnit() < (phase?.errorRate ?? port.behaviour.errorRate)
        let status = failed ? ResponseStatus(category: port.behaviour.errorCategory, code: 0) : ResponseStatus(category: .success, code: 0)
        let finish: @Sendable () -> Void = { [self] in
            answer(call, on: channel, status: status)
            port.busy -= 1
            if port.lineHead < port.line.count {
                let (next, waiting) = port.line[port.lineHead]
                port.lineHead += 1
                if port.lineHead == port.line.count {
                    port.line.removeAll(keepingCapacity: true)
                    port.lineHead = 0
                }
                let now = port.behaviour.phase(at: .nanoseconds(Int64(NIODeadline.now().uptimeNanoseconds - port.started.uptimeNanoseconds)))
                serve(waiting, on: next, phase: now)
            }
        }
        if seconds == 0 {
            finish()
        } else {
            port.loop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { finish() }
        }
    }

    private func answer(_ call: Message, on channel: Channel, status: ResponseStatus) {
        let size: Int = switch port.behaviour.responseSize {
        case .echo: call.bodySize
        case .fixed(let n): n
        }
        do {
            let frame = try port.synthesizer.response(to: call, status: status, payloadSize: status.isSuccess ? size : 0)
            port.counters.answered += 1
            if !status.isSuccess { port.counters.errors += 1 }
            if let reading, reading === channel {
                channel.write(frame, promise: nil)
                unflushed = true
            } else {
                channel.writeAndFlush(frame, promise: nil)
            }
        } catch {
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is CodecError { port.counters.protocolErrors += 1 }
        context.close(promise: nil)
    }
}

extension SyntheticHandler: @unchecked Sendable {}
