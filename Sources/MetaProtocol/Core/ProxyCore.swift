import NIOCore

/// The MetaProtocol proxy core: the request lifecycle that the real proxy and the simulator
/// both drive.
///
/// Decoded request → route match → filter chain (trace context, fault injection, local and
/// global rate limits, mutation) → cluster and subset → load balancer → circuit-breaker
/// admission → upstream try (per-try and overall timeouts) → response or failure → outlier
/// detection → retry or answer → response filters → answer. Every accepted request ends in
/// exactly one answer or one counted drop (``CoreCounters/isConserved``).
///
/// The core is sans-IO: it learns of the world through its entry points and acts on it through
/// the seams (``CoreClock``, ``UpstreamTransport``, ``DownstreamTransport``,
/// ``GlobalRateLimitService``). It is not thread-safe; a driver calls it from one thread.
///
/// Its state, and that of its records, clusters and stats, is `@exclusivity(unchecked)`: one
/// thread, structured accesses, and Swift's dynamic exclusivity checks on class properties were a
/// fifth of the cost of a request. (An attribute, not a compiler flag, so that other packages can
/// depend on this one by version.)
public final class ProxyCore {
    @exclusivity(unchecked) public private(set) var configuration: CompiledConfiguration
    let clock: CoreClock
    let upstream: UpstreamTransport
    let downstream: DownstreamTransport
    let rateLimitService: GlobalRateLimitService?
    let accessLog: AccessLogSink?
    /// Filters of the driver's own, run after the built-in request filters and before the
    /// mutation filter, in every configuration.
    let customFilters: [MetaFilter]
    @exclusivity(unchecked) var random: SeededRandom

    @exclusivity(unchecked) var requests = Slab<RequestRecord>()
    @exclusivity(unchecked) var spareRecords: [RequestRecord] = []
    /// What a recycled record holds until it is used again.
    let idleMessage = Message(type: .request, requestID: 0, headerSize: 0, bodySize: 0, attributes: Attributes(), frame: ByteBuffer())
    @exclusivity(unchecked) var timers = TimerQueue<TimerEvent>()
    @exclusivity(unchecked) var deadlines = DeadlineQueues()
    @exclusivity(unchecked) var requestedWakeUp: Timestamp?
    @exclusivity(unchecked) var connections = IDMap<UpstreamConnection>()
    @exclusivity(unchecked) var nextConnectionID: UInt64 = 1
    /// Calls to the rate-limit service awaiting an answer: the request, and the failure mode
    /// its filter asked for.
    @exclusivity(unchecked) var rateLimitCalls: [RateLimitCallID: (key: SlabKey, denyOnFailure: Bool)] = [:]
    @exclusivity(unchecked) var nextRateLimitCall: UInt64 = 1
    /// Cluster runtimes of the current configuration, by compiled cluster index.
    @exclusivity(unchecked) var clusters: [ClusterRuntime] = []
    @exclusivity(unchecked) var nextClusterSerial = 0
    @exclusivity(unchecked) var chain: FilterChain
    /// Route stats by route name, kept across configuration swaps.
    @exclusivity(unchecked) private var routeStatsByName: [String: RouteStats] = [:]
    /// Stats objects by their id, to name the keys of ``upstreamDetail``.
    @exclusivity(unchecked) var routeStatsByID: [RouteStats] = []
    @exclusivity(unchecked) var clusterStatsByID: [ClusterStats] = []
    /// Figures per (route, cluster, host, method).
    @exclusivity(unchecked) var upstreamDetail = IDMap<RequestStats>()
    @exclusivity(unchecked) public internal(set) var counters = CoreCounters()

    /// A core serving `configuration`, deciding with a generator seeded with `seed`.
    public init(configuration: CompiledConfiguration, clock: CoreClock, upstream: UpstreamTransport, downstream: DownstreamTransport,
                rateLimitService: GlobalRateLimitService? = nil, accessLog: AccessLogSink? = nil, customFilters: [MetaFilter] = [], seed: UInt64) {
        self.configuration = configuration
        self.clock = clock
        self.upstream = upstream
        self.downstream = downstream
        self.rateLimitService = rateLimitService
        self.accessLog = accessLog
        self.customFilters = customFilters
        self.random = SeededRandom(seed: seed)
        self.chain = FilterChain([])
        readClock()
        install(configuration, previous: [:])
    }

    /// The driver's time, read once as each entry point begins: every decision of one event
    /// sees the same instant, and a request costs one clock read on each of its ways in (the
    /// clock is a system call's worth of work on real sockets).
    @exclusivity(unchecked) private(set) var now: Timestamp = .zero

