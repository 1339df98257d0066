import MetaProtocol
import NIOCore
import NIOPosix
import Results

/// One proxy instance on real sockets: a listener for one protocol in front of a ``ProxyCore``.
///
/// The listener, its client connections and the upstream connections its core opens all live on
/// one loop of the group, the core's (see ``CoreRuntime``). The configuration can be swapped while it serves
/// (``apply(_:)``); ``shutdown()`` stops accepting, lets requests in progress finish up to the
/// drain timeout, then closes every connection.
public final class ProxyServer: Sendable {
    /// The address it listens on (with the port the system chose when asked for port 0).
    public let localAddress: SocketAddress
    public let protocolName: String
    private let runtime: CoreRuntime
    private let listener: Channel
    private let accessLog: FileAccessLog?

    /// Releasing the server closes it: its listener and connections close at once (use
    /// ``shutdown()`` first to let requests finish), and its core is freed.
    deinit {
        listener.close(promise: nil)
        let runtime = runtime
        runtime.onCoreLoop { runtime.detach() }
    }

    private init(runtime: CoreRuntime, listener: Channel, accessLog: FileAccessLog?) {
        self.runtime = runtime
        self.listener = listener
        self.accessLog = accessLog
        localAddress = listener.localAddress!
        protocolName = runtime.codecType.protocolName
    }

