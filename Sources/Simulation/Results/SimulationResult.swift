import Histogram
import MetaProtocol
import Results

/// What a simulation run produced. Everything here is a function of the configuration, the seed
/// and the build — no wall-clock time — so two runs compare byte for byte. ``runResult(provenance:)``
/// turns it into the versioned ``RunResult`` that reports and the gate read, without losing
/// anything (``init(_:)`` turns it back).
public struct SimulationResult: Sendable {
    public var seed: UInt64
    /// Hash over every dispatched event (time, kind, payload), in order.
    public var traceHash: UInt64
    public var eventsDispatched: UInt64
    /// Simulated time when the run ended, in seconds.
    public var simulatedSeconds: Double
    /// The measured part of the run (the warm-up's end to the end of sending).
    public var window: MeasuredWindow

    /// Calls by outcome (after warm-up).
    public var calls: CallCounts
    /// Time from a call's intended send to its answer, in nanoseconds, for all answered calls
    /// after warm-up; and for successful ones only.
    public var latency: Histogram<UInt64>
    public var successLatency: Histogram<UInt64>
    /// Latency by method (the template's `method` attribute), in first-seen order.
    public var latencyByMethod: [MethodLatency]
    /// Counters of all proxy instances, added up.
    public var proxy: CoreCounters
    /// Per proxy instance (local limits are per instance).
    public var proxyInstances: [CoreCounters]
    public var hosts: [HostResult]
    public var timeSeries: TimeSeries
    /// Which protections and limits fired at least once, and how often.
    public var coverage: [String: Int]
    /// Invariants that did not hold; empty for a sound run.
    public var violations: [String]
    /// Hosts added by autoscaling, with when.
    public var scaleEvents: [ScaleEvent]
    /// What the run held at its peak: memory follows these, not the number of calls.
    public var footprint: Footprint
    /// Bytes sent on each kind of hop (payload sizes, or whole frames on the byte path).
    public var wireBytes: WireBytes

    /// The mean latency in seconds.
    public var meanLatencySeconds: Double { latency.totalCount == 0 ? 0 : latency.mean / 1e9 }

    /// The latency at `percentile` (0–100) in seconds.
    public func latencySeconds(atPercentile p: Double) -> Double { Double(latency.valueAtPercentile(p)) / 1e9 }
}

/// The latency of one method's calls.
public struct MethodLatency: Sendable {
    public var method: String
    public var histogram: Histogram<UInt64>
}

extension SimulationResult {
    /// Names of the result's figures in a ``RunResult``.
    enum Names {
        static let latency = "latency"
        static let successLatency = "success latency"
        static let methodPrefix = "latency of method "
        static let proxy = "proxy"
        static let instancePrefix = "proxy instance "
        static let invariants = "the simulator's invariants: conservation after every event, one answer per call, nothing left at the end, the core's own checks"
    }

    /// The run as a versioned result, with `provenance` (see ``Provenance/current(seed:workload:commandLine:startedAt:)``).
    public func runResult(provenance: Provenance) -> RunResult {
        var latencies = [
            LatencyFigure(name: Names.latency, measurement: .simulatedCall, distribution: LatencyDistribution(latency)),
            LatencyFigure(name: Names.successLatency, measurement: .simulatedCall, distribution: LatencyDistribution(successLatency)),
        ]
        latencies += latencyByMethod.map { LatencyFigure(name: Names.methodPrefix + $0.method, measurement: .simulatedCall, distribution: LatencyDistribution($0.histogram)) }
        var counters = [CounterGroup(name: Names.proxy, counters: proxy.namedCounters)]
        counters += proxyInstances.enumerated().map { CounterGroup(name: Names.instancePrefix + "\($0.offset)", counters: $0.element.namedCounters) }
        return RunResult(
            provenance: provenance, driver: .simulation, window: window, calls: calls, latencies: latencies, counters: counters, hosts: hosts,
            timeSeries: timeSeries, invariants: [InvariantOutcome(name: Names.invariants, violations: violations)],
            coverage: coverage.keys.sorted().map { Counter(name: $0, value: coverage[$0]!) },
            simulation: SimulationFacts(traceHash: traceHash, eventsDispatched: eventsDispatched, simulatedSeconds: simulatedSeconds,
                                        footprint: footprint, wireBytes: wireBytes, scaleEvents: scaleEvents))
    }

    /// The simulation result a ``RunResult`` of a simulation holds.
    public init(_ run: RunResult) throws(ResultError) {
        guard run.driver == .simulation, let facts = run.simulation, let traceHash = facts.traceHashValue else { throw .missing("simulation facts") }
        func histogram(_ name: String) throws(ResultError) -> Histogram<UInt64> {
            guard let figure = run.latency(name) else { throw .missing("latency figure \"\(name)\"") }
            return figure.distribution.histogram
        }
        guard let proxy = run.counters(Names.proxy) else { throw .missing("counter group \"\(Names.proxy)\"") }
        seed = run.provenance.seed
        self.traceHash = traceHash
        eventsDispatched = facts.eventsDispatched
        simulatedSeconds = facts.simulatedSeconds
        window = run.window
        calls = run.calls
        latency = try histogram(Names.latency)
        successLatency = try histogram(Names.successLatency)
        latencyByMethod = run.latencies.filter { $0.name.hasPrefix(Names.methodPrefix) }
            .map { MethodLatency(method: String($0.name.dropFirst(Names.methodPrefix.count)), histogram: $0.distribution.histogram) }
        self.proxy = try CoreCounters(namedCounters: proxy.counters)
        var instances: [CoreCounters] = []
        for group in run.counters where group.name.hasPrefix(Names.instancePrefix) { instances.append(try CoreCounters(namedCounters: group.counters)) }
        proxyInstances = instances
        hosts = run.hosts
        timeSeries = run.timeSeries
        coverage = Dictionary(uniqueKeysWithValues: run.coverage.map { ($0.name, $0.value) })
        violations = run.invariants.flatMap(\.violations)
        scaleEvents = facts.scaleEvents
        footprint = facts.footprint
        wireBytes = facts.wireBytes
    }
}
