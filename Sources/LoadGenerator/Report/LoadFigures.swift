import MetaProtocol
import Results

/// What a worker (or a whole run, once workers are merged) measured. Histograms and counts only,
/// so figures of several workers, processes or shards add up exactly.
public struct LoadFigures: Sendable, Equatable {
    /// From each call's intended send time to its answer (open loop); from its actual send in
    /// closed loop, where there is no schedule.
    public var latency = LatencyDistribution()
    /// From each call's actual send to its answer.
    public var serviceTime = LatencyDistribution()
    /// From each call's intended send time to its actual send.
    public var scheduleLag = LatencyDistribution()
    /// Calls by outcome, scored by the status in each answer's own bytes.
    public var calls = CallCounts()
    /// Calls the schedule asked for in the measured window.
    public var attempted = 0
    /// Of the calls sent, those that waited for a free connection slot.
    public var late = 0
    /// Calls the schedule asked for that never left: no free slot and the backlog full.
    public var notSent = 0
    /// Calls with no answer within the request timeout.
    public var timeouts = 0
    /// Answers whose request id matches no call in flight on their connection.
    public var unmatched = 0
    /// Answers that came after their call had timed out.
    public var lateAnswers = 0
    /// Calls in flight on a connection that closed before their answer.
    public var dropped = 0
    /// Frames the codec could not read (the connection is closed).
    public var protocolErrors = 0
    /// Calls the synthesizer could not write.
    public var unwritable = 0
    public var connectFailures = 0
    /// Connections that closed before the run ended.
    public var connectionsLost = 0
    /// When the last call was meant to leave (nanoseconds from the start): where a run that
    /// stopped at its request limit ended its schedule.
    public var lastScheduled: Int64 = 0

    public init() {}

    /// Adds another worker's or shard's figures.
    public mutating func merge(_ other: LoadFigures) {
        latency.merge(other.latency)
        serviceTime.merge(other.serviceTime)
        scheduleLag.merge(other.scheduleLag)
        calls.add(other.calls)
        for f in Self.countFields { self[keyPath: f.field] += other[keyPath: f.field] }
        lastScheduled = max(lastScheduled, other.lastScheduled)
    }

    /// The plain counts, by the names results use.
    static var countFields: [(name: String, field: WritableKeyPath<LoadFigures, Int>)] {
        [("attempted", \.attempted), ("late", \.late), ("not_sent", \.notSent), ("timeouts", \.timeouts), ("unmatched", \.unmatched),
         ("late_answers", \.lateAnswers), ("dropped", \.dropped), ("protocol_errors", \.protocolErrors), ("unwritable", \.unwritable),
         ("connect_failures", \.connectFailures), ("connections_lost", \.connectionsLost)]
    }

    public var namedCounters: [Counter] { Self.countFields.map { Counter(name: $0.name, value: self[keyPath: $0.field]) } }

    /// Calls that did not end in a successful answer: error statuses, timeouts, unmatched ids,
    /// calls never sent or never written.
    public var failures: Int {
        calls.applicationError + calls.serverError + calls.unavailable + calls.localReplies.reduce(0, +) + timeouts + unmatched + notSent + unwritable + dropped
    }
}
