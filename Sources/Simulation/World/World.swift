import Histogram
import MetaProtocol
import NIOCore
import Results
import TrafficModel

/// One simulation run: clients, proxy instances (real cores) and synthetic hosts, driven by one
/// event loop in integer-nanosecond virtual time.
///
/// One thread per run: its state is `@exclusivity(unchecked)` (dynamic exclusivity checks were a
/// quarter of the engine's time).
final class World {
    let config: SimulationConfiguration
    let durationNs: Int64
    let warmUpNs: Int64
    let endNs: Int64

    @exclusivity(unchecked) var now: Int64 = 0
    @exclusivity(unchecked) var events = EventQueue<Event>(capacity: 4096)
    @exclusivity(unchecked) var trace = TraceHash()
    @exclusivity(unchecked) var dispatched: UInt64 = 0

    @exclusivity(unchecked) var proxies: [SimProxy] = []
    /// Each proxy instance's core (the world owns them; see ``SimProxy``).
    @exclusivity(unchecked) var cores: [ProxyCore] = []
    @exclusivity(unchecked) var hosts: [SimHost] = []
    @exclusivity(unchecked) var hostIndex: [String: Int32] = [:]
    @exclusivity(unchecked) var clients: [SimClient] = []
    @exclusivity(unchecked) var templates: [CallTemplate] = []
    /// Whether each template is a oneway call (read on every call: a plain array of flags).
    @exclusivity(unchecked) var onewayTemplates: [Bool] = []
    @exclusivity(unchecked) var messages = Pool<WireMessage>()
    @exclusivity(unchecked) var jobs = Pool<Job>()
    @exclusivity(unchecked) var clusters: [ClusterConfiguration]
    @exclusivity(unchecked) var compiled: CompiledConfiguration?
    /// What the proxies' protocol can carry: the byte path's codec's, else the configuration's.
    let capabilities: CodecCapabilities
    /// The codecs of the byte path; nil when messages travel as values.
    @exclusivity(unchecked) var byteCodecs: ByteCodecs?
    @exclusivity(unchecked) var wireBytes = WireBytes()

    let clientLatency: Distribution.Sampler
    let hostLatency: Distribution.Sampler
    @exclusivity(unchecked) var addedLatencySeconds = 0.0

    // Global rate-limit service: buckets by descriptor key, in first-seen order.
    @exclusivity(unchecked) var rateLimitBuckets: [String: TokenBucket] = [:]
    @exclusivity(unchecked) var rateLimitRandom: SeededRandom
    let rateLimitLatency: Distribution.Sampler?

    // Results.
    @exclusivity(unchecked) var collector: ResultCollector
    @exclusivity(unchecked) var violations: [String] = []
    /// Calls sent so far, counted only under a call limit.
    @exclusivity(unchecked) var callsStarted = 0
    @exclusivity(unchecked) var outstanding = 0
    @exclusivity(unchecked) var peakOutstanding = 0
    @exclusivity(unchecked) var scaleEvents: [ScaleEvent] = []
    @exclusivity(unchecked) var provisioning = false
    @exclusivity(unchecked) var rateLimitedPerSecond: [Int] = []

    /// The response every host answer starts from (copied, never rebuilt).
    let responsePrototype = Message(type: .response, requestID: 0, headerSize: 0, bodySize: 0, attributes: Attributes(), frame: ByteBuffer())