    /// Reads the driver's clock into ``now``; the first thing every entry point does.
    @inline(__always)
    func readClock() { now = clock.now }

    /// Whether the counters' conservation law holds now (read in place: drivers check it after
    /// every event).
    public var countersAreConserved: Bool { counters.isConserved }

    // MARK: configuration

    /// Serves `configuration` from now on. Requests in flight finish with the configuration
    /// they started with; clusters whose definition did not change, or only gained hosts at the
    /// end of their list, keep their state (breakers, ejections, connections, stats). A cluster
    /// changed otherwise starts afresh, and the old one lets its connections go as they idle.
    public func apply(_ configuration: CompiledConfiguration) {
        readClock()
        var previous: [String: ClusterRuntime] = [:]
        for c in clusters { previous[c.name] = c }
        self.configuration = configuration
        install(configuration, previous: previous)
        counters.configurationSwaps += 1
    }

    private func install(_ configuration: CompiledConfiguration, previous: [String: ClusterRuntime]) {
        clusters = configuration.clusters.map { compiled in
            if let old = previous[compiled.name] {
                if old.compiled.configuration == compiled.configuration { return old }
                if old.canGrow(to: compiled) {
                    old.grow(to: compiled)
                    return old
                }
            }
            let runtime = ClusterRuntime(compiled, now: now)
            runtime.serial = nextClusterSerial
            nextClusterSerial += 1
            runtime.stats.id = clusterStatsByID.count
            clusterStatsByID.append(runtime.stats)
            if let detector = runtime.outlier { schedule(.outlierSweep(runtime.serial), at: detector.nextSweep) }
            if let idle = compiled.configuration.idleTimeout { schedule(.idleSweep(runtime.serial), at: now + Self.idleSweepPeriod(idle)) }
            return runtime
        }
        // Runtimes the new configuration does not keep: their idle connections close now, the
        // others once their last try is answered.
        for old in previous.values.sorted(by: { $0.serial < $1.serial }) where !clusters.contains(where: { $0 === old }) {
            old.retired = true
            for host in old.pools.indices {
                for id in old.pools[host].connections { closeIfIdle(id) }
            }
        }
        let routeStats = configuration.routes.map { route in
            if let existing = routeStatsByName[route.name] { return existing }
            let stats = RouteStats(name: route.name)
            stats.id = routeStatsByID.count
            routeStatsByID.append(stats)
            routeStatsByName[route.name] = stats
            return stats
        }
        var filters: [MetaFilter] = [StatsFilter(routes: routeStats)]
        if let tracing = configuration.source.tracing { filters.append(TraceContextFilter(tracing)) }
        // Envoy's order: the delay first, then the abort (a delayed request may still be aborted).
        filters.append(FaultDelayFilter())
        filters.append(FaultAbortFilter())
        if let local = configuration.localRateLimit {
            // The same limit keeps its buckets across a swap: a swap must not refill them.
            let kept = chain.filters.lazy.compactMap { $0 as? LocalRateLimitFilter }.first { $0.source == configuration.source.localRateLimit }
            filters.append(kept ?? LocalRateLimitFilter(local, source: configuration.source.localRateLimit, now: now))
        }
        if let global = configuration.globalRateLimit { filters.append(GlobalRateLimitFilter(global)) }
        filters.append(contentsOf: customFilters)
        filters.append(MutationFilter())
        if let accessLog { filters.append(AccessLogFilter(sink: accessLog)) }
        chain = FilterChain(filters, routeStats: routeStats)
    }

    // MARK: downstream entry points

    /// A frame decoded from client `downstream`.
    public func receive(_ message: Message, from downstream: DownstreamID) {
        readClock()
        switch message.type {
        case .heartbeat:
            counters.heartbeats += 1
            self.downstream.sendHeartbeatReply(to: message, downstream: downstream)
            return
        case .request, .oneway:
            break
        default:
            // Clients send calls; answers or stream frames from them have nothing to match.
            counters.unexpectedDownstreamFrames += 1
            return
        }
        counters.accepted += 1
        counters.active += 1
        let exchange = Exchange(request: message, downstream: downstream, acceptedAt: now)
        let record: RequestRecord
        if let spare = spareRecords.popLast() {
            spare.reset(exchange: exchange, configuration: configuration, chain: chain)
            record = spare
        } else {
            record = RequestRecord(exchange: exchange, configuration: configuration, chain: chain)
        }
        route(requests.insert(record), record)
    }

