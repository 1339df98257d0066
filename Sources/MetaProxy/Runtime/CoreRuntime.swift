import MetaProtocol
import NIOCore
import NIOPosix

/// One client connection as the core loop knows it. Created on the connection's own loop; its
/// `id` is set and read only on the core's loop.
final class DownstreamSession: @unchecked Sendable {
    let channel: Channel
    /// Zero until registered (and for a connection refused at the limit).
    var id: UInt64 = 0

    init(channel: Channel) { self.channel = channel }
}

/// One upstream connection the core asked for. Changed only on the core's loop.
final class UpstreamSession: @unchecked Sendable {
    let id: UpstreamConnectionID
    var channel: Channel?
    /// The core closed it (or gave up on it): no more callbacks for it may reach the core.
    var closedByCore = false

    init(id: UpstreamConnectionID) { self.id = id }
}

/// A ``ProxyCore`` on real sockets: the core confined to one event loop (the core loop), and the
/// seams the core acts through — a monotonic clock and loop timers, client connections accepted
/// on any loop of the group, upstream connections made by NIO. Connections on other loops hop
/// their decoded messages to the core loop and the core's writes hop back (NIO does that for
/// writes to a channel of another loop), so decoding and socket work spread over the loops
/// while routing, balancing and limits stay single-threaded, as the core requires — and one
/// proxy instance has one set of local limits however many loops it runs.
final class CoreRuntime: CoreClock, UpstreamTransport, DownstreamTransport, @unchecked Sendable {
    let loop: EventLoop
    let group: EventLoopGroup
    let codecType: any MetaCodec.Type
    let settings: ProxySettings
    /// The core; nil once ``detach()`` let it go (late events are then ignored).
    private(set) var core: ProxyCore?
    /// Writes frames: encoding keeps no state, so one codec serves every connection.
    private let encoder: any MetaCodec
    private let origin: UInt64
    var counters = RuntimeCounters()
    private var downstreams = IDMap<DownstreamSession>()
    private var nextDownstream: UInt64 = 1
    private var upstreams = IDMap<UpstreamSession>()
    private var wake: (at: Timestamp, task: Scheduled<Void>)?
    /// Channels written to since the last flush. Flushing once after the loop's current batch
    /// of work, instead of after every frame, turns many small writes into one system call.
    private var unflushed: [ObjectIdentifier: Channel] = [:]
    private var flushScheduled = false

    init(configuration: CompiledConfiguration, codecType: any MetaCodec.Type, group: EventLoopGroup, settings: ProxySettings, accessLog: AccessLogSink?) {
        self.group = group
        loop = group.next()
        self.codecType = codecType
        self.settings = settings
        encoder = codecType.init()
        origin = NIODeadline.now().uptimeNanoseconds
        core = ProxyCore(configuration: configuration, clock: self, upstream: self, downstream: self, accessLog: accessLog,
                         seed: settings.seed ?? UInt64.random(in: 1...UInt64.max))
    }

    /// Runs `body` on the core loop: at once when already there, else after what is queued.
    @inline(__always)
    func onCoreLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    // MARK: writes

    /// Notes that `channel` has writes to flush, and schedules the flush after the current batch.
    private func flushSoon(_ channel: Channel) {
        unflushed[ObjectIdentifier(channel)] = channel
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.execute { [self] in
            flushScheduled = false
            let channels = unflushed
            unflushed.removeAll(keepingCapacity: true)
            for (_, channel) in channels { channel.flush() }
        }
    }

    private func write(_ frame: EncodedFrame, to channel: Channel) {
        frame.write(to: channel)
        flushSoon(channel)
    }

    private func write(_ buffer: ByteBuffer, to channel: Channel) {
        channel.write(buffer, promise: nil)
        flushSoon(channel)
    }

    // MARK: clock

    var now: Timestamp { Timestamp(nanoseconds: Int64(NIODeadline.now().uptimeNanoseconds &- origin)) }

    func requestWakeUp(at deadline: Timestamp) {
        if let w = wake, w.at <= deadline { return }
        wake?.task.cancel()
        let at = NIODeadline.uptimeNanoseconds(origin &+ UInt64(max(0, deadline.nanoseconds)))
        let task = loop.scheduleTask(deadline: at) { [self] in
            wake = nil
            core?.processTimers()
        }
        wake = (deadline, task)
    }

    // MARK: downstream

    /// A client connected: it gets an id, unless the proxy holds its maximum of connections.
    func register(_ session: DownstreamSession) {
        guard downstreams.count < settings.maxDownstreamConnections else {
            counters.downstreamRefused += 1
            session.channel.close(promise: nil)
            return
        }
        session.id = nextDownstream
        nextDownstream += 1
        downstreams.set(session.id, session)
        counters.downstreamAccepted += 1
    }