    init(_ config: SimulationConfiguration) throws {
        for service in config.services {
            for (address, behaviour) in [("every host", service.behaviour)] + service.overrides.sorted(by: { $0.key < $1.key }).map({ ($0.key, $0.value) }) {
                if let problem = behaviour.problem { throw SimulationConfigurationError.badHost(cluster: service.cluster, host: address, problem: problem) }
            }
        }
        self.config = config
        durationNs = config.duration.nanoseconds
        warmUpNs = config.warmUp.nanoseconds
        endNs = durationNs + config.drainLimit.nanoseconds
        clusters = config.proxy.clusters
        capabilities = config.bytePath?.capabilities ?? config.capabilities
        clientLatency = config.network.clientToProxy.latency.sampler()
        hostLatency = config.network.proxyToHost.latency.sampler()
        rateLimitRandom = SeededRandom(seed: config.seed, stream: "ratelimit-service")
        rateLimitLatency = config.rateLimitService?.latency.sampler()
        templates = config.clients.flatMap(\.mix)
        onewayTemplates = templates.map(\.oneway)
        collector = ResultCollector(methods: templates.map { $0.method ?? "-" }, interval: config.timeSeriesInterval.nanoseconds)

        for (c, cluster) in clusters.enumerated() {
            for h in cluster.hosts { addHost(h.address, cluster: c) }
        }
        var templateBase = 0
        for (i, model) in config.clients.enumerated() {
            clients.append(SimClient(model: model, index: Int32(i), templateBase: templateBase, seed: config.seed))
            templateBase += model.mix.count
        }
        if !config.bypassProxy {
            let compiled = try CompiledConfiguration.compile(config.proxy, capabilities: capabilities)
            self.compiled = compiled
            for i in 0..<max(1, config.proxyInstances) {
                let proxy = SimProxy(world: self, index: Int32(i))
                proxies.append(proxy)
                cores.append(ProxyCore(configuration: compiled, clock: proxy, upstream: proxy, downstream: proxy,
                                       rateLimitService: config.rateLimitService == nil ? nil : proxy,
                                       seed: Self.proxySeed(config.seed, instance: i)))
            }
            if let path = config.bytePath { byteCodecs = ByteCodecs(path, proxies: proxies.count, clients: clients.count) }
        }
        for i in clients.indices { startClient(Int32(i)) }
        for (i, f) in config.faults.enumerated() { schedule(.fault(index: Int32(i)), at: f.at.nanoseconds) }
        schedule(.sample, at: config.timeSeriesInterval.nanoseconds)
        if config.autoscaling != nil { schedule(.autoscaleCheck, at: 1_000_000_000) }
    }

    /// Hosts out by outlier ejection now, over every proxy instance's clusters.
    var hostsEjected: Int {
        var n = 0
        for core in cores {
            for cluster in clusters { n += core.outlierDetector(cluster.name)?.ejectedCount ?? 0 }
        }
        return n
    }

    /// The seed of proxy instance `i`'s core, from its own named stream.
    static func proxySeed(_ seed: UInt64, instance i: Int) -> UInt64 {
        var r = SeededRandom(seed: seed, stream: "proxy:\(i)")
        return r.next()
    }

    /// A host for `address` in cluster `c`, behaving as its service model says.
    func addHost(_ address: String, cluster c: Int) {
        let name = clusters[c].name
        let service = config.services.first { $0.cluster == name }
        hostIndex[address] = Int32(hosts.count)
        hosts.append(SimHost(address: address, cluster: c, behaviour: service?.behaviour(of: address) ?? HostBehaviour(), seed: config.seed,
                             now: now, measureFrom: warmUpNs))
    }

    @inline(__always)
    func schedule(_ event: Event, at time: Int64) {
        events.push(event, at: max(time, now))
    }

    // MARK: the loop

    /// Runs until the clients have stopped, every call is answered and the hosts have finished
    /// their work (answers to calls given up on included), or until the drain limit.
    func run() -> SimulationResult {
        while let (time, event) = events.pop() {
            if time >= durationNs && outstanding == 0 && jobs.count == 0 { break }
            if time > endNs { break }
            now = time
            let words = event.traceWords
            trace.mix(UInt64(bitPattern: time))
            trace.mix(words.0 << 56 ^ words.1)
            dispatched += 1
            dispatch(event)
            checkConservation()
        }
        return finish()
    }

    private func dispatch(_ event: Event) {
        switch event {
        case .arrival(let c): arrival(c)
        case .atProxy(let m): atProxy(m)
        case .proxyWake(let p): proxies[Int(p)].wake()
        case .connectDone(let p, let c): proxies[Int(p)].connectDone(c)
        case .atHost(let j): atHost(j)
        case .serviceDone(let h, let j): serviceDone(host: h, job: j)
        case .answerAtProxy(let j): answerAtProxy(j)
        case .atClient(let m): atClient(m)
        case .directAnswer(let j): directAnswerAtClient(j)
        case .rateLimitAnswer(let p, let call, let d):
            let decision: GlobalRateLimitDecision = d == 0 ? .ok : (d == 1 ? .overLimit : .error)
            cores[Int(p)].globalRateLimitAnswered(RateLimitCallID(call), decision)
        case .fault(let i): apply(config.faults[Int(i)].fault)
        case .sample:
            collector.closeWindow(at: now, hostsUp: hosts.lazy.filter(\.up).count, hostsEjected: hostsEjected)
            if now < endNs { schedule(.sample, at: now + config.timeSeriesInterval.nanoseconds) }
        case .autoscaleCheck: autoscaleCheck()
        case .scaleUp(let n): scaleUp(Int(n))
        }
    }

