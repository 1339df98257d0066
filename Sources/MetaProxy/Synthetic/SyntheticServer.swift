import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import NIOPosix
import Results
import TrafficModel

/// Synthetic upstream servers on real sockets, one per port, each a host of a synthetic
/// cluster: they decode calls with the protocol's codec and answer with its
/// ``FrameSynthesizer`` as TrafficModel's ``SyntheticHost`` decides — the same state machine the
/// simulator's hosts run, so `mplab serve` and a simulation of the same ``HostBehaviour`` and seed
/// draw the same service times, errors and response sizes. The upstream for load tests and
/// end-to-end tests (`mplab serve`).
///
/// Each port's connections all live on one event loop, so its host and counters need no lock.
public final class SyntheticServer: Sendable {
    /// One listening port and its state.
    final class Port: @unchecked Sendable {
        let loop: EventLoop
        var host: SyntheticHost
        let synthesizer: any FrameSynthesizer
        /// Nanoseconds on the host's clock: phases and figures count on it.
        let clock: @Sendable () -> Int64
        var counters = SyntheticCounters()
        var nextTicket: UInt64 = 1
        /// Calls waiting in the host's line, by ticket.
        var waiting = IDMap<(channel: Channel, call: Message)>()
        var channels: [ObjectIdentifier: Channel] = [:]
        var listener: Channel?

        init(loop: EventLoop, host: SyntheticHost, synthesizer: any FrameSynthesizer, clock: @escaping @Sendable () -> Int64) {
            self.loop = loop
            self.host = host
            self.synthesizer = synthesizer
            self.clock = clock
        }

        var now: Int64 { clock() }

