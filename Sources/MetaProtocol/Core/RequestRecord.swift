/// Everything the core keeps about one accepted request until its answer.
///
/// A class, so the core's many steps share one record instead of copying it; records are
/// reused (``reset(exchange:configuration:chain:)``), so a request allocates none.
final class RequestRecord {
    enum Phase {
        /// Going through the filter chain.
        case filtering
        /// A filter is waiting (fault delay, rate-limit service).
        case paused
        /// Waiting for a connection to its host.
        case pending
        /// A try is on the wire.
        case inFlight
        /// Waiting out the backoff before a retry.
        case backoff
    }

    /// Breaker resources this request holds.
    struct Holds: OptionSet {
        let rawValue: UInt8
        static let request = Holds(rawValue: 1)
        static let pending = Holds(rawValue: 2)
        static let retry = Holds(rawValue: 4)
    }

    @exclusivity(unchecked) var exchange: Exchange
    /// The configuration and filter chain it started with; a swap does not change them.
    @exclusivity(unchecked) var configuration: CompiledConfiguration
    @exclusivity(unchecked) var chain: FilterChain
    @exclusivity(unchecked) var route: CompiledRoute?
    @exclusivity(unchecked) var cluster: ClusterRuntime?
    @exclusivity(unchecked) var subset: Int?
    @exclusivity(unchecked) var hashKey: UInt64?
    @exclusivity(unchecked) var phase: Phase = .filtering
    @exclusivity(unchecked) var nextFilter = 0
    /// Invalidates a pending resume when the request moved on.
    @exclusivity(unchecked) var resumeGeneration: UInt32 = 0
    /// Tries started.
    @exclusivity(unchecked) var attempt = 0
    /// Hosts whose tries failed, for retries to avoid.
    @exclusivity(unchecked) var failedHosts: [Int] = []
    @exclusivity(unchecked) var holds: Holds = []
    @exclusivity(unchecked) var host = -1
    @exclusivity(unchecked) var connection: UpstreamConnectionID?
    @exclusivity(unchecked) var upstreamID: UInt64 = 0
    /// Whether the current try counts in its host's active requests.
    @exclusivity(unchecked) var countedActive = false
    @exclusivity(unchecked) var tryStartedAt = Timestamp.zero
    /// Its places in the deadline queues (overall timeout, per-try timeout).
    @exclusivity(unchecked) var requestDeadline = DeadlineLink()
    @exclusivity(unchecked) var tryDeadline = DeadlineLink()
    var isOneway: Bool { exchange.request.type == .oneway }

    init(exchange: Exchange, configuration: CompiledConfiguration, chain: FilterChain) {
        self.exchange = exchange
        self.configuration = configuration
        self.chain = chain
    }

    /// Makes a finished record new for another request.
    func reset(exchange: Exchange, configuration: CompiledConfiguration, chain: FilterChain) {
        self.exchange = exchange
        self.configuration = configuration
        self.chain = chain
        route = nil
        cluster = nil
        subset = nil
        hashKey = nil
        phase = .filtering
        nextFilter = 0
        attempt = 0
        failedHosts.removeAll(keepingCapacity: true)
        holds = []
        host = -1
        connection = nil
        upstreamID = 0
        countedActive = false
        tryStartedAt = .zero
        requestDeadline = DeadlineLink()
        tryDeadline = DeadlineLink()
    }
}

/// The filters of one configuration, in order, and by the calls they act on.
final class FilterChain {
    let filters: [MetaFilter]
    /// Stats of the configuration's routes, by route index.
    let routeStats: [RouteStats]
    let requestFilters: [MetaFilter]
    /// In reverse order: responses go back through the chain.
    let responseFilters: [MetaFilter]
    let completionFilters: [MetaFilter]

    init(_ filters: [MetaFilter], routeStats: [RouteStats] = []) {
        self.filters = filters
        self.routeStats = routeStats
        requestFilters = filters.filter { $0.hooks.contains(.request) }
        responseFilters = filters.filter { $0.hooks.contains(.response) }.reversed()
        completionFilters = filters.filter { $0.hooks.contains(.complete) }
    }
}

/// Why a try ended without an answer.
enum TryFailure {
    case connectFailure, reset, perTryTimeout, overflow(String)

    var retryCondition: RetryPolicy.Conditions? {
        switch self {
        case .connectFailure: .connectFailure
        case .reset: .reset
        case .perTryTimeout: .perTryTimeout
        case .overflow: nil
        }
    }

    var localReply: LocalReplyError {
        switch self {
        case .connectFailure: LocalReplyError(.unspecified, message: "upstream connect failure")
        case .reset: LocalReplyError(.unspecified, message: "upstream connection reset")
        case .perTryTimeout: LocalReplyError(.timeout, message: "upstream per-try timeout")
        case .overflow(let what): LocalReplyError(.overflow, message: what)
        }
    }
}

/// What a core timer is for.
enum TimerEvent: Sendable {
    /// The head of a deadline queue may be due.
    case deadlineQueue(Int)
    case retry(SlabKey, attempt: Int)
    case resumeFilters(SlabKey, generation: UInt32)
    case rateLimitTimeout(RateLimitCallID)
    case connectTimeout(UpstreamConnectionID)
    case outlierSweep(Int)
    /// A cluster's idle upstream connections may be due to close (by cluster serial).
    case idleSweep(Int)
}
