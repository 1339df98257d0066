/// One condition of a match: an attribute and how it must look.
public struct AttributeCondition: Sendable, Hashable {
    public var attribute: String
    public var match: StringMatch
    public var invert: Bool

    public init(_ attribute: String, _ match: StringMatch, invert: Bool = false) {
        self.attribute = attribute
        self.match = match
        self.invert = invert
    }
}

/// Where a route sends traffic: a cluster (MetaRouter's `destination.host`), optionally one of
/// its subsets, with a weight among the route's destinations.
public struct RouteDestination: Sendable, Hashable {
    public var cluster: String
    public var subset: String?
    public var weight: Int

    public init(cluster: String, subset: String? = nil, weight: Int = 1) {
        self.cluster = cluster
        self.subset = subset
        self.weight = weight
    }
}

/// A copy of matching requests sent, fire-and-forget, to another destination.
public struct MirrorPolicy: Sendable, Hashable {
    public var destination: RouteDestination
    /// Percent of the route's requests mirrored (0…100).
    public var percentage: Double

    public init(destination: RouteDestination, percentage: Double = 100) {
        self.destination = destination
        self.percentage = percentage
    }
}

/// Faults a route injects, each on a percentage of its requests (the anchor has none).
public struct FaultInjection: Sendable, Hashable {
    /// Answer locally with this error instead of forwarding.
    public var abort: (error: LocalReplyError.Kind, percentage: Double)?
    /// Hold the request this long before going on.
    public var delay: (duration: Duration, percentage: Double)?

    public init(abort: (error: LocalReplyError.Kind, percentage: Double)? = nil, delay: (duration: Duration, percentage: Double)? = nil) {
        self.abort = abort
        self.delay = delay
    }

    public static func == (a: FaultInjection, b: FaultInjection) -> Bool {
        a.abort?.error == b.abort?.error && a.abort?.percentage == b.abort?.percentage
            && a.delay?.duration == b.delay?.duration && a.delay?.percentage == b.delay?.percentage
    }

    public func hash(into h: inout Hasher) {
        h.combine(abort?.error)
        h.combine(abort?.percentage)
        h.combine(delay?.duration)
        h.combine(delay?.percentage)
    }
}

/// A route in MetaRouter's terms: a match, destinations with weights, and what happens on the
/// way (mirrors, mutations, hashing, timeout, retries, faults).
public struct RouteConfiguration: Sendable, Hashable {
    public var name: String
    /// All must hold; an empty match takes every request.
    public var match: [AttributeCondition]
    public var destinations: [RouteDestination]
    public var mirrors: [MirrorPolicy]
    /// Key/values written into matching requests, and into their responses.
    public var requestMutation: [KeyValue]
    public var responseMutation: [KeyValue]
    /// Attributes whose values, sorted and hashed with xxHash64, key consistent hashing.
    public var hashPolicy: [String]
    /// The whole request, all tries included; nil takes ``RouteConfiguration/defaultTimeout``.
    public var timeout: Duration?
    public var retry: RetryPolicy?
    public var fault: FaultInjection?

    /// Envoy's default route timeout.
    public static let defaultTimeout = Duration.seconds(15)

    public init(name: String, match: [AttributeCondition] = [], destinations: [RouteDestination], mirrors: [MirrorPolicy] = [],
                requestMutation: [KeyValue] = [], responseMutation: [KeyValue] = [], hashPolicy: [String] = [],
                timeout: Duration? = nil, retry: RetryPolicy? = nil, fault: FaultInjection? = nil) {
        self.name = name
        self.match = match
        self.destinations = destinations
        self.mirrors = mirrors
        self.requestMutation = requestMutation
        self.responseMutation = responseMutation
        self.hashPolicy = hashPolicy
        self.timeout = timeout
        self.retry = retry
        self.fault = fault
    }
}

/// A key and a value, kept in order.
public struct KeyValue: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// The local rate limit of a MetaRouter: the service bucket and ordered condition buckets.
public struct LocalRateLimitConfiguration: Sendable, Hashable {
    public struct Condition: Sendable, Hashable {
        public var match: [AttributeCondition]
        public var tokenBucket: TokenBucketSpec
        public init(match: [AttributeCondition], tokenBucket: TokenBucketSpec) {
            self.match = match
            self.tokenBucket = tokenBucket
        }
    }

    public var tokenBucket: TokenBucketSpec?
    public var conditions: [Condition]

    public init(tokenBucket: TokenBucketSpec?, conditions: [Condition] = []) {
        self.tokenBucket = tokenBucket
        self.conditions = conditions
    }
}

/// The global rate limit of a MetaRouter: which requests ask the rate-limit service, with
/// which descriptors, how long to wait for it, and what to do when it fails.
public struct GlobalRateLimitConfiguration: Sendable, Hashable {
    /// A descriptor entry: `key` with the value of the request's `attribute`.
    public struct Descriptor: Sendable, Hashable {
        public var key: String
        public var attribute: String
        public init(key: String, attribute: String) {
            self.key = key
            self.attribute = attribute
        }
    }

    /// Requests that ask the service; empty asks for all.
    public var match: [AttributeCondition]
    public var domain: String
    public var descriptors: [Descriptor]
    public var timeout: Duration
    /// Refuse requests when the service fails or does not answer in time (else let them pass).
    public var denyOnFailure: Bool
    /// The rate-limit service, as the MetaRouter names it: `host:port`, or an Istio cluster
    /// name (`outbound|8081||ratelimit.default.svc.cluster.local`). The socket driver connects
    /// to it (`mplab proxy --rate-limit-service` overrides it); the core never reads it.
    public var service: String?

    public init(match: [AttributeCondition] = [], domain: String, descriptors: [Descriptor], timeout: Duration = .milliseconds(20),
                denyOnFailure: Bool = false, service: String? = nil) {
        self.match = match
        self.domain = domain
        self.descriptors = descriptors
        self.timeout = timeout
        self.denyOnFailure = denyOnFailure
        self.service = service
    }
}

/// W3C trace-context propagation: requests carrying a `traceparent` continue its trace; others
/// start one, sampled at ``samplingPercentage``. The outgoing `traceparent` (with the proxy's
/// span) is written into the request as a mutation.
public struct TracingConfiguration: Sendable, Hashable {
    public var samplingPercentage: Double
    public init(samplingPercentage: Double = 100) { self.samplingPercentage = samplingPercentage }
}
