import Foundation
import TrafficModel

/// What must hold of a run's result, written as a sentence:
///
///     share(subset v1) within 0.20 ± 0.02      p99(latency) < 20ms      ejections >= 1
///     calls in 9000..11000                     conservation holds        real.p50 / simulated.p50 within 0.5..2
///
/// A metric without a driver prefix is checked on every driver that ran (in mode both, twice);
/// `simulated.` or `real.` picks one. A ratio of two metrics compares drivers (or anything else).
public struct Expectation: Sendable, Hashable, CustomStringConvertible {
    /// As written.
    public var text: String
    public var check: Check
    /// Where it was written (for messages).
    public var line: Int?
    public var column: Int?

    public enum Check: Sendable, Hashable {
        /// A value (a metric or a ratio of two) against a bound.
        case value(Operand, Bound)
        /// The driver's invariants held (conservation, one answer per call).
        case invariantsHold(driver: Driver?)
    }

    /// Which driver's result a metric reads.
    public enum Driver: String, Sendable, Hashable, CaseIterable {
        case simulated, real
    }

    /// Something measured: a metric of a driver's result, or the ratio of two.
    public indirect enum Operand: Sendable, Hashable, CustomStringConvertible {
        case metric(Metric, driver: Driver?)
        case ratio(Operand, Operand)

        public var description: String {
            switch self {
            case .metric(let m, let d): (d.map { "\($0.rawValue)." } ?? "") + m.description
            case .ratio(let a, let b): "\(a) / \(b)"
            }
        }

        /// The drivers it names.
        public var drivers: Set<Driver> {
            switch self {
            case .metric(_, let d): d.map { [$0] } ?? []
            case .ratio(let a, let b): a.drivers.union(b.drivers)
            }
        }
    }

    /// A figure of a result.
    public enum Metric: Sendable, Hashable, CustomStringConvertible {
        /// A percentile (0–100) of a latency figure (`latency`, `success latency`, `latency of
        /// method M`), in seconds.
        case percentile(Double, figure: String)
        case meanLatency(figure: String)
        /// The share of host arrivals that went to a subset, host or cluster (0–1).
        case share(ShareTarget)
        /// A named count: see ``Metric/counts``.
        case count(String)
        /// A core counter by its result name (`local_reply.over_limit`).
        case counter(String)
        /// How often a protection fired, by coverage name (`ejection svc consecutive_5xx`);
        /// a name ending in `*` adds every entry it starts.
        case coverage(String)
        /// What the proxy added over the direct path at a payload size and percentile, in
        /// seconds, from the overhead round (`added(20B, p50)`), and what HAProxy added.
        case added(size: Int, percentile: Double, haproxy: Bool)

        /// The counts a result has by name, and what they mean.
        public static let counts: [(name: String, meaning: String)] = [
            ("calls", "calls sent in the measured window"),
            ("answered", "calls answered"),
            ("success", "calls answered successfully"),
            ("errors", "calls answered with an error or a local reply"),
            ("errorRate", "errors over answered calls (0–1)"),
            ("rateLimited", "calls refused by a local or global rate limit"),
            ("ejections", "outlier ejections"),
            ("breakerOverflows", "calls refused by a circuit breaker"),
            ("retries", "retries the proxy made"),
            ("timeouts", "calls that ran out of time at the proxy"),
            ("mirrored", "copies sent to mirrors"),
            ("throughput", "answers per second in the measured window"),
            ("hostsUp", "hosts up at the end"),
            ("scaleEvents", "times the autoscaler added hosts"),
        ]

        public var description: String {
            switch self {
            case .percentile(let p, let f): "p\(Expectation.number(p))(\(f))"
            case .meanLatency(let f): "mean(\(f))"
            case .share(let t): "share(\(t))"
            case .count(let name): name
            case .counter(let name): "counter(\(name))"
            case .coverage(let name): "coverage(\(name))"
            case .added(let size, let p, let h): "\(h ? "haproxyAdded" : "added")(\(ByteSize.describe(size).replacingOccurrences(of: " ", with: "")), p\(Expectation.number(p)))"
            }
        }

        /// Whether values are seconds (printed as durations).
        public var isDuration: Bool {
            switch self {
            case .percentile, .meanLatency, .added: true
            default: false
            }
        }
    }

    /// What a share is the share of.
    public enum ShareTarget: Sendable, Hashable, CustomStringConvertible {
        case subset(String)
        case host(String)
        case cluster(String)
        public var description: String {
            switch self {
            case .subset(let n): "subset \(n)"
            case .host(let a): "host \(a)"
            case .cluster(let c): "cluster \(c)"
            }
        }
    }

    /// What the value must be.
    public enum Bound: Sendable, Hashable, CustomStringConvertible {
        case below(Double, inclusive: Bool)
        case above(Double, inclusive: Bool)
        case equal(Double)
        /// Within a range, written `lo..hi`.
        case between(Double, Double)
        /// Within `half` of `mid`, written `mid ± half`.
        case around(Double, Double)

        public func holds(_ v: Double) -> Bool {
            switch self {
            case .below(let b, let inclusive): inclusive ? v <= b : v < b
            case .above(let b, let inclusive): inclusive ? v >= b : v > b
            case .equal(let b): v == b
            case .between(let lo, let hi): v >= lo && v <= hi
            case .around(let mid, let half): abs(v - mid) <= half * (1 + 1e-12)
            }
        }

        public var description: String { describe(duration: false) }

        /// The bound as people say it, durations with their units.
        public func describe(duration: Bool) -> String {
            let f = { (x: Double) in duration ? Expectation.duration(x) : Expectation.number(x) }
            switch self {
            case .below(let b, let i): return "\(i ? "≤" : "<") \(f(b))"
            case .above(let b, let i): return "\(i ? "≥" : ">") \(f(b))"
            case .equal(let b): return "= \(f(b))"
            case .between(let lo, let hi): return "\(f(lo))–\(f(hi))"
            case .around(let mid, let half): return "\(f(mid)) ± \(f(half))"
            }
        }
    }

    public var description: String { text }

    // MARK: printing numbers

    /// A number without noise: `0.2`, `1000`, `1.31`.
    public static func number(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) }
        var s = String(format: "%.4g", x)
        if s.contains("e") { s = String(format: "%g", x) }
        return s
    }

    /// Seconds as people say them: `6.8 ms`, `41 µs`, `1.2 s`.
    public static func duration(_ seconds: Double) -> String {
        let a = abs(seconds)
        if a == 0 { return "0" }
        if a < 1e-3 { return "\(number((seconds * 1e6 * 10).rounded() / 10)) µs" }
        if a < 1 { return "\(number((seconds * 1e3 * 100).rounded() / 100)) ms" }
        return "\(number((seconds * 1000).rounded() / 1000)) s"
    }
}
