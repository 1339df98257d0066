import MetaProtocol
import Workload

/// What `ShouldRateLimit` decides, without the wire: the rules of ``RateLimitRules`` applied to
/// one request's descriptors, with a token bucket per distinct descriptor. Sans-IO like the
/// core (the caller passes the time), so its arithmetic is tested on a virtual clock.
///
/// Matching follows envoyproxy/ratelimit: a descriptor's entries walk the domain's tree one
/// level per entry, each entry taking the node with its key and value, else a node whose value
/// ends in `*` and prefixes it, else the node with its key and no value; the limit is the one of
/// the node the last entry reaches. A descriptor that leaves the tree has no limit. Every
/// distinct list of entries (values included) has its own bucket.
///
/// Where envoyproxy/ratelimit counts fixed windows (a counter per unit, reset at the unit's
/// boundary), this counts token buckets: `requests_per_unit` tokens at most, one more every
/// unit ÷ `requests_per_unit`. The long-run rate is the same; a burst is bounded by one unit's
/// worth at any moment rather than up to two across a window boundary.
public struct RateLimitTable: Sendable {
    /// One descriptor's verdict.
    public struct Status: Sendable, Hashable {
        /// The descriptor is over its limit (false also when no limit covers it).
        public var overLimit: Bool
        /// The limit that applied, if any.
        public var limit: RateLimitRules.Limit?
        /// Tokens left after this request.
        public var remaining: Int
        /// Until the bucket's next token.
        public var untilNextToken: Duration?
    }

    /// What the table counted, by the names `mplab ratelimit-server` prints.
    public struct Counters: Sendable, Hashable {
        public var requests = 0
        public var descriptors = 0
        public var overLimit = 0
        /// Over a limit in shadow mode: reported as within it.
        public var shadowOverLimit = 0
        /// Descriptors no rule covers (or of a domain no file configures).
        public var unlimited = 0
    }

    public let rules: RateLimitRules
    public private(set) var counters = Counters()
    private var buckets: [String: TokenBucket] = [:]

    public init(rules: RateLimitRules) { self.rules = rules }

    /// Applies `hits` (at least 1) to each descriptor of a request in `domain`.
    public mutating func decide(domain: String, descriptors: [[KeyValue]], hits: Int, now: Timestamp) -> [Status] {
        counters.requests += 1
        let hits = max(1, hits)
        var statuses: [Status] = []
        statuses.reserveCapacity(descriptors.count)
        for entries in descriptors {
            counters.descriptors += 1
            guard let node = Self.match(entries, in: rules.domains[domain] ?? []), let limit = node.limit, !limit.unlimited else {
                counters.unlimited += 1
                statuses.append(Status(overLimit: false, limit: nil, remaining: 0, untilNextToken: nil))
                continue
            }
            var key = domain
            for e in entries { key += "\u{1F}\(e.key)\u{1E}\(e.value)" }
            var bucket = buckets[key] ?? TokenBucket(Self.bucketSpec(limit), now: now)
            let admitted = bucket.tryTake(hits, now: now)
            let remaining = bucket.tokens
            let wait = bucket.untilNextFill(now: now)
            buckets[key] = bucket
            var over = !admitted
            if over {
                counters.overLimit += 1
                if node.shadowMode {
                    counters.shadowOverLimit += 1
                    over = false
                }
            }
            statuses.append(Status(overLimit: over, limit: limit, remaining: remaining, untilNextToken: wait))
        }
        return statuses
    }

    /// The node `entries` reach, or nil when they leave the tree.
    static func match(_ entries: [KeyValue], in tree: [RateLimitRules.Descriptor]) -> RateLimitRules.Descriptor? {
        var level = tree
        var reached: RateLimitRules.Descriptor?
        for entry in entries {
            let exact = level.first { $0.key == entry.key && $0.value == entry.value }
            let prefixed = exact == nil ? level.first { d in
                guard d.key == entry.key, let v = d.value, v.hasSuffix("*") else { return false }
                return entry.value.hasPrefix(v.dropLast())
            } : nil
            guard let node = exact ?? prefixed ?? level.first(where: { $0.key == entry.key && $0.value == nil }) else { return nil }
            reached = node
            level = node.descriptors
        }
        return reached
    }

    /// `requests_per_unit` tokens at most, one every unit ÷ `requests_per_unit`.
    static func bucketSpec(_ limit: RateLimitRules.Limit) -> TokenBucketSpec {
        let perUnit = max(1, limit.requestsPerUnit)
        let every = limit.unit.duration / perUnit
        // A zero limit refuses everything: an empty bucket that never fills within the unit.
        if limit.requestsPerUnit == 0 { return TokenBucketSpec(maxTokens: 0, tokensPerFill: 0, fillInterval: limit.unit.duration) }
        return TokenBucketSpec(maxTokens: perUnit, tokensPerFill: 1, fillInterval: every)
    }
}
