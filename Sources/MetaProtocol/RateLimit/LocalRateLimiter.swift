/// MetaRouter's local rate limit: ordered conditions with their own buckets, the first matching
/// one deciding; otherwise the service bucket; with no bucket at all, the request passes.
/// One limiter per proxy instance, so N instances admit N times the limit.
public struct LocalRateLimitPolicy: Sendable {
    /// A condition and its bucket.
    public struct Condition: Sendable {
        public var match: AttributeMatch
        public var bucket: TokenBucketSpec
        public init(match: AttributeMatch, bucket: TokenBucketSpec) {
            self.match = match
            self.bucket = bucket
        }
    }

    /// The bucket for requests no condition matches; nil lets them through.
    public var serviceBucket: TokenBucketSpec?
    public var conditions: [Condition]

    public init(serviceBucket: TokenBucketSpec?, conditions: [Condition] = []) {
        self.serviceBucket = serviceBucket
        self.conditions = conditions
    }
}

/// The live state of a ``LocalRateLimitPolicy``: one bucket per condition plus the service
/// bucket, with how many requests each admitted and limited.
public struct LocalRateLimiter: Sendable {
    /// Which bucket decided.
    public enum Bucket: Sendable, Hashable, CustomStringConvertible {
        case condition(Int)
        case service
        /// No bucket applied: passed without a limit.
        case none

        public var description: String {
            switch self {
            case .condition(let i): "condition_\(i)"
            case .service: "service"
            case .none: "none"
            }
        }
    }

    public let policy: LocalRateLimitPolicy
    private var conditionBuckets: [TokenBucket]
    private var serviceBucket: TokenBucket?
    /// Admitted and limited counts per condition, in condition order.
    public private(set) var conditionStats: [(admitted: Int, limited: Int)]
    public private(set) var serviceStats: (admitted: Int, limited: Int) = (0, 0)
    public private(set) var unlimited = 0

    public init(_ policy: LocalRateLimitPolicy, now: Timestamp) {
        self.policy = policy
        conditionBuckets = policy.conditions.map { TokenBucket($0.bucket, now: now) }
        serviceBucket = policy.serviceBucket.map { TokenBucket($0, now: now) }
        conditionStats = Array(repeating: (0, 0), count: policy.conditions.count)
    }

    /// Decides one request: whether it may pass, and which bucket said so.
    public mutating func admit(_ attributes: Attributes, now: Timestamp) -> (allowed: Bool, bucket: Bucket) {
        for (i, condition) in policy.conditions.enumerated() where condition.match.matches(attributes) {
            let allowed = conditionBuckets[i].tryTake(now: now)
            if allowed { conditionStats[i].admitted += 1 } else { conditionStats[i].limited += 1 }
            return (allowed, .condition(i))
        }
        guard serviceBucket != nil else {
            unlimited += 1
            return (true, .none)
        }
        let allowed = serviceBucket!.tryTake(now: now)
        if allowed { serviceStats.admitted += 1 } else { serviceStats.limited += 1 }
        return (allowed, .service)
    }
}
