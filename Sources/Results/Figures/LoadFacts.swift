/// What only a run of the load generator has: what it was asked to send and what it managed.
public struct LoadFacts: Codable, Sendable, Hashable {
    public var protocolName: String
    /// `host:port`.
    public var target: String
    /// `open loop, poisson(2000/s)`, `closed loop, 64 in flight per connection`.
    public var pacing: String
    public var connections: Int
    public var depth: Int
    public var workers: Int
    /// Calls per second the schedule asked for over the measured window, and those that left.
    public var attemptedRate: Double
    public var achievedRate: Double
    /// Answers per second over the measured window.
    public var answeredRate: Double
    /// Wall-clock seconds the run took, the drain included.
    public var elapsedSeconds: Double

    public init(protocolName: String, target: String, pacing: String, connections: Int, depth: Int, workers: Int, attemptedRate: Double, achievedRate: Double,
                answeredRate: Double, elapsedSeconds: Double) {
        self.protocolName = protocolName
        self.target = target
        self.pacing = pacing
        self.connections = connections
        self.depth = depth
        self.workers = workers
        self.attemptedRate = attemptedRate
        self.achievedRate = achievedRate
        self.answeredRate = answeredRate
        self.elapsedSeconds = elapsedSeconds
    }
}