    /// Keeps a finished record for the next request, so requests allocate no record.
    func recycle(_ record: RequestRecord) {
        guard spareRecords.count < 4096 else { return }
        // Drop what the old request referred to, so nothing outlives it.
        record.reset(exchange: Exchange(request: idleMessage, downstream: DownstreamID(0), acceptedAt: .zero), configuration: configuration, chain: chain)
        spareRecords.append(record)
    }

    /// Client `downstream` went away: its requests in progress are dropped (and counted).
    public func downstreamClosed(_ downstream: DownstreamID) {
        readClock()
        // Most connections close with nothing in progress: no scan of every request for those.
        guard counters.active > 0 else { return }
        for key in requests.keys where requests[key]?.exchange.downstream == downstream {
            counters.dropped += 1
            complete(key, nil, .dropped)
        }
    }

    /// Answers every request in progress with `error` (oneway ones are just finished): how a
    /// drain that runs out of time ends, so that closing the connections afterwards drops
    /// nothing a client is waiting for.
    public func finishAllLocally(_ error: LocalReplyError) {
        readClock()
        for key in requests.keys { finishLocally(key, error) }
    }

    // MARK: global rate limit

    /// The rate-limit service's answer to `call`. Answers after the call's timeout are ignored.
    public func globalRateLimitAnswered(_ call: RateLimitCallID, _ decision: GlobalRateLimitDecision) {
        readClock()
        guard let (key, denyOnFailure) = rateLimitCalls.removeValue(forKey: call), requests[key] != nil else { return }
        switch decision {
        case .ok:
            runFilters(key)
        case .overLimit:
            counters.globalRateLimitOverLimit += 1
            finishLocally(key, LocalReplyError(.overLimit, message: "global rate limit"))
        case .error:
            counters.globalRateLimitErrors += 1
            rateLimitFailed(key, denyOnFailure: denyOnFailure)
        }
    }

    func rateLimitFailed(_ key: SlabKey, denyOnFailure: Bool) {
        if denyOnFailure {
            finishLocally(key, LocalReplyError(.overLimit, message: "global rate limit service unavailable"))
        } else {
            counters.globalRateLimitFailedOpen += 1
            runFilters(key)
        }
    }

    // MARK: inspection

    /// Requests being handled.
    public var activeRequests: Int { requests.count }

    /// Open or opening upstream connections.
    public var upstreamConnectionCount: Int { connections.count }

    /// Live stats of a cluster of the current configuration.
    public func clusterStats(_ name: String) -> ClusterStats? { clusters.first { $0.name == name }?.stats }

    /// The circuit breaker of a cluster of the current configuration.
    public func circuitBreaker(_ cluster: String) -> CircuitBreaker? { clusters.first { $0.name == cluster }?.breaker }

    /// The outlier detector of a cluster of the current configuration.
    public func outlierDetector(_ cluster: String) -> OutlierDetector? { clusters.first { $0.name == cluster }?.outlier }

    /// Stats of every route ever configured, by name.
    public var routeStats: [RouteStats] { routeStatsByName.values.sorted { $0.name < $1.name } }

    /// The local rate limiter of the current configuration, if any.
    public var localRateLimiter: LocalRateLimiter? { chain.filters.lazy.compactMap { $0 as? LocalRateLimitFilter }.first?.limiter }

    /// Violated invariants, if any: the conservation law, active counts, breaker limits.
    public func invariantViolations() -> [String] {
        var violations: [String] = []
        if !counters.isConserved {
            violations.append("conservation: accepted \(counters.accepted) != completed \(counters.completed) + active \(counters.active)")
        }
        if counters.active != requests.count { violations.append("active counter \(counters.active) != \(requests.count) records") }
        for c in clusters {
            for r in CircuitBreaker.Resource.allCases where r != .retries && c.breaker.highWater[r.rawValue] > c.breaker.limit(r) {
                violations.append("cluster \(c.name): \(r) reached \(c.breaker.highWater[r.rawValue]) over its limit \(c.breaker.limit(r))")
            }
            if c.activity.activeRequests.contains(where: { $0 < 0 }) { violations.append("cluster \(c.name): negative active requests") }
        }
        return violations
    }

    /// Whether the core holds nothing for any request: no record, no active count, no breaker
    /// resource other than connections, no pending queue. True once all work has drained.
    public var isIdle: Bool {
        requests.count == 0 && counters.active == 0
            && clusters.allSatisfy { c in
                c.breaker.inUse(.requests) == 0 && c.breaker.inUse(.pendingRequests) == 0 && c.breaker.inUse(.retries) == 0
                    && c.activity.activeRequests.allSatisfy { $0 == 0 } && c.pools.allSatisfy { $0.pendingCount == 0 }
            }
    }
}

extension Array {
    /// The element at `index`, or nil when out of bounds.
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
