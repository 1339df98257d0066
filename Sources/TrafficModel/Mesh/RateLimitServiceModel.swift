import MetaProtocol

/// A global rate-limit service as the simulator models it: one token bucket per descriptor set,
/// shared by all proxy instances, answering after `latency`, failing with `failureProbability`.
public struct RateLimitServiceModel: Sendable, Hashable {
    public var bucket: TokenBucketSpec
    /// Seconds.
    public var latency: Distribution
    public var failureProbability: Double

    public init(bucket: TokenBucketSpec, latency: Distribution = .constant(0.001), failureProbability: Double = 0) {
        self.bucket = bucket
        self.latency = latency
        self.failureProbability = failureProbability
    }
}
