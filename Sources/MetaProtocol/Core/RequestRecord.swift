/// Everything the core keeps about one accepted request until its answer.
struct RequestRecord {
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

    var exchange: Exchange
    /// The configuration and filter chain it started with; a swap does not change them.
    let configuration: CompiledConfiguration
    let chain: FilterChain
    var route: Int?
    var cluster: ClusterRuntime?
    var subset: Int?
    var hashKey: UInt64?
    var phase: Phase = .filtering
    var nextFilter = 0
    /// Invalidates a pending resume when the request moved on.
    var resumeGeneration: UInt32 = 0
    /// Tries started.
    var attempt = 0
    /// Hosts whose tries failed, for retries to avoid.
    var failedHosts: [Int] = []
    var holds: Holds = []
    var host = -1
    var connection: UpstreamConnectionID?
    var upstreamID: UInt64 = 0
    /// Whether the current try counts in its host's active requests.
    var countedActive = false
    var tryStartedAt = Timestamp.zero
    /// Its places in the deadline queues (overall timeout, per-try timeout).
    var requestDeadline = DeadlineLink()
    var tryDeadline = DeadlineLink()
    var isOneway: Bool { exchange.request.type == .oneway }

    init(exchange: Exchange, configuration: CompiledConfiguration, chain: FilterChain) {
        self.exchange = exchange
        self.configuration = configuration
        self.chain = chain
    }
}

/// The filters of one configuration, in order.
final class FilterChain {
    let filters: [MetaFilter]
    init(_ filters: [MetaFilter]) { self.filters = filters }
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
    case outlierSweep(ObjectIdentifier)
}
