/// A cluster's circuit-breaker thresholds (Envoy's names and defaults; DestinationRule's
/// `connectionPool`).
public struct CircuitBreakerThresholds: Sendable, Hashable {
    public var maxConnections: Int
    /// Requests waiting for a connection.
    public var maxPendingRequests: Int
    /// Requests in flight to the cluster.
    public var maxRequests: Int
    /// Retries in flight to the cluster (ignored when a ``RetryBudget`` is set).
    public var maxRetries: Int
    public var retryBudget: RetryBudget?

    public init(maxConnections: Int = 1024, maxPendingRequests: Int = 1024, maxRequests: Int = 1024, maxRetries: Int = 3, retryBudget: RetryBudget? = nil) {
        self.maxConnections = maxConnections
        self.maxPendingRequests = maxPendingRequests
        self.maxRequests = maxRequests
        self.maxRetries = maxRetries
        self.retryBudget = retryBudget
    }
}

/// Retries allowed as a share of the requests in flight, with a floor (Envoy's retry budget).
public struct RetryBudget: Sendable, Hashable {
    /// Percent of active plus pending requests that may be retries.
    public var budgetPercent: Double
    /// Retries allowed whatever the load.
    public var minRetryConcurrency: Int

    public init(budgetPercent: Double = 20, minRetryConcurrency: Int = 3) {
        self.budgetPercent = budgetPercent
        self.minRetryConcurrency = minRetryConcurrency
    }

    /// Concurrent retries allowed with `active` requests in flight and `pending` waiting:
    /// `max(minRetryConcurrency, budgetPercent % · (active + pending))`.
    public func allowedRetries(active: Int, pending: Int) -> Int {
        max(minRetryConcurrency, Int(budgetPercent * Double(active + pending) / 100))
    }
}

/// A cluster's circuit breaker: four resources, each with its limit and its own overflow
/// counter. A resource is taken before the work starts and given back when it ends; a refusal
/// is counted once, in the counter of the resource that refused.
public struct CircuitBreaker: Sendable {
    /// The resources a breaker guards.
    public enum Resource: Int, Sendable, CaseIterable, CustomStringConvertible {
        case connections, pendingRequests, requests, retries

        public var description: String {
            switch self {
            case .connections: "cx"
            case .pendingRequests: "rq_pending"
            case .requests: "rq"
            case .retries: "rq_retry"
            }
        }
    }

    public let thresholds: CircuitBreakerThresholds
    /// In use, by resource.
    public private(set) var inUse: [Int] = [0, 0, 0, 0]
    /// Refusals, by resource (Envoy's `upstream_cx_overflow`, `upstream_rq_pending_overflow`,
    /// `upstream_rq_overflow`, `upstream_rq_retry_overflow`).
    public private(set) var overflows: [Int] = [0, 0, 0, 0]
    /// The most ever in use at once, by resource: what a "never exceeded" check reads.
    public private(set) var highWater: [Int] = [0, 0, 0, 0]

    public init(_ thresholds: CircuitBreakerThresholds = CircuitBreakerThresholds()) {
        self.thresholds = thresholds
    }

    /// The limit of `resource` now (the retry budget depends on the load).
    public func limit(_ resource: Resource) -> Int {
        switch resource {
        case .connections: thresholds.maxConnections
        case .pendingRequests: thresholds.maxPendingRequests
        case .requests: thresholds.maxRequests
        case .retries:
            thresholds.retryBudget.map {
                $0.allowedRetries(active: inUse[Resource.requests.rawValue], pending: inUse[Resource.pendingRequests.rawValue])
            } ?? thresholds.maxRetries
        }
    }

    /// Whether one more `resource` would fit, without taking it.
    public func canTake(_ resource: Resource) -> Bool { inUse[resource.rawValue] < limit(resource) }

    /// Takes one `resource` if the limit allows; otherwise counts an overflow and returns false.
    public mutating func tryTake(_ resource: Resource) -> Bool {
        guard canTake(resource) else {
            overflows[resource.rawValue] += 1
            return false
        }
        inUse[resource.rawValue] += 1
        highWater[resource.rawValue] = max(highWater[resource.rawValue], inUse[resource.rawValue])
        return true
    }

    /// Gives one `resource` back.
    public mutating func release(_ resource: Resource) {
        precondition(inUse[resource.rawValue] > 0, "released a \(resource) the breaker never gave")
        inUse[resource.rawValue] -= 1
    }

    public func inUse(_ resource: Resource) -> Int { inUse[resource.rawValue] }
    public func overflows(_ resource: Resource) -> Int { overflows[resource.rawValue] }
}
