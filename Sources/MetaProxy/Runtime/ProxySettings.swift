/// How a proxy instance runs on sockets (the routing configuration is separate and can be
/// swapped while it runs).
public struct ProxySettings: Sendable, Hashable {
    /// Client connections held at once; more are closed as they arrive, counted.
    public var maxDownstreamConnections: Int
    /// A client connection with nothing read or written for this long is closed; nil never.
    public var downstreamIdleTimeout: Duration?
    /// A frame a client has begun must be all in within this, or its connection is closed,
    /// counted (`downstream_frame_timeouts`): activity alone (a byte a minute) would keep a
    /// slot and a partial frame of up to the codec's maximum held for ever. nil never.
    public var downstreamFrameTimeout: Duration? = .seconds(60)
    /// A connection stops being read while more than the high watermark of its writes is
    /// pending, and reads again below the low one (backpressure).
    public var writeBufferHighWatermark: Int
    public var writeBufferLowWatermark: Int
    /// How long a graceful shutdown waits for requests in progress.
    public var drainTimeout: Duration
    /// The core's random seed; nil draws one (tests fix it).
    public var seed: UInt64?
    /// Where to reach upstream hosts instead of the address the configuration gives them
    /// (configuration address → `host:port`). The configuration's address still names the host
    /// everywhere else — in balancing, consistent hashing, stats — so production manifests run
    /// against local stand-ins and decide exactly as they would there.
    public var upstreamAddresses: [String: String] = [:]
    /// Test-only: hold the client connection's loop busy this long for every frame read, a
    /// known latency regression for showing that `mplab gate` catches one (`mplab proxy
    /// --inject-delay-us`, hidden). Never set in a real deployment.
    public var injectedDelay: Duration?
    /// Frames at least this long are routed once their head is in and forwarded as the rest
    /// arrives (cut-through), where the protocol and the configuration allow it; nil buffers
    /// every frame whole.
    public var cutThroughThreshold: Int? = 16 << 10
    /// TCP keepalive on upstream connections; nil leaves it off.
    public var upstreamKeepalive: TCPKeepalive? = TCPKeepalive()

    public init(maxDownstreamConnections: Int = 10_000, downstreamIdleTimeout: Duration? = .seconds(300),
                writeBufferHighWatermark: Int = 1 << 20, writeBufferLowWatermark: Int = 256 << 10,
                drainTimeout: Duration = .seconds(10), seed: UInt64? = nil) {
        self.maxDownstreamConnections = maxDownstreamConnections
        self.downstreamIdleTimeout = downstreamIdleTimeout
        self.writeBufferHighWatermark = writeBufferHighWatermark
        self.writeBufferLowWatermark = writeBufferLowWatermark
        self.drainTimeout = drainTimeout
        self.seed = seed
    }
}

/// TCP keepalive probes (Istio's `connectionPool.tcp.tcpKeepalive`): after `idleSeconds` with
/// nothing received, a probe every `intervalSeconds`; `probes` unanswered ones close the
/// connection (its requests fail as a reset, which outlier detection counts). The defaults
/// find a vanished host in about 90 s; Linux's own wait two hours before the first probe.
public struct TCPKeepalive: Sendable, Hashable {
    public var idleSeconds: Int
    public var intervalSeconds: Int
    public var probes: Int
    public init(idleSeconds: Int = 60, intervalSeconds: Int = 10, probes: Int = 3) {
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
        self.probes = probes
    }
}
