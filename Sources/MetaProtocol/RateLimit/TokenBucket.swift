/// A token bucket's settings, in MetaRouter's terms.
public struct TokenBucketSpec: Sendable, Hashable, CustomStringConvertible {
    /// Capacity; the bucket starts full.
    public var maxTokens: Int
    /// Tokens added at every fill.
    public var tokensPerFill: Int
    /// Time between fills; at least 50 ms.
    public var fillInterval: Duration

    /// Fill intervals shorter than this are refused: they turn limits into busy work.
    public static let minimumFillInterval = Duration.milliseconds(50)

    public init(maxTokens: Int, tokensPerFill: Int, fillInterval: Duration) {
        self.maxTokens = maxTokens
        self.tokensPerFill = tokensPerFill
        self.fillInterval = fillInterval
    }

    /// The long-run admitted rate, per second.
    public var fillRate: Double { Double(tokensPerFill) / (Double(fillInterval.nanoseconds) / 1e9) }

    public var description: String { "\(tokensPerFill) per \(fillInterval), max \(maxTokens)" }
}

/// A token bucket on the driver's clock. It starts full; fills happen at creation + k·interval
/// (computed when the bucket is next used, so it needs no timer), each adding `tokensPerFill`
/// up to `maxTokens`; a request takes one token.
///
/// Over any window T it admits at most `maxTokens + tokensPerFill · ⌈T / fillInterval⌉`.
public struct TokenBucket: Sendable {
    public let spec: TokenBucketSpec
    public private(set) var tokens: Int
    private let start: Timestamp
    private let interval: Int64
    private var fillsApplied: Int64 = 0

    public init(_ spec: TokenBucketSpec, now: Timestamp) {
        self.spec = spec
        self.tokens = spec.maxTokens
        self.start = now
        self.interval = max(1, spec.fillInterval.nanoseconds)
    }

    /// Takes a token if there is one.
    public mutating func tryTake(now: Timestamp) -> Bool { tryTake(1, now: now) }

    /// Takes `count` tokens if there are that many; takes none otherwise.
    public mutating func tryTake(_ count: Int, now: Timestamp) -> Bool {
        refill(now: now)
        guard tokens >= count else { return false }
        tokens -= count
        return true
    }

    /// How long until the next fill, seen at `now`.
    public func untilNextFill(now: Timestamp) -> Duration {
        let elapsed = now.nanoseconds - start.nanoseconds
        return .nanoseconds(interval - elapsed % interval)
    }

    /// Applies the fills due by `now`.
    public mutating func refill(now: Timestamp) {
        let due = (now.nanoseconds - start.nanoseconds) / interval
        guard due > fillsApplied else { return }
        let added = (due - fillsApplied).multipliedReportingOverflow(by: Int64(spec.tokensPerFill))
        tokens = added.overflow ? spec.maxTokens : Int(min(Int64(spec.maxTokens), Int64(tokens) + added.partialValue))
        fillsApplied = due
    }
}
