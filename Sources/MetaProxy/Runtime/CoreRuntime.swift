import MetaProtocol
import NIOCore
import NIOPosix
import RateLimitService
#if canImport(Glibc)
import Glibc
#endif

/// A ``ProxyCore`` on real sockets: the core confined to one event loop (the core loop), and the
/// seams the core acts through — a monotonic clock and loop timers, client connections, upstream
/// connections made by NIO.
///
/// Every connection of a listener — the clients' and the upstream ones the core opens — lives on
/// the core's loop, as an Envoy worker keeps a connection and its upstreams on one thread: a
/// frame goes from the socket through the codec and the core to the other socket in direct
/// calls, never through another thread's task queue (a lock and an eventfd wake-up each way).
/// One listener therefore uses one core of the machine; listeners of a process are spread over
/// the group's loops (`mplab proxy --event-loops`). A listener's local rate limits and circuit
/// breakers are its core's: one set per listener, however many loops the process runs.
///
/// Everything here is used on the core's loop only; the properties touched for every frame skip
/// Swift's dynamic exclusivity check (`@exclusivity(unchecked)`), which costs about as much as
/// the work it guards, as the core's own do.
final class CoreRuntime: CoreClock, UpstreamTransport, DownstreamTransport, GlobalRateLimitService, @unchecked Sendable {
    let loop: EventLoop
    let group: EventLoopGroup
    let codecType: any MetaCodec.Type
    let settings: ProxySettings
    /// The core; nil once ``detach()`` let it go (late events are then ignored).
    private(set) var core: ProxyCore?
    /// Writes frames: encoding keeps no state, so one codec serves every connection.
    private let encoder: any MetaCodec
    /// Where the encoder writes renumbered headers, reused frame after frame. (Used only on the
    /// core's loop, so the dynamic exclusivity check of each access, which costs about as much
    /// as the write it guards, is left out.)
    @exclusivity(unchecked) private var scratch = ScratchSpace()
    private let origin: UInt64
    @exclusivity(unchecked) var counters = RuntimeCounters()
    /// The client connection whose frame the core is taking in right now, if any: a write it
    /// causes into a full upstream connection stops it being read (``pauseIfFull(_:readingFrom:)``).
    @exclusivity(unchecked) var reading: DownstreamSession?
    @exclusivity(unchecked) private var downstreams = IDMap<DownstreamSession>()
    private var nextDownstream: UInt64 = 1
    @exclusivity(unchecked) private var upstreams = IDMap<UpstreamSession>()
    /// Frames being forwarded as they arrive (cut-through), by name.
    @exclusivity(unchecked) var passages = IDMap<Passage>()
    var nextPassage: UInt64 = 1
    /// Whether the configuration in force lets frames be forwarded as they arrive (see
    /// ``cutThroughThreshold``).
    var configurationPermitsCutThrough = false
    private var wake: (at: Timestamp, task: Scheduled<Void>)?
    /// Idle sweeps so far: a client connection notes the sweep it was last active in, and one
    /// found inactive for ``idleSweepsPerTimeout`` whole sweeps is closed.
    private(set) var idleSweeps: UInt64 = 0
    private var idleSweepTask: RepeatedTask?
    /// Sweeps per idle timeout: a connection closes between 1 and 1.25 timeouts after its
    /// last activity.
    static let idleSweepsPerTimeout: UInt64 = 4
    /// Frame sweeps so far, the same way for the frame timeout: a frame not all in closes its
    /// connection between 1 and 1.25 frame timeouts after it began.
    private(set) var frameSweeps: UInt64 = 0
    private var frameSweepTask: RepeatedTask?
    /// Connections written to since the last flush. Flushing once after a read's frames (or a
    /// timer's work), instead of after every frame, turns many small writes into one system call.
    @exclusivity(unchecked) private(set) var unflushed: [ConnectionSession] = []
    /// Connections flushed at the end of the loop's round of work (``ConnectionSession/flushesPerRound``).
    @exclusivity(unchecked) private(set) var unflushedThisRound: [ConnectionSession] = []
    private var roundFlushScheduled = false

    /// The rate-limit services of the process, and the client of the one the configuration in
    /// force names (nil: none, and calls under a global limit follow its failure mode).
    let rateLimitServices: RateLimitServices?
    var rateLimitClient: RateLimitServiceClient?

