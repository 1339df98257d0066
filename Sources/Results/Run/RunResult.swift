import Foundation

/// What one run produced — a simulation or a run on real sockets — in one versioned, `Codable`
/// form that reports, capacity models and the CI gate read.
///
/// Every collection in it is an ordered array (no tuples, no unordered dictionaries), and
/// ``encoded()`` writes keys in sorted order, so encoding the same result twice gives the same
/// bytes and a simulation's result is a function of its workload, seed and build alone.
public struct RunResult: Codable, Sendable, Equatable {
    /// The version of this schema. A reader refuses a result of a newer version than its own.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// What produced the result, where, and how to reproduce it.
    public var provenance: Provenance
    public var driver: Driver
    /// The measured part of the run: calls sent before the warm-up's end are left out of every
    /// figure.
    public var window: MeasuredWindow
    /// Calls by outcome, as the clients scored them (protocol-level status of each answer).
    public var calls: CallCounts
    /// Latency distributions, each saying how it was measured and how many samples back it.
    public var latencies: [LatencyFigure]
    /// Named counters in groups (the proxy's, each proxy instance's, a driver's own).
    public var counters: [CounterGroup]
    /// One entry per synthetic host, in the order the hosts were made.
    public var hosts: [HostResult]
    public var timeSeries: TimeSeries
    /// The invariants the driver checked, and whether they held.
    public var invariants: [InvariantOutcome]
    /// Which protections and limits fired, and how often, by name in sorted order.
    public var coverage: [Counter]
    /// What only a simulation has: trace hash, events, footprint, wire bytes, autoscaling.
    public var simulation: SimulationFacts?
    /// What only a load-generator run has: target, pacing, attempted and achieved rates.
    public var load: LoadFacts?
    /// Other figures (added latencies with their intervals, costs per request), in order.
    public var figures: [Figure]
    /// How the run was set up, where a reader needs it to judge the figures (what was pinned
    /// to which core, what was left out).
    public var notes: [String]

    public init(provenance: Provenance, driver: Driver, window: MeasuredWindow, calls: CallCounts, latencies: [LatencyFigure] = [],
                counters: [CounterGroup] = [], hosts: [HostResult] = [], timeSeries: TimeSeries = TimeSeries(), invariants: [InvariantOutcome] = [],
                coverage: [Counter] = [], simulation: SimulationFacts? = nil, load: LoadFacts? = nil, figures: [Figure] = [], notes: [String] = []) {
        schemaVersion = Self.currentSchemaVersion
        self.provenance = provenance
        self.driver = driver
        self.window = window
        self.calls = calls
        self.latencies = latencies
        self.counters = counters
        self.hosts = hosts
        self.timeSeries = timeSeries
        self.invariants = invariants
        self.coverage = coverage
        self.simulation = simulation
        self.load = load
        self.figures = figures
        self.notes = notes
    }

    /// Which driver ran the workload.
    public enum Driver: String, Codable, Sendable {
        /// The discrete-event simulator: virtual time.
        case simulation
        /// Real sockets on this machine: the monotonic clock.
        case sockets
    }

    /// Whether every invariant held.
    public var invariantsHold: Bool { invariants.allSatisfy(\.holds) }

    /// The latency figure named `name`, if the run has one.
    public func latency(_ name: String) -> LatencyFigure? { latencies.first { $0.name == name } }

    /// The counter group named `name`, if the run has one.
    public func counters(_ name: String) -> CounterGroup? { counters.first { $0.name == name } }

    // MARK: encoding

    /// The result as JSON: keys sorted, indented, so the same result always gives the same bytes.
    public func encoded() throws -> Data { try VersionedJSON.encode(self) }

    /// Reads a result written by ``encoded()``, refusing one of a newer schema than this build's.
    public static func decode(_ data: Data) throws -> RunResult {
        try VersionedJSON.decode(RunResult.self, from: data, supported: currentSchemaVersion)
    }
}

/// A result file that cannot be read.
public enum ResultError: Error, CustomStringConvertible, Equatable {
    case newerSchema(found: Int, supported: Int)
    /// A named figure the reader needs is not in the result.
    case missing(String)
    /// The result holds a figure this build does not know.
    case unknown(String)

    public var description: String {
        switch self {
        case .newerSchema(let found, let supported): "result schema version \(found) is newer than this build reads (\(supported)); use a newer mplab"
        case .missing(let what): "the result has no \(what)"
        case .unknown(let what): "the result has a \(what) this build does not know"
        }
    }
}

/// The part of a run its figures cover.
public struct MeasuredWindow: Codable, Sendable, Hashable {
    /// Calls sent before this (seconds from the start) are left out.
    public var warmUpSeconds: Double
    /// Clients send until this (seconds from the start).
    public var durationSeconds: Double
    /// When the last answer arrived (seconds from the start), the drain included.
    public var endedAtSeconds: Double

    public init(warmUpSeconds: Double, durationSeconds: Double, endedAtSeconds: Double) {
        self.warmUpSeconds = warmUpSeconds
        self.durationSeconds = durationSeconds
        self.endedAtSeconds = endedAtSeconds
    }

    /// The seconds of sending that are measured.
    public var measuredSeconds: Double { max(0, durationSeconds - warmUpSeconds) }
}

/// An invariant a driver checked throughout a run.
public struct InvariantOutcome: Codable, Sendable, Hashable {
    public var name: String
    public var holds: Bool
    /// Each time it did not hold, what was seen (in the order seen).
    public var violations: [String]

    public init(name: String, violations: [String]) {
        self.name = name
        holds = violations.isEmpty
        self.violations = violations
    }
}
