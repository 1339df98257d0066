import TrafficModel

/// One synthetic host's figures over the measured window: for utilization, Little's law and the
/// queueing checks. Every count covers the same window as the clients' (calls that arrived
/// after the warm-up).
public struct HostResult: Codable, Sendable, Hashable {
    /// The host's name (its address in the simulation; as `mplab serve` was told, on sockets).
    public var address: String
    public var arrivals: Int
    public var completions: Int
    /// Completions answered with an error.
    public var errors: Int
    /// Turned away because the line was full.
    public var rejected: Int
    /// Calls met by a phase that closes connections.
    public var closedConnections: Int
    /// Calls in the host when it crashed.
    public var lost: Int
    /// Time-average number of calls in the host (waiting or served).
    public var meanInSystem: Double
    /// Completions per second.
    public var throughput: Double
    /// Mean time a call spent in the host, seconds.
    public var meanSojourn: Double
    /// Share of completions that waited for a worker.
    public var waitedFraction: Double
    /// Mean wait for a worker, seconds.
    public var meanWait: Double
    /// Mean calls in service at once (busy time over the window).
    public var meanBusy: Double
    /// The longest line and the most calls in service at once, while the window was open.
    public var maxQueue: Int
    public var peakBusy: Int
    /// Seconds the figures cover.
    public var windowSeconds: Double
    /// The host's decision digest (``SyntheticHost/digest``), in hexadecimal: equal digests mean
    /// the same service times, errors and response sizes in the same order.
    public var decisionDigest: String

    /// The figures of `stats` (closed at the window's end) for a host named `address`.
    public init(address: String, stats: HostStats, digest: UInt64) {
        self.address = address
        let t = max(Double(stats.lastChange - stats.measureFrom), 1)
        let n = Double(max(1, stats.completions))
        arrivals = stats.arrivals
        completions = stats.completions
        errors = stats.errors
        rejected = stats.rejected
        closedConnections = stats.closedConnections
        lost = stats.lost
        meanInSystem = stats.area / t
        throughput = Double(stats.completions) / (t / 1e9)
        meanSojourn = stats.sojournTotal / n / 1e9
        waitedFraction = Double(stats.waited) / n
        meanWait = stats.waitTotal / n / 1e9
        meanBusy = stats.busyTotal / t
        maxQueue = stats.maxLine
        peakBusy = stats.peakBusy
        windowSeconds = t / 1e9
        decisionDigest = "0x" + String(digest, radix: 16)
    }
}
