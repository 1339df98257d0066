import Foundation

/// How `mplab overhead` measures what the proxy adds: which protocol and payload sizes, how many
/// interleaved rounds of what load, what else it measures, and where the pieces run.
public struct OverheadPlan: Sendable {
    /// The `mplab` executable that runs `serve` and `proxy` as child processes.
    public var mplab: String
    public var protocolName: String
    /// Payload sizes in bytes, one table row each.
    public var sizes: [Int]
    /// Rounds per path and size; paths alternate ABBA (direct, proxy, HAProxy, then back).
    public var rounds: Int
    public var roundDuration: Duration
    /// Calls per second in each round (open loop, evenly spaced).
    public var rate: Double
    public var connections: Int
    public var depth: Int
    /// Measure HAProxy (TCP mode, one thread) on the same path as the L4 reference.
    public var haproxy: Bool
    /// The C ping-pong client's source, for calibrating the generator (nil: no calibration).
    public var calibrationSource: String?
    /// Seconds of closed-loop 1 KB load through each proxy, for its CPU per call at saturation.
    public var saturation: Duration
    /// Also measure a second proxy that adds this fixed delay to every call (a fault-injection
    /// route), as one more path interleaved with the others: for checking that the harness
    /// sees a known cost.
    public var proxyDelay: Duration?
    /// Pin the proxy and HAProxy to core 0 and the server to core 1 (on machines of 2 cores
    /// or more).
    public var pin: Bool
    public var seed: UInt64

    public init(mplab: String, protocolName: String = "livepacket", sizes: [Int] = [20, 1024, 16 << 10, 64 << 10, 120 << 10], rounds: Int = 6,
                roundDuration: Duration = .seconds(2), rate: Double = 500, connections: Int = 4, depth: Int = 16, haproxy: Bool = true,
                calibrationSource: String? = nil, saturation: Duration = .seconds(3), proxyDelay: Duration? = nil, pin: Bool = true, seed: UInt64 = 1) {
        self.mplab = mplab
        self.protocolName = protocolName
        self.sizes = sizes
        self.rounds = rounds
        self.roundDuration = roundDuration
        self.rate = rate
        self.connections = connections
        self.depth = depth
        self.haproxy = haproxy
        self.calibrationSource = calibrationSource
        self.saturation = saturation
        self.proxyDelay = proxyDelay
        self.pin = pin
        self.seed = seed
    }

    /// Where a frame's length field lies, for the C client: its offset and what to add to it
    /// for the whole frame (nil for a protocol without one).
    var lengthField: (offset: Int, add: Int)? {
        switch protocolName {
        case "dubbo": (12, 16)
        case "livepacket": (4, 0)
        case "thrift": (0, 4)  // the synthesizer writes framed Thrift
        default: nil
        }
    }
}