    /// Starts a proxy for `codec`'s protocol serving `configuration`, listening on `host:port`.
    /// Global rate limits ask the services of `rateLimitServices` (without it, every call under
    /// one follows the limit's failure mode).
    public static func start(configuration: CompiledConfiguration, codec: any MetaCodec.Type, host: String, port: Int,
                             group: EventLoopGroup, settings: ProxySettings = ProxySettings(), accessLog: AccessLogSink? = nil,
                             rateLimitServices: RateLimitServices? = nil) async throws -> ProxyServer {
        let runtime = CoreRuntime(configuration: configuration, codecType: codec, group: group, settings: settings, accessLog: accessLog,
                                  rateLimitServices: rateLimitServices)
        // Accepting on the core's loop puts every client connection there.
        let listener = try await ServerBootstrap(group: runtime.loop)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: settings.writeBufferLowWatermark, high: settings.writeBufferHighWatermark))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(BackPressureHandler())
                    let handler = DownstreamHandler(runtime: runtime, channel: channel)
                    try pipeline.addHandler(FrameReader(codec: codec.init(), sink: handler))
                    try pipeline.addHandler(handler)
                }
            }
            .bind(host: host, port: port)
            .get()
        if let file = accessLog as? FileAccessLog {
            runtime.loop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { _ in file.flush() }
        }
        return ProxyServer(runtime: runtime, listener: listener, accessLog: accessLog as? FileAccessLog)
    }

    /// Runs `body` with the core on its loop and returns what it returns.
    private func withCore<T: Sendable>(_ body: @escaping @Sendable (CoreRuntime) -> T) async -> T {
        let runtime = runtime
        return try! await runtime.loop.submit {
            let value = body(runtime)
            runtime.flushPending()
            return value
        }.get()
    }

    /// Serves `configuration` from now on; requests in flight finish with the one they started with.
    public func apply(_ configuration: CompiledConfiguration) async {
        await withCore {
            $0.configurationPermitsCutThrough = CoreRuntime.permitsCutThrough(configuration)
            $0.rateLimitClient = $0.rateLimitServices?.client(for: configuration.source)
            $0.core!.apply(configuration)
        }
    }

    /// The configuration being served.
    public func configuration() async -> CompiledConfiguration {
        await withCore { $0.core!.configuration }
    }

    /// The core's counters and the runtime's connection counters, read together.
    public func counters() async -> (core: CoreCounters, runtime: RuntimeCounters) {
        await withCore { ($0.core!.counters, $0.counters) }
    }

    /// The core's and the runtime's counters as result counter groups, named after the address.
    public func counterGroups() async -> [CounterGroup] {
        let (core, runtime) = await counters()
        let name = "proxy \(localAddress.hostAndPort)"
        return [CounterGroup(name: name, counters: core.namedCounters), CounterGroup(name: name + " runtime", counters: runtime.namedCounters)]
    }

    /// Which protections and limits fired, and how often (breakers, ejections, local replies,
    /// retries …), named as the simulator names them.
    public func coverage() async -> [String: Int] {
        await withCore { runtime in
            let core = runtime.core!
            return core.protectionCoverage.merging(core.counters.coverage, uniquingKeysWith: +)
        }
    }

    /// Whether the proxy answered or counted every request it accepted (the conservation law),
    /// as a result's invariant.
    public func conservation() async -> InvariantOutcome {
        let (core, _) = await counters()
        let broken = core.isConserved ? [] : ["accepted \(core.accepted) != completed \(core.completed) + active \(core.active)"]
        return InvariantOutcome(name: "proxy \(localAddress.hostAndPort): accepted = answered + dropped + active", violations: broken)
    }

    /// Requests in progress.
    public func activeRequests() async -> Int {
        await withCore { $0.core!.activeRequests }
    }

    /// The core's stats in Prometheus text format, with the runtime's connection counters.
    public func prometheusText() async -> String {
        await withCore { runtime in
            let c = runtime.counters
            var text = runtime.core!.prometheusText()
            for (name, help, value) in [("mplab_downstream_connections_accepted_total", "Client connections accepted.", c.downstreamAccepted),
                                        ("mplab_downstream_connections_refused_total", "Client connections refused at the connection limit.", c.downstreamRefused),
                                        ("mplab_downstream_protocol_errors_total", "Client connections closed for a frame the codec refused.", c.downstreamProtocolErrors),
                                        ("mplab_downstream_idle_closed_total", "Client connections closed after the idle timeout.", c.downstreamIdleClosed),
                                        ("mplab_upstream_protocol_errors_total", "Upstream connections closed for a frame the codec refused.", c.upstreamProtocolErrors),
                                        ("mplab_encode_failures_total", "Frames the codec could not write.", c.encodeFailures),
                                        ("mplab_cut_through_frames_total", "Frames forwarded as they arrived.", c.cutThroughFrames),
                                        ("mplab_cut_through_aborted_total", "Frames forwarded as they arrived that a closed connection cut short.", c.cutThroughAborted)] {
                text += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
            }
            text += "# HELP mplab_downstream_connections_active Client connections open.\n# TYPE mplab_downstream_connections_active gauge\n"
            text += "mplab_downstream_connections_active \(c.downstreamActive)\n"
            return text
        }
    }

    /// The core's loop and the loops of the connections open now, for tests that check that no
    /// frame changes threads.
    func connectionLoops() async -> (core: EventLoop, downstream: [EventLoop], upstream: [EventLoop]) {
        await withCore { ($0.loop, $0.downstreamChannels.map(\.eventLoop), $0.upstreamChannels.map(\.eventLoop)) }
    }

    /// The upstream connections open now, for tests that read their socket options.
    func upstreamChannels() async -> [Channel] { await withCore { $0.upstreamChannels } }

    /// A weak reference to the core, for tests that check it is freed with the server.
    func weakCore() async -> WeakCore { await withCore { WeakCore($0.core) } }

    /// A reference to a core that does not keep it alive.
    final class WeakCore: @unchecked Sendable {
        weak var core: ProxyCore?
        init(_ core: ProxyCore?) { self.core = core }
    }

    /// Stops accepting, tells the clients (where the protocol has a way: Dubbo's READONLY
    /// event), waits up to the drain timeout for requests in progress — those arriving on open
    /// connections meanwhile are served too — then answers what is left with a local error
    /// reply and closes every connection once the replies are written. Returns the requests
    /// still in progress at the deadline (0 when all finished).
    @discardableResult
    public func shutdown() async -> Int {
        try? await listener.close()
        await withCore { _ = $0.sendDrainNotice() }
        let deadline = ContinuousClock.now + runtime.settings.drainTimeout
        var active = await activeRequests()
        while active > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
            active = await activeRequests()
        }
        if active > 0 {
            await withCore { $0.core?.finishAllLocally(LocalReplyError(.unspecified, message: "proxy shutting down: drain timeout")) }
        }
        let downstream = await withCore { $0.downstreamChannels }
        // An empty write completes after every write before it: the replies are out.
        for channel in downstream { try? await channel.writeAndFlush(ByteBuffer()).get() }
        let channels = await withCore { $0.downstreamChannels + $0.upstreamChannels }
        for channel in channels { try? await channel.close() }
        if let accessLog {
            await withCore { _ in accessLog.flush() }
            accessLog.drain()
        }
        return active
    }
}
