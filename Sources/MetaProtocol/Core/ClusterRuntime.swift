/// The live state of one cluster in one proxy instance: host health, active requests, circuit
/// breaker, outlier detection, balancers per subset, connection pools, and its stats.
///
/// Survives configuration swaps while the cluster's definition is unchanged, and grows in place
/// when the only change is hosts added at the end (an endpoint update, as autoscaling makes), so
/// breakers, ejections and connections carry over.
final class ClusterRuntime {
    /// A number the core gives each runtime: timers name runtimes by it.
    @exclusivity(unchecked) var serial = 0
    /// Replaced by a configuration swap: it serves only the requests that started with it
    /// (their retries included), and its connections close as they fall idle.
    @exclusivity(unchecked) var retired = false
    @exclusivity(unchecked) private(set) var compiled: CompiledCluster
    var name: String { compiled.name }
    var hosts: [HostConfiguration] { compiled.configuration.hosts }
    @exclusivity(unchecked) var breaker: CircuitBreaker
    @exclusivity(unchecked) var outlier: OutlierDetector?
    let activity: HostActivity
    /// Balancers: index 0 over the whole cluster, 1 + i over subset i; nil until built or after
    /// a host's health changed.
    @exclusivity(unchecked) private var balancers: [HostSetBalancer?]
    /// Per-host connection pools.
    @exclusivity(unchecked) var pools: [HostPool]
    let stats: ClusterStats

    init(_ compiled: CompiledCluster, now: Timestamp) {
        self.compiled = compiled
        breaker = CircuitBreaker(compiled.configuration.circuitBreaker)
        outlier = compiled.configuration.outlierDetection.map { OutlierDetector(policy: $0, hostCount: compiled.configuration.hosts.count, now: now) }
        activity = HostActivity(hostCount: compiled.configuration.hosts.count)
        balancers = Array(repeating: nil, count: compiled.subsets.count + 1)
        pools = Array(repeating: HostPool(), count: compiled.configuration.hosts.count)
        stats = ClusterStats(name: compiled.name, hosts: compiled.configuration.hosts.map(\.address))
    }

    func isHealthy(_ host: Int) -> Bool { !(outlier?.isEjected(host) ?? false) }

    /// Whether `new` is this cluster with hosts added after its own, and nothing else changed.
    func canGrow(to new: CompiledCluster) -> Bool {
        var old = compiled.configuration, grown = new.configuration
        guard grown.hosts.count > old.hosts.count, Array(grown.hosts.prefix(old.hosts.count)) == old.hosts else { return false }
        old.hosts = []
        grown.hosts = []
        return old == grown
    }

    /// Takes on the hosts `new` adds (see ``canGrow(to:)``): they start healthy, with empty
    /// pools; the balancers are rebuilt on the next pick.
    func grow(to new: CompiledCluster) {
        let added = new.configuration.hosts.count - hosts.count
        compiled = new
        outlier?.addHosts(added)
        activity.activeRequests.append(contentsOf: repeatElement(0, count: added))
        pools.append(contentsOf: repeatElement(HostPool(), count: added))
        stats.addHosts(new.configuration.hosts.suffix(added).map(\.address))
        balancers = Array(repeating: nil, count: new.subsets.count + 1)
    }

    /// Rebuilds balancers on the next pick (a host's health changed).
    func healthChanged() {
        for i in balancers.indices { balancers[i] = nil }
    }

    /// Picks a host of the cluster (or of `subset`), avoiding `avoid` when another host can be
    /// had within a few picks (a retry prefers another host, as Envoy's previous-hosts predicate).
    func pick(subset: Int?, hashKey: UInt64?, avoid: [Int], random: inout SeededRandom) -> Int? {
        let slot = subset.map { $0 + 1 } ?? 0
        if balancers[slot] == nil {
            let members = (subset.map { compiled.subsets[$0].hosts } ?? Array(hosts.indices)).map { i in
                HostSetBalancer.Member(host: BalancerHost(index: i, weight: hosts[i].weight, hashKey: hosts[i].address),
                                       priority: hosts[i].priority, locality: hosts[i].locality, healthy: isHealthy(i))
            }
            balancers[slot] = HostSetBalancer(members, settings: compiled.balancerSettings)
        }
        let input = PickInput(hashKey: hashKey, activity: activity)
        var choice = balancers[slot]!.pick(input, random: &random)
        var attempts = 0
        while let c = choice, avoid.contains(c), attempts < 3 {
            choice = balancers[slot]!.pick(PickInput(hashKey: hashKey.map { $0 &+ UInt64(attempts + 1) }, activity: activity), random: &random)
            attempts += 1
        }
        return choice
    }
}

/// Connections of one host, and the requests waiting for one.
struct HostPool {
    var connections: [UpstreamConnectionID] = []
    /// Requests waiting for a connection, first come first served.
    var pending: [SlabKey] = []
    var pendingHead = 0

    var pendingCount: Int { pending.count - pendingHead }

    mutating func enqueue(_ key: SlabKey) { pending.append(key) }

    mutating func dequeue() -> SlabKey? {
        guard pendingHead < pending.count else { return nil }
        let key = pending[pendingHead]
        pendingHead += 1
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        }
        return key
    }

    mutating func removePending(_ key: SlabKey) {
        if let i = pending[pendingHead...].firstIndex(of: key) { pending.remove(at: i) }
    }
}

/// One upstream connection.
struct UpstreamConnection {
    enum State { case connecting, ready }
    let cluster: ClusterRuntime
    let host: Int
    var state: State
    /// Requests in flight, by the upstream request id the core gave them.
    var inFlight = IDMap<InFlight>()
    var nextRequestID: UInt64 = 1
    let multiplexed: Bool
    /// Entries of `inFlight` no one waits for (mirrors, tries given up): their answers may
    /// never come, and each holds an id and memory until it does.
    var unanswered = 0

    /// Unanswered entries past which a connection takes no more requests and closes once only
    /// such entries are left: an upstream that stops answering cannot grow the table forever.
    static let maxUnanswered = 1024

    var isClogged: Bool { unanswered >= Self.maxUnanswered }

    /// Requests riding on it that ran out of their route timeout since it last delivered an
    /// answer (any answer, late ones too).
    var timeoutsSinceAnswer = 0
    /// Retired as silent: it takes no new request and closes once nothing on it is awaited.
    var retiring = false
    /// When it was last connected, written to or read from (for the idle timeout).
    var lastActiveAt = Timestamp.zero

    /// Request timeouts in a row, with nothing read in between, that retire a connection (see
    /// ``ProxyCore/retireIfSilent(_:)``).
    static let maxTimeoutsWithoutAnswer = 3

    /// Whether it can take one more request now.
    var canTakeRequest: Bool { state == .ready && !isClogged && !retiring && (multiplexed || inFlight.isEmpty) }

    /// What an upstream id stands for.
    enum InFlight {
        /// A try of a request.
        case request(SlabKey, attempt: Int)
        /// A mirrored copy: its answer is dropped.
        case mirror
        /// A try given up on (per-try timeout, request finished): a late answer is dropped.
        case abandoned
    }

    /// A free upstream id within `bits`.
    mutating func allocateRequestID(bits: Int) -> UInt64 {
        let mask: UInt64 = bits >= 64 ? .max : (1 << UInt64(bits)) - 1
        while true {
            let id = nextRequestID & mask
            nextRequestID &+= 1
            if id != 0 && inFlight[id] == nil { return id }
        }
    }
}