        /// The counters with the host's figures as of now.
        var snapshot: SyntheticCounters {
            var c = counters
            c.host = host.stats.closed(at: now)
            c.decisionDigest = host.digest
            c.rejected = c.host.rejected
            c.closedByPhase = c.host.closedConnections
            c.peakConcurrency = c.host.peakBusy
            return c
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
    /// `protocolName`'s frames (with `synthesizer`, or the protocol's default one), each a
    /// ``SyntheticHost`` behaving as `behaviour`.
    ///
    /// - Parameters:
    ///   - names: the hosts' names, one per port, which name their random streams: a server and a
    ///     simulated host of the same name, behaviour and seed decide alike. By default
    ///     `host:port` (`host:any#i` for the i-th port 0).
    ///   - clock: the time phases and figures count on; by default the monotonic clock, from
    ///     the start. (Tests step one by hand.)
    public static func start(protocolName: String, synthesizer: (any FrameSynthesizer)? = nil, host: String = "127.0.0.1", ports: [Int],
                             behaviour: HostBehaviour, group: EventLoopGroup, seed: UInt64 = 1, names: [String]? = nil,
                             clock: (@Sendable () -> Duration)? = nil) async throws -> SyntheticServer {
        guard let codecType = CodecRegistry.codecTypes.first(where: { $0.protocolName == protocolName }),
            let synthesizer = synthesizer ?? CodecRegistry.makeSynthesizer(named: protocolName)
        else {
            throw SyntheticServerError.unknownProtocol(protocolName)
        }
        if let problem = behaviour.problem { throw SyntheticServerError.badBehaviour(problem) }
        if let names, names.count != ports.count { throw SyntheticServerError.badNames(expected: ports.count, found: names.count) }
        let origin = NIODeadline.now().uptimeNanoseconds
        let hostClock: @Sendable () -> Int64
        if let clock {
            hostClock = { clock().nanoseconds }
        } else {
            hostClock = { Int64(NIODeadline.now().uptimeNanoseconds &- origin) }
        }
        var started: [Port] = []
        for (index, number) in ports.enumerated() {
            let loop = group.next()
            let name = names?[index] ?? (number == 0 ? "\(host):any#\(index)" : "\(host):\(number)")
            let port = Port(loop: loop, host: SyntheticHost(name: name, behaviour: behaviour, seed: seed, startedAt: hostClock()),
                            synthesizer: synthesizer, clock: hostClock)
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
        for port in ports { result.append(try! await port.loop.submit { port.snapshot }.get()) }
        return result
    }

    /// Each host's figures, in the order of ``addresses``.
    public func hostResults() async -> [HostResult] {
        var result: [HostResult] = []
        for port in ports {
            result.append(try! await port.loop.submit { HostResult(address: port.host.name, stats: port.host.stats.closed(at: port.now), digest: port.host.digest) }.get())
        }
        return result
    }

    /// Starts the hosts' measured window now: figures so far (a warm-up) are forgotten, the
    /// hosts' and the sockets' alike.
    public func startMeasuring() async {
        for port in ports {
            try! await port.loop.submit {
                let now = port.now
                port.host.measure(from: now, now: now)
                port.counters = SyntheticCounters()
            }.get()
        }
    }

    /// Closes port `index`'s listener and every connection on it at once (a host killed): what
    /// it was serving or holding in line is lost.
    public func kill(_ index: Int) async {
        let port = ports[index]
        // The crash and the closes in one task on the port's loop: no call read in between
        // starts a service after the crash.
        let closed = try! await port.loop.submit {
            _ = port.host.crash(at: port.now)
            port.waiting = IDMap()
            let channels = Array(port.channels.values) + [port.listener].compactMap { $0 }
            for channel in channels { channel.close(promise: nil) }
            return channels.map(\.closeFuture)
        }.get()
        for future in closed { try? await future.get() }
    }

    /// Stops every port.
    public func stop() async {
        for index in ports.indices { await kill(index) }
    }
}

/// What one synthetic server (one port) did.
public struct SyntheticCounters: Sendable, Hashable {
    public var connections = 0
    /// Calls that expect an answer.
    public var calls = 0
    public var oneway = 0
    /// Answers written (rejections included).
    public var answered = 0
    /// Answers of calls served that were errors (rejections not included).
    public var errors = 0
    /// Answered "unavailable" at once because the line was full.
    public var rejected = 0
    /// Calls whose connection a phase closed.
    public var closedByPhase = 0
    /// Frames the codec refused (the connection is closed).
    public var protocolErrors = 0
    /// Answers that could not be written (the connection is closed).
    public var encodeFailures = 0
    /// The most calls in service at once.
    public var peakConcurrency = 0
    /// The host's figures (from its start, or from ``SyntheticServer/startMeasuring()``).
    public var host = HostStats.empty
    /// The host's decision digest (``SyntheticHost/digest``).
    public var decisionDigest: UInt64 = 0

    public init() {}

    /// The counters by the names results use.
    public var namedCounters: [Counter] {
        [Counter(name: "connections", value: connections), Counter(name: "calls", value: calls), Counter(name: "oneway", value: oneway),
         Counter(name: "answered", value: answered), Counter(name: "errors", value: errors), Counter(name: "rejected", value: rejected),
         Counter(name: "closed_by_phase", value: closedByPhase), Counter(name: "protocol_errors", value: protocolErrors),
         Counter(name: "encode_failures", value: encodeFailures), Counter(name: "peak_concurrency", value: peakConcurrency)]
    }
}

/// Why a synthetic server could not start.
public enum SyntheticServerError: Error, CustomStringConvertible {
    case unknownProtocol(String)
    case badBehaviour(String)
    case badNames(expected: Int, found: Int)

    public var description: String {
        switch self {
        case .unknownProtocol(let name): "no codec named \"\(name)\" (known: \(CodecRegistry.protocolNames.joined(separator: ", ")))"
        case .badBehaviour(let problem): "host behaviour: \(problem)"
        case .badNames(let expected, let found): "\(found) host names for \(expected) ports"
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
        case .request:
            port.counters.calls += 1
        default:
            return
        }
        let port = port
        let ticket = port.nextTicket
        port.nextTicket += 1
        let method = port.host.distinguishesMethods ? port.host.methodIndex(of: call.attributes[AttributeKey.method]) : -1
        switch port.host.arrive(SyntheticHost.Call(ticket: ticket, method: method, payloadBytes: call.bodySize, oneway: call.type == .oneway), at: port.now) {
        case .serving(let service):
            serve(service, call: call, on: context.channel)
        case .queued:
            port.waiting.set(ticket, (context.channel, call))
        case .rejected(let answer):
            self.answer(call, on: context.channel, with: answer, served: false)
        case .closesConnection:
            context.close(promise: nil)
        }
    }

    /// Answers `call` when `service` ends; then starts the next call in line. The worker keeps
    /// its own schedule: its next call starts when this one was due to end, not when a late
    /// timer got round to it, so a host of 4 workers × 2 ms serves 2000 calls a second on a
    /// busy machine too (a late timer delays one answer, not every call after it).
    private func serve(_ service: SyntheticHost.Service, call: Message, on channel: Channel, fromLine: Bool = false) {
        let port = port
        let finish: @Sendable () -> Void = { [self] in
            guard case .done(let next) = port.host.complete(service, at: min(port.now, service.endsAt)) else { return }
            if let answer = service.answer { self.answer(call, on: channel, with: answer, served: true) }
            if let next, let waiting = port.waiting.remove(next.ticket) { serve(next, call: waiting.call, on: waiting.channel, fromLine: true) }
        }
        let remaining = service.endsAt - port.now
        if remaining <= 0 && !fromLine {
            finish()
        } else if remaining <= 0 {
            // Already due (the loop ran late): on the loop's next turn, so that a long line
            // catching up does not recurse.
            port.loop.execute { finish() }
        } else {
            port.loop.scheduleTask(in: .nanoseconds(remaining)) { finish() }
        }
    }

    /// Writes `answer` to `call` (`served`: after its service, not turned away), unless the
    /// call's connection is gone.
    private func answer(_ call: Message, on channel: Channel, with answer: SyntheticHost.Answer, served: Bool) {
        guard channel.isActive else { return }
        do {
            let frame = try port.synthesizer.response(to: call, status: answer.status, payload: answer.payload)
            port.counters.answered += 1
            if served && !answer.status.isSuccess { port.counters.errors += 1 }
            if let reading, reading === channel {
                channel.write(frame, promise: nil)
                unflushed = true
            } else {
                channel.writeAndFlush(frame, promise: nil)
            }
        } catch {
            port.counters.encodeFailures += 1
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is CodecError { port.counters.protocolErrors += 1 }
        context.close(promise: nil)
    }
}

extension SyntheticHandler: @unchecked Sendable {}
