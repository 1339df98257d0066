/// A gate suite (`Workloads/gate/*.yaml`): what `mplab gate` measures and how tightly it judges
/// each kind of figure. Every section is optional; `Workloads/gate/README.md` describes the fields.
public struct GateSuite: Sendable {
    /// The simulator's figures: the same seed gives the same numbers, so a change beyond the
    /// tolerance is a change in what the proxy decides.
    public struct Simulation: Sendable {
        /// Workload files, resolved against the suite's folder.
        public var workloads: [String]
        /// Relative change allowed in a latency, error or throughput figure.
        public var tolerance: Double
    }

    /// Hot-path probes run per request: instruction counts under callgrind, or allocations.
    public struct Probes: Sendable {
        /// Probe names (`mplab gate --list-probes`).
        public var probes: [String]
        /// Measured iterations per probe (after a warm-up of a fifth as many).
        public var iterations: Int
        public var tolerance: Double
    }

    /// The candidate build against the baseline build on real sockets, in one run.
    public struct Latency: Sendable {
        public var protocolName: String
        /// Closed loop (each connection waits for its answer before the next call: the proxy
        /// kept busy, so no idle wake-ups scatter the rounds) or open loop at `rate`.
        public var closedLoop: Bool
        /// Payload sizes in bytes, one metric each.
        public var sizes: [Int]
        /// Calls per second in each round when open loop; connections in either.
        public var rate: Double
        public var connections: Int
        public var roundDuration: Duration
        /// Rounds per build before the first decision; then `step` more while inconclusive, up
        /// to `maxRounds`.
        public var rounds: Int
        public var step: Int
        public var maxRounds: Int
        /// The smallest ratio change that counts (0.05: a 5 % slower median).
        public var minEffect: Double
        /// Significance level of the Mann-Whitney test.
        public var alpha: Double
    }

    /// A bound on a measured figure, enforced only where the machine is declared dedicated.
    public struct Threshold: Sendable {
        /// The metric's full name as the gate prints it.
        public var metric: String
        public var max: Double?
        public var min: Double?
    }

    public var file: String
    public var name: String
    public var summary: String
    public var simulation: Simulation?
    public var instructions: Probes?
    public var allocations: Probes?
    public var latency: Latency?
    /// Whether this machine runs nothing else while the gate runs; absolute thresholds fail
    /// only then (otherwise they warn).
    public var dedicated: Bool
    public var thresholds: [Threshold]
}
