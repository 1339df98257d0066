/// What a filter may see and change about one request while the core handles it.
public struct Exchange: Sendable {
    /// The request as the client sent it (its own request id).
    public var request: Message
    public let downstream: DownstreamID
    public let acceptedAt: Timestamp
    /// The matched route (nil before routing or when nothing matched).
    public internal(set) var route: RouteView?
    /// The cluster and host of the latest try.
    public var cluster: String? { clusterStats?.name }
    public var host: String? { hostIndex >= 0 ? clusterStats?.hostAddresses[hostIndex] : nil }
    var clusterStats: ClusterStats?
    var hostIndex = -1
    /// Tries made so far.
    public internal(set) var tries = 0
    /// Written into the request when it is sent upstream.
    public var requestMutation = Mutation()
    /// Written into the response on its way to the client.
    public var responseMutation = Mutation()
    /// The W3C trace context sent upstream, if tracing is on.
    public var trace: TraceInfo?
    /// How the request ended (set before ``MetaFilter/onComplete(_:now:)``).
    public internal(set) var outcome: ExchangeOutcome?
    /// The request's method in its route's stats, once the stats filter has looked it up.
    var methodSlot = -1

    init(request: Message, downstream: DownstreamID, acceptedAt: Timestamp) {
        self.request = request
        self.downstream = downstream
        self.acceptedAt = acceptedAt
    }
}

/// The parts of the matched route a filter may act on (shared by all its requests).
public final class RouteView: Sendable {
    public let name: String
    /// The route's position in its configuration.
    public let index: Int
    public let fault: FaultInjection?
    public let requestMutation: Mutation
    public let responseMutation: Mutation

    init(name: String, index: Int, fault: FaultInjection?, requestMutation: Mutation, responseMutation: Mutation) {
        self.name = name
        self.index = index
        self.fault = fault
        self.requestMutation = requestMutation
        self.responseMutation = responseMutation
    }
}

/// A request's trace context as the proxy propagates it.
public struct TraceInfo: Sendable, Hashable {
    /// 32 hex digits.
    public var traceID: String
    /// The proxy's span, sent upstream as the parent.
    public var spanID: String
    public var sampled: Bool
    /// Whether the client sent the trace (else the proxy started it).
    public var continued: Bool
}

/// How a request ended.
public enum ExchangeOutcome: Sendable, Hashable, CustomStringConvertible {
    /// An upstream answer was forwarded.
    case response(ResponseStatus)
    /// The proxy answered itself.
    case localReply(LocalReplyError.Kind)
    /// A oneway call was forwarded.
    case oneway
    /// The client went away first.
    case dropped

    public var isSuccess: Bool {
        switch self {
        case .response(let s): s.isSuccess
        case .oneway: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .response(let s): "response \(s)"
        case .localReply(let k): "local_reply \(k)"
        case .oneway: "oneway"
        case .dropped: "dropped"
        }
    }
}

/// What a filter decides about a request.
public enum FilterDecision: Sendable {
    /// Go on to the next filter (then route upstream).
    case proceed
    /// Stop and answer with this error.
    case reply(LocalReplyError)
    /// Hold the request for this long, then go on to the next filter.
    case delay(Duration)
    /// Ask the global rate-limit service; go on if it allows, answer `over_limit` if not, and
    /// follow `denyOnFailure` if it fails or does not answer within `timeout`.
    case askRateLimitService(domain: String, descriptors: [KeyValue], timeout: Duration, denyOnFailure: Bool)
}

/// A step every request goes through, on its way up (``onRequest``), on its answer's way back
/// (``onResponse``), and once at its end (``onComplete``). Filters are pure decisions: timers,
/// the rate-limit service and answers are the core's job, so a filter needs no I/O of its own.
/// A filter instance belongs to one core and is called on that core's thread only.
public protocol MetaFilter: AnyObject {
    var name: String { get }
    /// Which of the three calls the filter acts on; the core skips the others.
    var hooks: FilterHooks { get }
    func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision
    /// `response` is the upstream answer, or nil for a local reply. Returning `.reply` replaces
    /// an upstream answer with a local error reply.
    func onResponse(_ exchange: inout Exchange, response: Message?, now: Timestamp) -> FilterDecision
    func onComplete(_ exchange: Exchange, now: Timestamp)
}

/// The calls a filter acts on.
public struct FilterHooks: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let request = FilterHooks(rawValue: 1)
    public static let response = FilterHooks(rawValue: 2)
    public static let complete = FilterHooks(rawValue: 4)
    public static let all: FilterHooks = [.request, .response, .complete]
}

extension MetaFilter {
    public var hooks: FilterHooks { .all }

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision { .proceed }
    public func onResponse(_ exchange: inout Exchange, response: Message?, now: Timestamp) -> FilterDecision { .proceed }
    public func onComplete(_ exchange: Exchange, now: Timestamp) {}
}

/// One line of access log: what was asked, where it went, how it ended, how long it took.
public struct AccessLogEntry: Sendable {
    public var start: Timestamp
    public var duration: Duration
    public var downstream: DownstreamID
    public var requestID: UInt64
    public var operation: String
    public var route: String?
    public var cluster: String?
    public var host: String?
    public var tries: Int
    public var outcome: ExchangeOutcome
    public var traceID: String?

    public init(start: Timestamp, duration: Duration, downstream: DownstreamID, requestID: UInt64, operation: String, route: String?,
                cluster: String?, host: String?, tries: Int, outcome: ExchangeOutcome, traceID: String?) {
        self.start = start
        self.duration = duration
        self.downstream = downstream
        self.requestID = requestID
        self.operation = operation
        self.route = route
        self.cluster = cluster
        self.host = host
        self.tries = tries
        self.outcome = outcome
        self.traceID = traceID
    }

    /// `start duration operation route cluster host tries outcome trace` on one line.
    public var line: String {
        let us = duration.nanoseconds / 1000
        let fraction = String(us % 1000)
        let ms = "\(us / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)ms"
        return "\(start.nanoseconds) \(ms) \(downstream) id=\(requestID) \(operation) route=\(route ?? "-") cluster=\(cluster ?? "-") host=\(host ?? "-") tries=\(tries) \(outcome) trace=\(traceID ?? "-")"
    }
}
