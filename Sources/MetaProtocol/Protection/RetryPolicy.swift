/// When and how a request is tried again (the anchor proxy has no retries; this follows Envoy).
public struct RetryPolicy: Sendable, Hashable {
    /// What makes a try worth repeating.
    public struct Conditions: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The connection to the host could not be made.
        public static let connectFailure = Conditions(rawValue: 1 << 0)
        /// The connection broke while the request was in flight.
        public static let reset = Conditions(rawValue: 1 << 1)
        /// The try hit its per-try timeout.
        public static let perTryTimeout = Conditions(rawValue: 1 << 2)
        /// The host answered "unavailable" (service missing, overloaded, timed out: a gateway
        /// failure in HTTP terms).
        public static let unavailable = Conditions(rawValue: 1 << 3)
        /// The host answered with a server error.
        public static let serverError = Conditions(rawValue: 1 << 4)

        /// Envoy's `connect-failure,reset` plus unavailable answers: safe for any call.
        public static let `default`: Conditions = [.connectFailure, .reset, .unavailable]
    }

    /// Retries after the first try (so at most `numRetries + 1` tries).
    public var numRetries: Int
    public var retryOn: Conditions
    /// Timeout of each try; nil means only the request's overall timeout applies.
    public var perTryTimeout: Duration?
    /// Backoff: the n-th retry waits a uniformly random time in [0, min(max, (2ⁿ − 1)·base)).
    public var backoffBase: Duration
    public var backoffMax: Duration
    /// Try another host than the ones already tried, when the cluster has one.
    public var retryOtherHost: Bool

    public init(numRetries: Int = 1, retryOn: Conditions = .default, perTryTimeout: Duration? = nil,
                backoffBase: Duration = .milliseconds(25), backoffMax: Duration? = nil, retryOtherHost: Bool = true) {
        self.numRetries = numRetries
        self.retryOn = retryOn
        self.perTryTimeout = perTryTimeout
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax ?? backoffBase * 10
        self.retryOtherHost = retryOtherHost
    }

    /// The wait before retry number `retry` (1 for the first retry): Envoy's fully jittered
    /// exponential backoff.
    public func backoff(retry: Int, random: inout SeededRandom) -> Duration {
        let base = backoffBase.nanoseconds
        let multiplier = retry >= 62 ? Int64.max : (Int64(1) << retry) - 1
        let (ceiling, overflow) = base.multipliedReportingOverflow(by: multiplier)
        let cap = overflow ? backoffMax.nanoseconds : min(ceiling, backoffMax.nanoseconds)
        guard cap > 0 else { return .zero }
        return .nanoseconds(Int64(random.next(below: UInt64(cap))))
    }
}
