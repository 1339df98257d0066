/// What only a simulated run has.
public struct SimulationFacts: Codable, Sendable, Hashable {
    /// Hash over every dispatched event (time, kind, payload), in order, in hexadecimal: the
    /// same workload, seed and build give the same hash.
    public var traceHash: String
    public var eventsDispatched: UInt64
    /// Simulated time when the run ended, seconds.
    public var simulatedSeconds: Double
    public var footprint: Footprint
    public var wireBytes: WireBytes
    /// Hosts added by autoscaling, with when.
    public var scaleEvents: [ScaleEvent]

    public init(traceHash: UInt64, eventsDispatched: UInt64, simulatedSeconds: Double, footprint: Footprint, wireBytes: WireBytes, scaleEvents: [ScaleEvent]) {
        self.traceHash = Self.hex(traceHash)
        self.eventsDispatched = eventsDispatched
        self.simulatedSeconds = simulatedSeconds
        self.footprint = footprint
        self.wireBytes = wireBytes
        self.scaleEvents = scaleEvents
    }

    /// The trace hash as a number.
    public var traceHashValue: UInt64? { UInt64(traceHash.dropFirst(2), radix: 16) }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}

/// The peak sizes of a run's working sets. A run's memory grows with what is in flight at
/// once, never with how many calls it simulates: results stream into histograms and counters.
public struct Footprint: Codable, Sendable, Hashable {
    /// Events pending at once.
    public var events: Int
    /// Messages on the wire (client–proxy) at once.
    public var messages: Int
    /// Requests travelling to, queued at, served by or returning from hosts at once.
    public var jobs: Int
    /// Calls clients were waiting on at once.
    public var outstandingCalls: Int

    public init(events: Int, messages: Int, jobs: Int, outstandingCalls: Int) {
        self.events = events
        self.messages = messages
        self.jobs = jobs
        self.outstandingCalls = outstandingCalls
    }
}

/// Bytes put on the wire, by hop and direction, over the whole run.
public struct WireBytes: Codable, Sendable, Hashable {
    public var clientsToProxies = 0
    public var proxiesToClients = 0
    public var proxiesToHosts = 0
    public var hostsToProxies = 0

    public init() {}
}

/// Hosts added by autoscaling at a moment of the run.
public struct ScaleEvent: Codable, Sendable, Hashable {
    /// Seconds from the start.
    public var seconds: Double
    public var hosts: Int

    public init(seconds: Double, hosts: Int) {
        self.seconds = seconds
        self.hosts = hosts
    }
}
