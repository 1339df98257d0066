import MetaProtocol
import TrafficModel

/// What a load run sends, to where, and how: the protocol and its calls (a TrafficModel call
/// mix and payload sizes), the pacing, the connections and how many calls each may hold in
/// flight, how long, and what counts.
public struct LoadPlan: Sendable {
    /// How calls are paced.
    public enum Pacing: Sendable, Hashable {
        /// Calls leave on a schedule — any TrafficModel arrival process over the whole load —
        /// whatever the answers do; latency is timed from each call's intended send time, so a
        /// stall cannot hide (no coordinated omission). For latency.
        case openLoop(ArrivalProcess)
        /// Each connection keeps ``LoadPlan/depth`` calls in flight, sending the next as an
        /// answer comes. For throughput.
        case closedLoop
    }

    public var host: String
    public var port: Int
    /// A ``MetaCodec/protocolName``: the calls are its synthesizer's frames, the answers are
    /// read and scored by its codec.
    public var protocolName: String
    public var pacing: Pacing
    /// Connections in all (spread over the workers).
    public var connections: Int
    /// Calls one connection may hold in flight (pipelining depth); in closed loop, the calls it
    /// keeps in flight.
    public var depth: Int
    /// Threads (event loops), each with its own connections and figures, merged at the end.
    public var workers: Int
    /// Calls are scheduled until this long after the start.
    public var duration: Duration
    /// At most this many calls in all (warm-up included, over every worker and shard): the run
    /// ends when they are sent and answered, or at the duration, whichever comes first.
    public var requestLimit: Int?
    /// Calls scheduled before this are sent but not measured.
    public var warmUp: Duration
    /// A call not answered this long after it left is counted as timed out.
    public var requestTimeout: Duration
    /// What the calls look like, chosen by weight.
    public var mix: [CallTemplate]
    /// Payload bytes of each call.
    public var payloadSize: Distribution
    /// Calls waiting for a free connection at most; more are counted as not sent.
    public var backlogLimit: Int
    public var seed: UInt64
    /// This process runs one of several equal slices of the load (the others run elsewhere):
    /// its share of the rate, of the connections, and schedules that interleave with theirs.
    public var shard: Shard

    /// One of `count` equal slices of a load, numbered from 0.
    public struct Shard: Sendable, Hashable, CustomStringConvertible {
        public var index: Int
        public var count: Int
        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }
        public static let whole = Shard(index: 0, count: 1)

        /// Reads `i/N`.
        public init?(parsing text: String) {
            let parts = text.split(separator: "/").map { Int($0) }
            guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, (0..<n).contains(i) else { return nil }
            self.init(index: i, count: n)
        }

        public var description: String { "\(index)/\(count)" }
    }

    public init(host: String = "127.0.0.1", port: Int, protocolName: String, pacing: Pacing, connections: Int = 4, depth: Int = 128, workers: Int = 1,
                duration: Duration, warmUp: Duration = .zero, requestTimeout: Duration = .seconds(5),
                mix: [CallTemplate] = [CallTemplate(attributes: [])], payloadSize: Distribution = .constant(1024), backlogLimit: Int = 100_000, seed: UInt64 = 1,
                shard: Shard = .whole) {
        self.host = host
        self.port = port
        self.protocolName = protocolName
        self.pacing = pacing
        self.connections = connections
        self.depth = depth
        self.workers = workers
        self.duration = duration
        self.warmUp = warmUp
        self.requestTimeout = requestTimeout
        self.mix = mix
        self.payloadSize = payloadSize
        self.backlogLimit = backlogLimit
        self.seed = seed
        self.shard = shard
    }

    /// What is wrong with the plan, for a user to read (nil when it can run).
    public var problem: String? {
        if !(1...65535).contains(port) { return "port must be 1 to 65535, found \(port)" }
        if workers < 1 { return "workers must be at least 1, found \(workers)" }
        if connections < workers { return "connections (\(connections)) must be at least the workers (\(workers)): each worker has its own" }
        if depth < 1 { return "depth must be at least 1, found \(depth)" }
        if duration <= .zero { return "duration must be above 0" }
        if warmUp < .zero || warmUp >= duration { return "warm-up must be at least 0 and shorter than the duration" }
        if requestTimeout <= .zero { return "request timeout must be above 0" }
        if mix.isEmpty || !mix.contains(where: { $0.weight > 0 }) { return "the call mix needs a template of weight above 0" }
        if case .openLoop(let arrivals) = pacing, arrivals.peakRate <= 0 { return "the arrival rate must be above 0" }
        if shard.count < 1 || !(0..<shard.count).contains(shard.index) { return "shard must be i/N with 0 ≤ i < N, found \(shard)" }
        if let limit = requestLimit, limit < 1 { return "the request limit must be at least 1, found \(limit)" }
        return nil
    }

    /// The connections worker `i` opens.
    func connections(ofWorker i: Int) -> Int { connections / workers + (i < connections % workers ? 1 : 0) }

    /// Worker `i`'s slice of the whole load (over every shard's workers), and how many slices
    /// there are: it sends that share of the rate, on a schedule of its own.
    func slice(ofWorker i: Int) -> (index: Int, count: Int) { (shard.index * workers + i, shard.count * workers) }

    /// The calls slice `i` of `count` may send under the request limit (nil: no limit).
    func requestLimit(ofSlice i: Int, of count: Int) -> Int? {
        requestLimit.map { $0 / count + (i < $0 % count ? 1 : 0) }
    }
}
