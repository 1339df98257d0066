/// One upstream host: where it is and how it is weighted and grouped.
public struct HostConfiguration: Sendable, Hashable {
    /// `host:port`; also the key consistent hashing places the host by.
    public var address: String
    public var weight: UInt32
    /// Labels subsets select on (`version: v1`).
    public var labels: [String: String]
    /// `region/zone/subzone`, for locality weighting.
    public var locality: String
    /// 0 is the most preferred level.
    public var priority: Int

    public init(address: String, weight: UInt32 = 1, labels: [String: String] = [:], locality: String = "", priority: Int = 0) {
        self.address = address
        self.weight = weight
        self.labels = labels
        self.locality = locality
        self.priority = priority
    }
}

/// A subset: the hosts whose labels include all of these (DestinationRule `subsets`).
public struct SubsetConfiguration: Sendable, Hashable {
    public var name: String
    public var labels: [String: String]
    public init(name: String, labels: [String: String]) {
        self.name = name
        self.labels = labels
    }
}

/// A cluster in DestinationRule's terms, with its hosts: balancing, connection pool and
/// circuit breakers, outlier detection, subsets.
public struct ClusterConfiguration: Sendable, Hashable {
    /// The name routes use (`qza-sample-server.meta-qza.svc.cluster.local`).
    public var name: String
    public var hosts: [HostConfiguration]
    public var subsets: [SubsetConfiguration]
    public var loadBalancer: LoadBalancerPolicy
    /// Locality weights (locality → weight); nil turns locality weighting off.
    public var localityWeights: [String: UInt32]?
    public var panicThresholdPercent: Double
    public var overprovisioningFactor: Int
    public var circuitBreaker: CircuitBreakerThresholds
    public var connectTimeout: Duration
    /// Multiplex requests on few connections by request id (default where the protocol allows
    /// it), or use each connection for one request at a time.
    public var multiplexing: Bool
    /// Connections per host when multiplexing.
    public var connectionsPerHost: Int
    public var outlierDetection: OutlierDetectionPolicy?
    /// An upstream connection with nothing in flight for this long is closed (Istio's
    /// `connectionPool.tcp.idleTimeout`); nil keeps idle connections open.
    public var idleTimeout: Duration? = nil

    public init(name: String, hosts: [HostConfiguration], subsets: [SubsetConfiguration] = [], loadBalancer: LoadBalancerPolicy = .roundRobin,
                localityWeights: [String: UInt32]? = nil, panicThresholdPercent: Double = 50, overprovisioningFactor: Int = 140,
                circuitBreaker: CircuitBreakerThresholds = CircuitBreakerThresholds(), connectTimeout: Duration = .seconds(5),
                multiplexing: Bool = true, connectionsPerHost: Int = 1, outlierDetection: OutlierDetectionPolicy? = nil) {
        self.name = name
        self.hosts = hosts
        self.subsets = subsets
        self.loadBalancer = loadBalancer
        self.localityWeights = localityWeights
        self.panicThresholdPercent = panicThresholdPercent
        self.overprovisioningFactor = overprovisioningFactor
        self.circuitBreaker = circuitBreaker
        self.connectTimeout = connectTimeout
        self.multiplexing = multiplexing
        self.connectionsPerHost = connectionsPerHost
        self.outlierDetection = outlierDetection
    }
}

/// Everything the proxy core needs to know, as plain values: what a configuration file, an
/// Aeraki MetaRouter with Istio DestinationRules, or a Swift caller describes. It is compiled
/// (and validated) into a ``CompiledConfiguration`` before use.
public struct ProxyConfiguration: Sendable, Hashable {
    /// The protocol the listener speaks (a codec's name), to check what its frames can carry.
    public var protocolName: String
    /// The MetaRouter's `hosts`: the services these routes are for (informational).
    public var hosts: [String]
    /// Ordered; the first route whose match holds takes the request.
    public var routes: [RouteConfiguration]
    public var clusters: [ClusterConfiguration]
    public var localRateLimit: LocalRateLimitConfiguration?
    public var globalRateLimit: GlobalRateLimitConfiguration?
    public var tracing: TracingConfiguration?

    public init(protocolName: String, hosts: [String] = [], routes: [RouteConfiguration], clusters: [ClusterConfiguration],
                localRateLimit: LocalRateLimitConfiguration? = nil, globalRateLimit: GlobalRateLimitConfiguration? = nil,
                tracing: TracingConfiguration? = nil) {
        self.protocolName = protocolName
        self.hosts = hosts
        self.routes = routes
        self.clusters = clusters
        self.localRateLimit = localRateLimit
        self.globalRateLimit = globalRateLimit
        self.tracing = tracing
    }
}

/// A configuration refused: where (a field path such as
/// `routes[2].match.attributes.cmd.regex`) and why.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Every problem found in a configuration, in field order.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigurationError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
