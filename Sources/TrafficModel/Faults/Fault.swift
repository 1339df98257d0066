/// Something that happens to the world at a given time of a run.
public struct FaultEvent: Sendable, Hashable {
    public var at: Duration
    public var fault: Fault
    public init(at: Duration, _ fault: Fault) {
        self.at = at
        self.fault = fault
    }
}

/// What can go wrong (and right again). Hosts are named by address.
public enum Fault: Sendable, Hashable {
    /// The host stops: its connections reset, connects fail, work in it is lost.
    case crash(host: String)
    /// The host comes back, empty.
    case restart(host: String)
    /// The host's service times are multiplied by `factor` (1 to undo).
    case slowDown(host: String, factor: Double)
    /// The host answers server errors with this probability instead of its own errors (nil to
    /// undo).
    case errorBurst(host: String, probability: Double?)
    /// Traffic to and from the host is silently lost (connections stay up).
    case partition(host: String)
    case heal(host: String)
    /// Extra one-way latency on every proxy-to-host link, in seconds (0 to undo).
    case addedLatency(seconds: Double)
}
