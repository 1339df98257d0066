import MetaProtocol

/// A named count.
public struct Counter: Codable, Sendable, Hashable {
    public var name: String
    public var value: Int

    public init(name: String, value: Int) {
        self.name = name
        self.value = value
    }
}

/// Counters that belong together (a proxy instance's, the synthetic servers' …), in a fixed order.
public struct CounterGroup: Codable, Sendable, Hashable {
    public var name: String
    public var counters: [Counter]

    public init(name: String, counters: [Counter]) {
        self.name = name
        self.counters = counters
    }

    /// The value of the counter named `name`, if the group has it.
    public subscript(name: String) -> Int? { counters.first { $0.name == name }?.value }
}

extension CoreCounters {
    /// The core's counters that are plain numbers, by the names results use.
    static var namedFields: [(name: String, field: WritableKeyPath<CoreCounters, Int>)] { [
        ("accepted", \.accepted), ("heartbeats", \.heartbeats), ("upstream_responses", \.upstreamResponses),
        ("oneway_forwarded", \.onewayForwarded), ("dropped", \.dropped), ("active", \.active), ("retries", \.retries),
        ("per_try_timeouts", \.perTryTimeouts), ("timeouts", \.timeouts),
        ("global_ratelimit_over_limit", \.globalRateLimitOverLimit), ("global_ratelimit_errors", \.globalRateLimitErrors),
        ("global_ratelimit_timeouts", \.globalRateLimitTimeouts), ("global_ratelimit_failed_open", \.globalRateLimitFailedOpen),
        ("mirrors_sent", \.mirrorsSent), ("mirrors_failed", \.mirrorsFailed), ("mirror_responses_dropped", \.mirrorResponsesDropped),
        ("late_responses_dropped", \.lateResponsesDropped), ("unknown_responses", \.unknownResponses),
        ("unexpected_upstream_frames", \.unexpectedUpstreamFrames), ("unexpected_downstream_frames", \.unexpectedDownstreamFrames),
        ("upstream_connects", \.upstreamConnects), ("upstream_connect_failures", \.upstreamConnectFailures),
        ("upstream_connect_timeouts", \.upstreamConnectTimeouts), ("upstream_resets", \.upstreamResets),
        ("upstream_connections_clogged", \.upstreamConnectionsClogged), ("upstream_connections_silent", \.upstreamConnectionsSilent),
        ("upstream_connections_idle_closed", \.upstreamConnectionsIdleClosed), ("configuration_swaps", \.configurationSwaps),
        ("undelivered_responses", \.undeliveredResponses),
    ] }
    static let localReplyPrefix = "local_reply."
    static let filterReplyPrefix = "filter_reply."
    static let filterDelayPrefix = "filter_delay."

    /// Every counter as a named count: the plain ones in a fixed order, then local replies by
    /// reason (every reason), then filter replies and delays by filter name (sorted).
    public var namedCounters: [Counter] {
        var out = Self.namedFields.map { Counter(name: $0.name, value: self[keyPath: $0.field]) }
        out += LocalReplyError.Kind.allCases.map { Counter(name: Self.localReplyPrefix + $0.description, value: localReplies[Int($0.rawValue)]) }
        out += filterReplies.keys.sorted().map { Counter(name: Self.filterReplyPrefix + $0, value: filterReplies[$0]!) }
        out += filterDelays.keys.sorted().map { Counter(name: Self.filterDelayPrefix + $0, value: filterDelays[$0]!) }
        return out
    }

    /// Adds another instance's counters (every field, by the same list that names them).
    public mutating func add(_ other: CoreCounters) {
        for f in Self.namedFields { self[keyPath: f.field] += other[keyPath: f.field] }
        for i in localReplies.indices { localReplies[i] += other.localReplies[i] }
        for (k, v) in other.filterReplies { filterReplies[k, default: 0] += v }
        for (k, v) in other.filterDelays { filterDelays[k, default: 0] += v }
    }

    /// The counters ``namedCounters`` wrote.
    public init(namedCounters: [Counter]) throws(ResultError) {
        self.init()
        for c in namedCounters {
            if let field = Self.namedFields.first(where: { $0.name == c.name })?.field {
                self[keyPath: field] = c.value
            } else if c.name.hasPrefix(Self.localReplyPrefix),
                let kind = LocalReplyError.Kind.allCases.first(where: { Self.localReplyPrefix + $0.description == c.name })
            {
                localReplies[Int(kind.rawValue)] = c.value
            } else if c.name.hasPrefix(Self.filterReplyPrefix) {
                filterReplies[String(c.name.dropFirst(Self.filterReplyPrefix.count))] = c.value
            } else if c.name.hasPrefix(Self.filterDelayPrefix) {
                filterDelays[String(c.name.dropFirst(Self.filterDelayPrefix.count))] = c.value
            } else {
                throw .unknown("core counter named \(c.name)")
            }
        }
    }
}