    init(configuration: CompiledConfiguration, codecType: any MetaCodec.Type, group: EventLoopGroup, settings: ProxySettings,
         accessLog: AccessLogSink?, rateLimitServices: RateLimitServices? = nil) {
        self.rateLimitServices = rateLimitServices
        rateLimitClient = rateLimitServices?.client(for: configuration.source)
        self.group = group
        loop = group.next()
        unflushed.reserveCapacity(64)
        unflushedThisRound.reserveCapacity(64)
        self.codecType = codecType
        self.settings = settings
        encoder = codecType.init()
        origin = NIODeadline.now().uptimeNanoseconds
        configurationPermitsCutThrough = Self.permitsCutThrough(configuration)
        core = ProxyCore(configuration: configuration, clock: self, upstream: self, downstream: self, rateLimitService: self, accessLog: accessLog,
                         seed: settings.seed ?? UInt64.random(in: 1...UInt64.max))
        if let timeout = settings.downstreamIdleTimeout {
            let period = TimeAmount.nanoseconds(max(1, timeout.nanoseconds / Int64(Self.idleSweepsPerTimeout)))
            idleSweepTask = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] _ in sweepIdleConnections() }
        }
        if let timeout = settings.downstreamFrameTimeout {
            let period = TimeAmount.nanoseconds(max(1, timeout.nanoseconds / Int64(Self.idleSweepsPerTimeout)))
            frameSweepTask = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] _ in sweepSlowFrames() }
        }
    }

    // MARK: idle connections

    /// Closes the client connections that have not read or been written to for a whole idle
    /// timeout. One timer for all of them: a per-connection idle handler would wrap every write
    /// in a promise to see it complete.
    private func sweepIdleConnections() {
        idleSweeps += 1
        for (_, session) in downstreams.sortedEntries where !session.closedIdle && idleSweeps - session.activeInSweep > Self.idleSweepsPerTimeout {
            session.closedIdle = true
            counters.downstreamIdleClosed += 1
            session.clientChannel.close(promise: nil)
        }
    }

    /// Notes that a client connection read or was written to.
    @inline(__always)
    func noteActivity(_ session: DownstreamSession) { session.activeInSweep = idleSweeps }

    /// Notes, at the end of a read, whether a client connection holds a frame not all in; a
    /// frame that began since the last note starts its own clock.
    @inline(__always)
    func notePartialFrame(_ session: DownstreamSession, holding: Bool) {
        guard holding else {
            session.partialFrame = nil
            return
        }
        if session.partialFrame?.frames != session.framesRead { session.partialFrame = (session.framesRead, frameSweeps) }
    }

    /// Closes the client connections holding a frame begun a whole frame timeout ago and not
    /// all in (a slow sender holds its slot and the partial frame's memory, and a frame cut
    /// through holds the upstream connection it is written into).
    private func sweepSlowFrames() {
        frameSweeps += 1
        for (_, session) in downstreams.sortedEntries where !session.closedSlowFrame {
            guard let partial = session.partialFrame, frameSweeps - partial.sweep > Self.idleSweepsPerTimeout else { continue }
            session.closedSlowFrame = true
            counters.downstreamFrameTimeouts += 1
            session.clientChannel.close(promise: nil)
        }
    }

    /// Runs `body` on the core loop: at once when already there, else after what is queued
    /// (the admin API and the server's own life cycle; connections never need it). What the
    /// core writes in `body` is flushed after it.
    func onCoreLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop {
            body()
            flushPending()
        } else {
            loop.execute { [self] in
                body()
                flushPending()
            }
        }
    }

    // MARK: entry points from the connections (on the core loop)

    /// A frame from a client (or the head of one still arriving).
    func received(_ message: Message, from session: DownstreamSession) {
        loop.assertInEventLoop()
        var message = message
        if message.cutThrough != nil { openPassage(for: &message, from: session) }
        guard session.id != 0 else {
            session.readingPassage?.discarded = true
            return
        }
        reading = session
        defer { reading = nil }
        core?.receive(message, from: DownstreamID(session.id))
    }

    /// A frame from an upstream host (or the head of one still arriving).
    func received(_ message: Message, on session: UpstreamSession) {
        loop.assertInEventLoop()
        var message = message
        if message.cutThrough != nil { openPassage(for: &message, from: session) }
        if !session.closedByCore { core?.upstreamReceived(message, on: session.id) }
        // An answer is forwarded at once or not at all: one the core did not forward (a late
        // answer, a retried call's) has nowhere to go.
        if let passage = session.readingPassage, passage.target == nil { discard(passage) }
    }

    // MARK: writes

    /// Notes that `target` has writes to flush: the connection's read (or the timer) that caused
    /// them ends with ``flushAfterRead()`` or ``flushPending()``.
    func flushLater(_ target: ConnectionSession) {
        guard !target.awaitingFlush else { return }
        target.awaitingFlush = true
        if target.flushesPerRound {
            unflushedThisRound.append(target)
        } else {
            unflushed.append(target)
        }
    }

    /// A read's frames are in: client connections are flushed now; upstream connections at the
    /// end of the loop's round, once the reads of every client ready in it are in. (NIO runs a
    /// task it is given from its own loop after that round's I/O, before it waits again.)
    func flushAfterRead() {
        flush(\.unflushed)
        guard !unflushedThisRound.isEmpty, !roundFlushScheduled else { return }
        roundFlushScheduled = true
        loop.execute { [self] in
            roundFlushScheduled = false
            flush(\.unflushedThisRound)
        }
    }

    /// Flushes every connection written to since the last flush.
    func flushPending() {
        flush(\.unflushed)
        flush(\.unflushedThisRound)
    }

    private func flush(_ list: ReferenceWritableKeyPath<CoreRuntime, [ConnectionSession]>) {
        guard !self[keyPath: list].isEmpty else { return }
        // A flush can fire events that write again (a failed write closes a channel): those
        // join the list behind the current one and are flushed in this same pass. (Read by
        // index: an inout hold of the list across the flush would conflict with them.)
        var index = 0
        while index < self[keyPath: list].count {
            let target = self[keyPath: list][index]
            target.awaitingFlush = false
            target.channel?.flush()
            index += 1
        }
        self[keyPath: list].removeAll(keepingCapacity: true)
    }

    /// Writes `bytes` to `target` (flushed later), or queues them behind the frame being
    /// forwarded into it as it arrives.
    func write(_ bytes: ByteBuffer, to target: ConnectionSession) {
        if target.writingPassage != nil {
            target.waiting.append(.bytes(bytes))
            return
        }
        target.channel?.write(bytes, promise: nil)
        flushLater(target)
        if let reading { pauseIfFull(target, readingFrom: reading) }
    }

    /// Writes a frame the codec encoded (the head of one still arriving with the rest to follow).
    private func write(_ frame: EncodedFrame, of message: Message, to target: ConnectionSession) {
        if let cutThrough = message.cutThrough { return writeHead(frame, of: cutThrough, to: target) }
        if let head = frame.head { write(head, to: target) }
        write(frame.rest, to: target)
        if let tail = frame.tail { write(tail, to: target) }
    }

    private func write(_ frame: EncodedFrame, of message: Message, to session: DownstreamSession) {
        noteActivity(session)
        write(frame, of: message, to: session as ConnectionSession)
    }

    private func write(_ buffer: ByteBuffer, to session: DownstreamSession) {
        noteActivity(session)
        write(buffer, to: session as ConnectionSession)
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
            flushPending()
        }
        wake = (deadline, task)
    }

    // MARK: downstream

    /// A client connected: it gets an id, unless the proxy holds its maximum of connections.
    func register(_ session: DownstreamSession) {
        loop.assertInEventLoop()
        guard downstreams.count < settings.maxDownstreamConnections else {
            counters.downstreamRefused += 1
            session.clientChannel.close(promise: nil)
            return
        }
        session.id = nextDownstream
        session.activeInSweep = idleSweeps
        nextDownstream += 1
        downstreams.set(session.id, session)
        counters.downstreamAccepted += 1
    }

    /// A client's connection ended: its requests in progress are dropped (counted by the core).
    func unregister(_ session: DownstreamSession) {
        passagesEnded(at: session)
        guard session.id != 0, downstreams.remove(session.id) != nil else { return }
        counters.downstreamClosed += 1
        core?.downstreamClosed(DownstreamID(session.id))
        flushPending()
    }

    func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID) {
        guard let session = downstreams[downstream.rawValue] else { return }
        do {
            write(try encoder.encode(response, mutation: mutation, scratch: &scratch), of: response, to: session)
        } catch {
            // The client still gets one answer: the protocol's error reply, else a closed
            // connection; the core counts what it got.
            counters.encodeFailures += 1
            let error = LocalReplyError(.badResponse, message: "the proxy could not write the upstream's answer")
            if let reply = try? encoder.encodeLocalReply(error, to: response) {
                write(reply, to: session)
                core?.responseNotDelivered(replacedBy: error.kind)
            } else {
                session.clientChannel.close(promise: nil)
                core?.responseNotDelivered(replacedBy: nil)
            }
        }
    }

    func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID) {
        // The rest of a call still arriving is not needed any more.
        if let cutThrough = request.cutThrough, let passage = passages[cutThrough.passage] { discard(passage) }
        guard let session = downstreams[downstream.rawValue] else { return }
        do {
            write(try encoder.encodeLocalReply(error, to: request), to: session)
        } catch {
            counters.encodeFailures += 1
            session.clientChannel.close(promise: nil)
        }
    }

    func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID) {
        guard let session = downstreams[downstream.rawValue], let reply = try? encoder.encodeHeartbeatReply(to: heartbeat) else { return }
        write(reply, to: session)
    }

    /// Tells every client connection the proxy is going away, in the protocol's own words where
    /// it has them (Dubbo's READONLY event): such clients send their new calls elsewhere.
    /// Returns the connections told.
    func sendDrainNotice() -> Int {
        guard let notice = encoder.encodeDrainNotice() else { return 0 }
        let sessions = downstreams.sortedEntries
        for (_, session) in sessions { write(notice, to: session) }
        return sessions.count
    }

    /// Client connections open now.
    var downstreamChannels: [Channel] { downstreams.sortedEntries.map(\.value.clientChannel) }

    // MARK: global rate limit

    /// Asks the configuration's rate-limit service; the answer comes back on the core's loop.
    /// No answer is given from inside the call (the core is mid-way through the request's
    /// filters), even when the client refuses it at once.
    func shouldRateLimit(_ call: RateLimitCallID, domain: String, descriptors: [KeyValue], timeout: Duration) {
        let loop = loop
        guard let client = rateLimitClient else {
            loop.execute { [self] in
                core?.globalRateLimitAnswered(call, .error)
                flushPending()
            }
            return
        }
        client.ask(domain: domain, entries: descriptors, timeout: timeout) { [self] decision in
            loop.execute {
                self.core?.globalRateLimitAnswered(call, decision)
                self.flushPending()
            }
        }
    }

    // MARK: upstream

    func connect(_ connection: UpstreamConnectionID, to address: String) {
        let session = UpstreamSession(id: connection)
        upstreams.set(connection.rawValue, session)
        guard let (host, port) = splitHostAndPort(settings.upstreamAddresses[address] ?? address) else {
            // Not an address: the connect fails, as one to an unreachable host would.
            loop.execute { [self] in connectFinished(session, .failure(ChannelError.inappropriateOperationForState)) }
            return
        }
        // On the core's loop, as the client connections are: no frame changes threads.
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: settings.writeBufferLowWatermark, high: settings.writeBufferHighWatermark))
        if let keepalive = settings.upstreamKeepalive {
            // A host that vanished without a FIN is found by the kernel's probes even on a
            // connection with nothing in flight (route timeouts only see busy ones).
            bootstrap = bootstrap.channelOption(.socketOption(.so_keepalive), value: 1)
            #if os(Linux)
            bootstrap = bootstrap
                .channelOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPIDLE)), value: keepalive.idleSeconds)
                .channelOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPINTVL)), value: keepalive.intervalSeconds)
                .channelOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPCNT)), value: keepalive.probes)
            #endif
        }
        bootstrap = bootstrap
            // The core's own connect timeout decides; this only bounds the socket attempt.
            .connectTimeout(.seconds(30))
            .channelInitializer { [self, codecType] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = UpstreamHandler(session: session, runtime: self)
                    try channel.pipeline.syncOperations.addHandler(FrameReader(codec: codecType.init(), sink: handler))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        bootstrap.connect(host: host, port: port).whenComplete { [self] result in
            connectFinished(session, result)
            flushPending()
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
        guard let session = upstreams[connection.rawValue], let channel = session.channel else { return }
        do {
            write(try encoder.encode(message, mutation: mutation, scratch: &scratch), of: message, to: session)
        } catch {
            counters.encodeFailures += 1
            channel.close(promise: nil)
        }
    }

    func close(_ connection: UpstreamConnectionID) {
        guard let session = upstreams.remove(connection.rawValue) else { return }
        resumeReaders(of: session)
        session.closedByCore = true
        session.channel?.close(promise: nil)
    }

    /// An upstream connection ended without the core asking.
    func upstreamEnded(_ session: UpstreamSession) {
        resumeReaders(of: session)
        passagesEnded(at: session)
        guard !session.closedByCore else { return }
        session.closedByCore = true
        upstreams.remove(session.id.rawValue)
        core?.upstreamClosed(session.id)
        flushPending()
    }

    /// Lets the core go (it holds this runtime as its seams, so neither would be freed
    /// otherwise): the timer is cancelled, every connection closed, and late events ignored.
    /// Called on the core loop when the ``ProxyServer`` is released.
    func detach() {
        idleSweepTask?.cancel()
        idleSweepTask = nil
        frameSweepTask?.cancel()
        frameSweepTask = nil
        wake?.task.cancel()
        wake = nil
        for channel in downstreamChannels + upstreamChannels { channel.close(promise: nil) }
        core = nil
    }

    /// Upstream connections open or opening now.
    var upstreamChannels: [Channel] { upstreams.sortedEntries.compactMap(\.value.channel) }
}
