/// A point on the driver's clock, in nanoseconds since the driver's own epoch: a monotonic clock
/// in the real proxy, virtual time in the simulator. The core only compares and adds them.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = Timestamp(nanoseconds: 0)

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func + (t: Timestamp, d: Duration) -> Timestamp { Timestamp(nanoseconds: t.nanoseconds &+ d.nanoseconds) }

    public static func - (a: Timestamp, b: Timestamp) -> Duration { .nanoseconds(a.nanoseconds &- b.nanoseconds) }

    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

extension Duration {
    /// The duration in whole nanoseconds (truncated), as the core computes with.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