    /// A client's connection ended: its requests in progress are dropped (counted by the core).
    func unregister(_ session: DownstreamSession) {
        guard session.id != 0, downstreams.remove(session.id) != nil else { return }
        counters.downstreamClosed += 1
        core?.downstreamClosed(DownstreamID(session.id))
    }

    func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID) {
        guard let session = downstreams[downstream.rawValue] else { return }
        do {
            write(try encoder.encode(response, mutation: mutation), to: session.channel)
        } catch {
            // The client still gets one answer: the protocol's error reply, else a closed
            // connection; the core counts what it got.
            counters.encodeFailures += 1
            let error = LocalReplyError(.badResponse, message: "the proxy could not write the upstream's answer")
            if let reply = try? encoder.encodeLocalReply(error, to: response) {
                write(reply, to: session.channel)
                core?.responseNotDelivered(replacedBy: error.kind)
            } else {
                session.channel.close(promise: nil)
                core?.responseNotDelivered(replacedBy: nil)
            }
        }
    }

    func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID) {
        guard let session = downstreams[downstream.rawValue] else { return }
        do {
            write(try encoder.encodeLocalReply(error, to: request), to: session.channel)
        } catch {
            counters.encodeFailures += 1
            session.channel.close(promise: nil)
        }
    }

    func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID) {
        guard let session = downstreams[downstream.rawValue], let reply = try? encoder.encodeHeartbeatReply(to: heartbeat) else { return }
        write(reply, to: session.channel)
    }

    /// Client connections open now.
    var downstreamChannels: [Channel] { downstreams.sortedEntries.map(\.value.channel) }

    // MARK: upstream

    func connect(_ connection: UpstreamConnectionID, to address: String) {
        let session = UpstreamSession(id: connection)
        upstreams.set(connection.rawValue, session)
        guard let (host, port) = splitHostAndPort(settings.upstreamAddresses[address] ?? address) else {
            // Not an address: the connect fails, as one to an unreachable host would.
            loop.execute { [self] in connectFinished(session, .failure(ChannelError.inappropriateOperationForState)) }
            return
        }
        let bootstrap = ClientBootstrap(group: group.next())
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: settings.writeBufferLowWatermark, high: settings.writeBufferHighWatermark))
            // The core's own connect timeout decides; this only bounds the socket attempt.
            .connectTimeout(.seconds(30))
            .channelInitializer { [self, codecType] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MetaFrameDecoder(codec: codecType.init())))
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(session: session, runtime: self))
                }
            }
        bootstrap.connect(host: host, port: port).whenComplete { [self] result in
            onCoreLoop { self.connectFinished(session, result) }
        }
    }

    private func connectFinished(_ session: UpstreamSession, _ result: Result<Channel, Error>) {
        switch result {
        case .success(let channel):
            if session.closedByCore {
                channel.close(promise: nil)
            } else {
                session.channel = channel
                core?.upstreamConnected(session.id)
            }
        case .failure:
            guard !session.closedByCore else { return }
            session.closedByCore = true
            upstreams.remove(session.id.rawValue)
            core?.upstreamConnectFailed(session.id)
        }
    }

    func send(_ message: Message, mutation: Mutation, on connection: UpstreamConnectionID) {
        guard let channel = upstreams[connection.rawValue]?.channel else { return }
        do {
            write(try encoder.encode(message, mutation: mutation), to: channel)
        } catch {
            counters.encodeFailures += 1
            channel.close(promise: nil)
        }
    }

    func close(_ connection: UpstreamConnectionID) {
        guard let session = upstreams.remove(connection.rawValue) else { return }
        session.closedByCore = true
        session.channel?.close(promise: nil)
    }

    /// An upstream connection ended without the core asking.
    func upstreamEnded(_ session: UpstreamSession) {
        guard !session.closedByCore else { return }
        session.closedByCore = true
        upstreams.remove(session.id.rawValue)
        core?.upstreamClosed(session.id)
    }

    /// Lets the core go (it holds this runtime as its seams, so neither would be freed
    /// otherwise): the timer is cancelled, every connection closed, and late events ignored.
    /// Called on the core loop when the ``ProxyServer`` is released.
    func detach() {
        wake?.task.cancel()
        wake = nil
        for channel in downstreamChannels + upstreamChannels { channel.close(promise: nil) }
        core = nil
    }

    /// Upstream connections open or opening now.
    var upstreamChannels: [Channel] { upstreams.sortedEntries.compactMap(\.value.channel) }
}
