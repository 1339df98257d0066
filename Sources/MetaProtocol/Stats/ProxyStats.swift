/// Counters of the whole proxy instance. Together they prove that every accepted request got
/// exactly one answer or one counted drop:
/// `accepted == upstreamResponses + localReplies + onewayForwarded + dropped + active`.
public struct CoreCounters: Sendable, Hashable {
    /// Requests and oneway calls taken from clients (heartbeats not included).
    public var accepted = 0
    public var heartbeats = 0
    /// Upstream responses forwarded to clients.
    public var upstreamResponses = 0
    /// Local replies, by ``LocalReplyError/Kind`` raw value.
    public var localReplies = [Int](repeating: 0, count: LocalReplyError.Kind.allCases.count)
    public var onewayForwarded = 0
    /// Requests whose client went away before the answer.
    public var dropped = 0
    /// Requests currently being handled.
    public var active = 0
    public var retries = 0
    public var perTryTimeouts = 0
    public var timeouts = 0
    /// Local replies decided by filters, by filter name (`fault`, `local_ratelimit`…).
    public var filterReplies: [String: Int] = [:]
    /// Requests held by filters, by filter name.
    public var filterDelays: [String: Int] = [:]
    public var globalRateLimitOverLimit = 0
    public var globalRateLimitErrors = 0
    public var globalRateLimitTimeouts = 0
    /// Global rate-limit failures let through by the failure mode.
    public var globalRateLimitFailedOpen = 0
    public var mirrorsSent = 0
    public var mirrorsFailed = 0
    /// Mirror answers received and dropped.
    public var mirrorResponsesDropped = 0
    /// Answers to tries already given up (per-try timeout, finished request), dropped.
    public var lateResponsesDropped = 0
    /// Answers whose request id matches nothing in flight on their connection.
    public var unknownResponses = 0
    /// Frames from upstream that are not answers (requests, heartbeats).
    public var unexpectedUpstreamFrames = 0
    /// Frames from clients that are not calls (answers, stream frames), ignored.
    public var unexpectedDownstreamFrames = 0
    public var upstreamConnects = 0
    public var upstreamConnectFailures = 0
    public var upstreamConnectTimeouts = 0
    public var upstreamResets = 0
    /// Upstream connections closed because too many of their requests went unanswered.
    public var upstreamConnectionsClogged = 0
    /// Upstream connections closed after tries on them timed out in a row with nothing read.
    public var upstreamConnectionsSilent = 0
    /// Upstream connections closed after carrying nothing for the cluster's idle timeout.
    public var upstreamConnectionsIdleClosed = 0
    public var configurationSwaps = 0
    /// Upstream responses the driver could not write to the client (answered with a local
    /// reply or dropped instead, and counted as such).
    public var undeliveredResponses = 0

    public init() {}

    public var totalLocalReplies: Int { localReplies.reduce(0, +) }

    /// Answered or dropped, all ways.
    public var completed: Int { upstreamResponses + totalLocalReplies + onewayForwarded + dropped }

    /// Whether the conservation law holds.
    public var isConserved: Bool { accepted == completed + active }
}

/// Request figures for one label set (a route, a method of a route, a cluster, a host).
public struct RequestStats: Sendable {
    public var total = 0
    public var success = 0
    /// Answered with an error (upstream error status or local reply).
    public var error = 0
    public var localReplies = 0
    public var active = 0
    public var time = LatencyHistogram()
    public init() {}

    /// Counts a finished request.
    mutating func record(_ outcome: ExchangeOutcome, elapsed: Duration) {
        total += 1
        if outcome.isSuccess { success += 1 } else { error += 1 }
        if case .localReply = outcome { localReplies += 1 }
        time.record(elapsed)
    }
}

/// Stats of one route, with a per-method breakdown.
public final class RouteStats: @unchecked Sendable {
    public let name: String
    /// A number the core gives each route stats object, for compact keys.
    @exclusivity(unchecked) var id = 0
    @exclusivity(unchecked) public var requests = RequestStats()
    /// Per method, in first-seen order. Each name is written into a dozen `/metrics` series
    /// and kept for the process's life (across swaps), so what a client can add is bounded:
    /// at most ``maxMethods`` names learned from traffic, none longer than
    /// ``maxMethodNameBytes``; the rest count as `other`.
    @exclusivity(unchecked) public private(set) var methods: [(name: String, stats: RequestStats)] = []
    @exclusivity(unchecked) private var methodIndex: [UInt64: [Int]] = [:]
    /// The last method looked up: traffic mostly repeats a few methods.
    @exclusivity(unchecked) private var lastSlot = -1
    /// Names learned from traffic (not `other` or `unknown`).
    @exclusivity(unchecked) private(set) var learnedMethods = 0
    /// Past ``openAdmission`` learned names, a name is learned on its second sighting: the hash
    /// of a name seen once waits here (one per bucket, the newest wins). Names a client makes up
    /// one per call then fill at most half the table, and a method that recurs still gets its
    /// own series.
    @exclusivity(unchecked) private var probation: [UInt64] = []
    @exclusivity(unchecked) private var otherSlot = -1
    public static let maxMethods = 256
    public static let maxMethodNameBytes = 128
    static let openAdmission = maxMethods / 2
    static let probationBuckets = 1024
    public static let otherMethod = "other"