    /// Every accepted request is answered, in flight, or dropped: checked after every event.
    private func checkConservation() {
        for i in cores.indices where !cores[i].countersAreConserved {
            let c = cores[i].counters
            violations.append("t=\(Double(now) / 1e9)s proxy \(i): accepted \(c.accepted) != completed \(c.completed) + active \(c.active)")
        }
    }

    // MARK: network

    /// One-way delay to or from `host`, in nanoseconds, for `bytes` bytes.
    func linkDelay(host: Int32, bytes: Int) -> Int64 {
        var seconds = hostLatency.sample(&hosts[Int(host)].network) + addedLatencySeconds
        if let bandwidth = config.network.proxyToHost.bandwidth, bytes > 0 { seconds += Double(bytes) / bandwidth }
        return Int64(seconds * 1e9)
    }

    func clientDelay(client: Int32, bytes: Int) -> Int64 {
        var seconds = clientLatency.sample(&clients[Int(client)].network)
        if let bandwidth = config.network.clientToProxy.bandwidth, bytes > 0 { seconds += Double(bytes) / bandwidth }
        return Int64(seconds * 1e9)
    }

    // MARK: results

    private func finish() -> SimulationResult {
        if collector.windowHasActivity { collector.closeWindow(at: now, hostsUp: hosts.lazy.filter(\.up).count, hostsEjected: hostsEjected) }
        var all = CoreCounters()
        var coverage: [String: Int] = [:]
        for p in proxies {
            let c = p.core.counters
            all.add(c)
            violations.append(contentsOf: p.core.invariantViolations().map { "proxy \(p.index): \($0)" })
            coverage.merge(p.core.protectionCoverage, uniquingKeysWith: +)
        }
        coverage.merge(all.coverage, uniquingKeysWith: { _, counted in counted })
        if outstanding != 0 { violations.append("\(outstanding) calls were never answered") }
        if outstanding == 0, let b = byteCodecs, !(b.messageFrames.isEmpty && b.jobFrames.isEmpty && b.jobRequests.isEmpty) {
            violations.append("byte path: \(b.messageFrames.count + b.jobFrames.count + b.jobRequests.count) frames still held at the end")
        }
        for h in hosts where !h.machine.isIdle {
            violations.append("host \(h.address) still holds work at the end")
        }
        let elapsed = Double(now) / 1e9
        let hostResults = hosts.map { HostResult(address: $0.address, stats: $0.machine.stats.closed(at: now), digest: $0.machine.digest) }
        return SimulationResult(
            seed: config.seed, traceHash: trace.value, eventsDispatched: dispatched, simulatedSeconds: elapsed,
            window: MeasuredWindow(warmUpSeconds: config.warmUp.seconds, durationSeconds: config.duration.seconds, endedAtSeconds: elapsed),
            calls: collector.calls, latency: collector.latency, successLatency: collector.successLatency,
            latencyByMethod: collector.latencyByMethod, proxy: all, proxyInstances: proxies.map { $0.core.counters },
            hosts: hostResults, timeSeries: TimeSeries(intervalSeconds: config.timeSeriesInterval.seconds, windows: collector.windows), coverage: coverage, violations: violations,
            scaleEvents: scaleEvents,
            footprint: Footprint(events: events.peak, messages: messages.peak, jobs: jobs.peak, outstandingCalls: peakOutstanding),
            wireBytes: wireBytes)
    }
}

/// A simulation configuration that cannot run, and why.
public enum SimulationConfigurationError: Error, CustomStringConvertible, Equatable {
    case badHost(cluster: String, host: String, problem: String)

    public var description: String {
        switch self {
        case .badHost(let cluster, let host, let problem): "cluster \(cluster), \(host): \(problem)"
        }
    }
}
