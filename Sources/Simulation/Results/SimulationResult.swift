import Histogram
import MetaProtocol

/// What a simulation run produced. Everything here is a function of the configuration, the seed
/// and the build — no wall-clock time — so two runs compare byte for byte.
public struct SimulationResult: Sendable {
    public var seed: UInt64
    /// Hash over every dispatched event (time, kind, payload), in order.
    public var traceHash: UInt64
    public var eventsDispatched: UInt64
    /// Simulated time when the run ended, in seconds.
    public var simulatedSeconds: Double

    /// Calls by outcome (after warm-up).
    public var calls: CallCounts
    /// Time from a call's intended send to its answer, in nanoseconds, for all answered calls
    /// after warm-up; and for successful ones only.
    public var latency: Histogram<UInt64>
    public var successLatency: Histogram<UInt64>
    /// Latency by method (the template's `method` attribute), in first-seen order.
    public var latencyByMethod: [(method: String, histogram: Histogram<UInt64>)]
    /// Counters of all proxy instances, added up.
    public var proxy: CoreCounters
    /// Per proxy instance (local limits are per instance).
    public var proxyInstances: [CoreCounters]
    public var hosts: [HostResult]
    public var timeSeries: [Window]
    /// Which protections and limits fired at least once, and how often.
    public var coverage: [String: Int]
    /// Invariants that did not hold; empty for a sound run.
    public var violations: [String]
    /// Hosts added by autoscaling, with when.
    public var scaleEvents: [(seconds: Double, hosts: Int)]
    /// What the run held at its peak: memory follows these, not the number of calls.
    public var footprint: Footprint
    /// Bytes sent on each kind of hop (payload sizes, or whole frames on the byte path).
    public var wireBytes: WireBytes

    /// The mean latency in seconds.
    public var meanLatencySeconds: Double { latency.totalCount == 0 ? 0 : latency.mean / 1e9 }

    /// The latency at `percentile` (0–100) in seconds.
    public func latencySeconds(atPercentile p: Double) -> Double { Double(latency.valueAtPercentile(p)) / 1e9 }
}

/// Calls by outcome.
public struct CallCounts: Sendable, Hashable {
    public var sent = 0
    public var oneway = 0
    public var answered = 0
    public var success = 0
    public var applicationError = 0
    public var serverError = 0
    public var unavailable = 0
    /// Answered by the proxy itself, by reason.
    public var localReplies = [Int](repeating: 0, count: LocalReplyError.Kind.allCases.count)
    public init() {}

    public func localReplies(_ kind: LocalReplyError.Kind) -> Int { localReplies[Int(kind.rawValue)] }
}

/// A host's figures: for utilization and Little's law.
public struct HostResult: Sendable, Hashable {
    public var address: String
    public var completions: Int
    public var errors: Int
    /// Turned away because the queue was full.
    public var rejected: Int
    /// Time-average number of requests in the host (waiting or served).
    public var meanInSystem: Double
    /// Completions per second.
    public var throughput: Double
    /// Mean time a request spent in the host, seconds.
    public var meanSojourn: Double
    /// Share of requests that had to wait for a worker.
    public var waitedFraction: Double
    /// Mean wait for a worker, seconds.
    public var meanWait: Double
    public var maxQueue: Int
}

/// One time-series window.
public struct Window: Sendable, Hashable {
    /// Window start, seconds.
    public var start: Double
    public var sent = 0
    public var answered = 0
    public var success = 0
    public var errors = 0
    /// Local replies `over_limit` (rate limited).
    public var rateLimited = 0
    /// Latency percentiles of the calls answered in the window, seconds.
    public var p50 = 0.0
    public var p99 = 0.0
    public var hostsUp = 0
}

/// The peak sizes of a run's working sets. A run's memory grows with what is in flight at
/// once, never with how many calls it simulates: results stream into histograms and counters.
public struct Footprint: Sendable, Hashable {
    /// Events pending at once.
    public var events: Int
    /// Messages on the wire (client–proxy) at once.
    public var messages: Int
    /// Requests travelling to, queued at, served by or returning from hosts at once.
    public var jobs: Int
    /// Calls clients were waiting on at once.
    public var outstandingCalls: Int
}

/// Bytes put on the wire, by hop and direction, over the whole run.
public struct WireBytes: Sendable, Hashable {
    public var clientsToProxies = 0
    public var proxiesToClients = 0
    public var proxiesToHosts = 0
    public var hostsToProxies = 0
}
