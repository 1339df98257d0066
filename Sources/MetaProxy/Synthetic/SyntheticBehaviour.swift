import MetaProtocol

/// How a synthetic upstream server answers: service time, errors, response size, concurrency,
/// and scripted phases that change it over time.
public struct SyntheticBehaviour: Sendable, Hashable {
    /// How big a successful answer's payload is.
    public enum ResponseSize: Sendable, Hashable {
        /// As big as the call's body.
        case echo
        case fixed(Int)
    }

    /// A stretch of the server's life, from `at` after it started, that overrides the base
    /// behaviour until the next phase.
    public struct Phase: Sendable, Hashable {
        public var at: Duration
        public var serviceTime: Distribution?
        public var errorRate: Double?
        /// Calls close their connection instead of being answered (a crashing host).
        public var closesConnections: Bool

        public init(at: Duration, serviceTime: Distribution? = nil, errorRate: Double? = nil, closesConnections: Bool = false) {
            self.at = at
            self.serviceTime = serviceTime
            self.errorRate = errorRate
            self.closesConnections = closesConnections
        }
    }

    /// Seconds.
    public var serviceTime: Distribution
    /// Share of calls answered with the protocol's error reply of `errorCategory`.
    public var errorRate: Double
    public var errorCategory: ResponseStatus.Category
    public var responseSize: ResponseSize
    /// Calls served at once by one server (port); more wait in line. Nil: no limit.
    public var concurrency: Int?
    /// Calls that may wait; beyond it a call is answered "unavailable" at once. Nil: no limit.
    public var queueLimit: Int?
    public var phases: [Phase]

    public init(serviceTime: Distribution = .constant(0), errorRate: Double = 0, errorCategory: ResponseStatus.Category = .serverError,
                responseSize: ResponseSize = .echo, concurrency: Int? = nil, queueLimit: Int? = nil, phases: [Phase] = []) {
        self.serviceTime = serviceTime
        self.errorRate = errorRate
        self.errorCategory = errorCategory
        self.responseSize = responseSize
        self.concurrency = concurrency
        self.queueLimit = queueLimit
        self.phases = phases.sorted { $0.at < $1.at }
    }

    /// The phase in force `elapsed` after the start, if any.
    func phase(at elapsed: Duration) -> Phase? { phases.last { $0.at <= elapsed } }
}

/// What one synthetic server (one port) did.
public struct SyntheticCounters: Sendable, Hashable {
    public var connections = 0
    public var calls = 0
    public var oneway = 0
    public var answered = 0
    public var errors = 0
    /// Answered "unavailable" at once because the line was full.
    public var rejected = 0
    /// Connections closed by a phase that closes them.
    public var closedByPhase = 0
    /// Frames the codec refused (the connection is closed).
    public var protocolErrors = 0
    /// The most calls in service at once.
    public var peakConcurrency = 0

    public init() {}
}
