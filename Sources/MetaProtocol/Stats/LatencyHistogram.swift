/// A request-time histogram with fixed bucket bounds (Envoy's default bounds, in milliseconds),
/// cheap to record into and rendered as a Prometheus histogram. Exact percentiles are the
/// simulator's and load generator's job (HdrHistogram); this is the proxy's running view.
public struct LatencyHistogram: Sendable {
    /// Upper bounds in milliseconds; a last bucket takes everything above.
    public static let boundsMilliseconds: [Double] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 600_000]
    private static let boundsNanoseconds: [Int64] = boundsMilliseconds.map { Int64($0 * 1_000_000) }

    public private(set) var counts: [UInt64] = Array(repeating: 0, count: boundsMilliseconds.count + 1)
    public private(set) var count: UInt64 = 0
    public private(set) var sumNanoseconds: Int64 = 0

    public init() {}

    public mutating func record(_ d: Duration) {
        let ns = max(0, d.nanoseconds)
        var i = 0
        while i < Self.boundsNanoseconds.count && ns > Self.boundsNanoseconds[i] { i += 1 }
        counts[i] += 1
        count += 1
        sumNanoseconds &+= ns
    }
}
