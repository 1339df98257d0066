import MetaProtocol
import TrafficModel

/// Everything a simulation run needs, as plain values: the proxy configuration under test, how
/// the synthetic hosts behave, the network, the clients, the faults, and the run's seed.
public struct SimulationConfiguration: Sendable {
    /// The one seed of the run; every random stream derives from it by name.
    public var seed: UInt64
    /// Clients send until this simulated time; the run then drains what is in flight.
    public var duration: Duration
    /// At most this many calls are sent in all (over every client, warm-up included); nil for
    /// no limit. Sending stops at the limit or at ``duration``, whichever comes first.
    public var callLimit: Int?
    /// Requests sent before this are left out of the results (they still run).
    public var warmUp: Duration
    /// At most this long after `duration` for in-flight requests to finish.
    public var drainLimit: Duration
    /// The routes and clusters the proxies serve; cluster hosts are the synthetic hosts.
    public var proxy: ProxyConfiguration
    /// What the protocol's frames can carry (from its codec).
    public var capabilities: CodecCapabilities
    /// Proxy instances, each with its own core (its own limits, breakers, ejections).
    public var proxyInstances: Int
    /// How the hosts of each cluster behave.
    public var services: [ServiceModel]
    public var network: NetworkModel
    public var clients: [ClientModel]
    public var faults: [FaultEvent]
    public var autoscaling: AutoscalingRule?
    /// The in-simulation global rate-limit service, for configurations that use one.
    public var rateLimitService: RateLimitServiceModel?
    /// Width of the time-series windows.
    public var timeSeriesInterval: Duration
    /// Clients send straight to the hosts, without a proxy: for checking the engine against
    /// queueing theory on its own.
    public var bypassProxy: Bool
    /// When set, every hop carries real frames of a protocol, written and read by its codec and
    /// synthesizer; otherwise messages travel as values and only their sizes count.
    public var bytePath: BytePath?

    public init(seed: UInt64 = 1, duration: Duration, warmUp: Duration = .zero, drainLimit: Duration = .seconds(60),
                proxy: ProxyConfiguration, capabilities: CodecCapabilities = CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64),
                proxyInstances: Int = 1, services: [ServiceModel] = [], network: NetworkModel = NetworkModel(), clients: [ClientModel],
                faults: [FaultEvent] = [], autoscaling: AutoscalingRule? = nil, rateLimitService: RateLimitServiceModel? = nil,
                timeSeriesInterval: Duration = .seconds(1), bypassProxy: Bool = false) {
        self.seed = seed
        self.duration = duration
        self.warmUp = warmUp
        self.drainLimit = drainLimit
        self.proxy = proxy
        self.capabilities = capabilities
        self.proxyInstances = proxyInstances
        self.services = services
        self.network = network
        self.clients = clients
        self.faults = faults
        self.autoscaling = autoscaling
        self.rateLimitService = rateLimitService
        self.timeSeriesInterval = timeSeriesInterval
        self.bypassProxy = bypassProxy
    }
}

/// The byte path: clients write calls with a protocol's ``FrameSynthesizer``, each proxy decodes
/// them with the protocol's codec (one per connection) and encodes what it forwards — renumbered
/// ids, mutations, local replies — hosts decode their calls and answer with synthesized frames,
/// and clients decode the answers. Sizes on the wire are the frames' sizes, so framing overhead
/// costs bandwidth, and codec behaviour is part of the run.
public struct BytePath: Sendable {
    public var makeCodec: @Sendable () -> any MetaCodec
    public var synthesizer: any FrameSynthesizer

    public init(codec: @escaping @Sendable () -> any MetaCodec, synthesizer: any FrameSynthesizer) {
        makeCodec = codec
        self.synthesizer = synthesizer
    }

    /// What the protocol's frames can carry: the proxies are configured with it.
    public var capabilities: CodecCapabilities { type(of: makeCodec()).capabilities }
}

/// One direction of travel: a latency and, optionally, a bandwidth.
public struct LinkModel: Sendable, Hashable {
    /// Seconds.
    public var latency: Distribution
    /// Bytes per second; nil for no transfer time.
    public var bandwidth: Double?

    public init(latency: Distribution = .constant(0), bandwidth: Double? = nil) {
        self.latency = latency
        self.bandwidth = bandwidth
    }
}

/// The network between clients, proxies and hosts.
public struct NetworkModel: Sendable, Hashable {
    public var clientToProxy: LinkModel
    public var proxyToHost: LinkModel

    public init(clientToProxy: LinkModel = LinkModel(), proxyToHost: LinkModel = LinkModel()) {
        self.clientToProxy = clientToProxy
        self.proxyToHost = proxyToHost
    }
}