    init(name: String) { self.name = name }

    /// The index of `method`'s stats, found by its bytes (no `String` is built unless the
    /// method is new).
    func methodSlot(_ method: AttributeText?) -> Int {
        guard let method else { return slot(named: "unknown") }
        if lastSlot >= 0, method.equals(methods[lastSlot].name) { return lastSlot }
        let hash = method.withUTF8 { XXHash64.hash($0) }
        if let candidates = methodIndex[hash] {
            for i in candidates where method.equals(methods[i].name) {
                lastSlot = i
                return i
            }
        }
        guard method.utf8Count <= Self.maxMethodNameBytes, learnedMethods < Self.maxMethods else { return other() }
        if learnedMethods >= Self.openAdmission {
            if probation.isEmpty { probation = Array(repeating: 0, count: Self.probationBuckets) }
            let bucket = Int(hash % UInt64(Self.probationBuckets))
            guard probation[bucket] == hash else {
                probation[bucket] = hash
                return other()
            }
            probation[bucket] = 0
        }
        learnedMethods += 1
        methods.append((method.string, RequestStats()))
        methodIndex[hash, default: []].append(methods.count - 1)
        lastSlot = methods.count - 1
        return lastSlot
    }

    private func other() -> Int {
        if otherSlot < 0 { otherSlot = slot(named: Self.otherMethod) }
        return otherSlot
    }

    private func slot(named name: String) -> Int {
        let hash = XXHash64.hash(name)
        if let candidates = methodIndex[hash] {
            for i in candidates where methods[i].name == name { return i }
        }
        methods.append((name, RequestStats()))
        methodIndex[hash, default: []].append(methods.count - 1)
        return methods.count - 1
    }

    func updateMethod(_ slot: Int, _ body: (inout RequestStats) -> Void) { body(&methods[slot].stats) }
}

/// Stats of one cluster and its hosts.
public final class ClusterStats: @unchecked Sendable {
    public let name: String
    /// A number the core gives each cluster stats object, for compact keys.
    @exclusivity(unchecked) var id = 0
    @exclusivity(unchecked) public private(set) var hostAddresses: [String]
    @exclusivity(unchecked) public var requests = RequestStats()
    @exclusivity(unchecked) public var hosts: [RequestStats]
    @exclusivity(unchecked) public var connectionsOpened = 0
    @exclusivity(unchecked) public var connectFailures = 0
    @exclusivity(unchecked) public var retries = 0
    @exclusivity(unchecked) public var pendingTotal = 0

    init(name: String, hosts: [String]) {
        self.name = name
        self.hostAddresses = hosts
        self.hosts = Array(repeating: RequestStats(), count: hosts.count)
    }

    /// Hosts added to the cluster in place.
    func addHosts(_ addresses: [String]) {
        hostAddresses += addresses
        hosts += Array(repeating: RequestStats(), count: addresses.count)
    }
}

/// The finest-grained request figures: per route, cluster, host and method, packed into one
/// non-zero id for an ``IDMap``.
struct UpstreamDetailKey: Hashable {
    var route: Int
    var cluster: Int
    var host: Int
    var method: Int

    /// nil when a part does not fit its 16 bits (15 for the route).
    var packed: UInt64? {
        guard route < 1 << 15, cluster < 1 << 16, host < 1 << 16, method < 1 << 16 else { return nil }
        return 1 &+ (UInt64(route) << 48 | UInt64(cluster) << 32 | UInt64(host) << 16 | UInt64(method))
    }

    init(route: Int, cluster: Int, host: Int, method: Int) {
        self.route = route
        self.cluster = cluster
        self.host = host
        self.method = method
    }

    init(packed: UInt64) {
        let v = packed &- 1
        route = Int(v >> 48)
        cluster = Int((v >> 32) & 0xffff)
        host = Int((v >> 16) & 0xffff)
        method = Int(v & 0xffff)
    }
}
