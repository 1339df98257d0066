import Foundation
import MetaProtocol
import Results
import TrafficModel

/// What `mplab overhead` measured.
public struct OverheadReport: Sendable {
    public typealias Path = OverheadRun.Path

    /// The percentiles every table gives.
    public static let percentiles: [Double] = [50, 90, 99, 99.9]

    public var plan: OverheadPlan
    public var paths: [Path]
    /// What ran on which core.
    public var pinning: String
    public var rows: [Row] = []
    public var calibration: Calibration?
    public var saturation: [Saturation] = []
    public var proxyIdleResident = 0
    public var proxyResidentWith1000 = 0
    public var heldConnections = 0
    public var haproxyIdleResident: Int?

    /// A value with a 95 % interval.
    public struct Estimate: Sendable, Hashable {
        public var value: Double
        public var low: Double
        public var high: Double
    }

    /// One payload size.
    public struct Row: Sendable {
        public var size: Int
        /// Per path: each round's percentiles (nanoseconds, in ``OverheadReport/percentiles``'s order).
        var rounds: [Path: [[Double]]] = [:]
        var merged: [Path: LatencyDistribution] = [:]
        var answered: [Path: Int] = [:]
        var failures: [Path: Int] = [:]
        public var proxyCPUPer1000: Double?
        public var haproxyCPUPer1000: Double?
        public var allocationsPerCall: Double?
        public var allocatedBytesPerCall: Double?

        /// Every path's calls by outcome, as the clients scored them.
        public private(set) var calls = CallCounts()

        init(size: Int) { self.size = size }

        mutating func record(_ path: Path, _ figures: LoadFigures) {
            rounds[path, default: []].append(OverheadReport.percentiles.map { Double(figures.latency.nanoseconds(atPercentile: $0)) })
            merged[path, default: LatencyDistribution()].merge(figures.latency)
            answered[path, default: 0] += figures.calls.answered
            calls.add(figures.calls)
            failures[path, default: 0] += figures.failures
        }

        /// Latency of `path` over all its rounds.
        public func latency(_ path: Path) -> LatencyDistribution? { merged[path] }
        public func failures(_ path: Path) -> Int { failures[path] ?? 0 }
        public func answered(_ path: Path) -> Int { answered[path] ?? 0 }

        /// What `path` adds over the direct path at percentile index `i`: the median over rounds
        /// of the round-by-round differences (rounds pair up, as they ran side by side), with a
        /// bootstrap 95 % interval over those rounds.
        public func added(_ path: Path, percentile i: Int, seed: UInt64 = 1) -> Estimate? { difference(path, over: .direct, percentile: i, seed: seed) }

        /// What `path` adds over `base` at percentile index `i`, in the same way.
        public func difference(_ path: Path, over base: Path, percentile i: Int, seed: UInt64 = 1) -> Estimate? {
            guard let baseline = rounds[base], let other = rounds[path], baseline.count == other.count, !baseline.isEmpty else { return nil }
            let differences = zip(other, baseline).map { $0[i] - $1[i] }
            return OverheadReport.bootstrapMedian(differences, seed: seed)
        }

        /// A line for the progress log.
        func line(calibration: Calibration?) -> String {
            var parts = ["\(ByteSize.describe(size)):"]
            for path in [Path.proxy, .haproxy] {
                if let a = added(path, percentile: 0) { parts.append(String(format: "%@ adds p50 %+.1f µs [%+.1f, %+.1f]", path.rawValue, a.value / 1000, a.low / 1000, a.high / 1000)) }
            }
            return parts.joined(separator: " ")
        }
    }

    /// The generator against the C client on the same server.
    public struct Calibration: Sendable {
        public var calls: Int
        public var clientP50: Double
        public var clientP90: Double
        public var clientP99: Double
        public var generatorP50: Double
        public var generatorP99: Double
        public var generatorCalls: Int
        /// What the generator adds to a round trip at the median: the smallest added latency it
        /// can tell from its own cost.
        public var resolution: Double { abs(generatorP50 - clientP50) }
    }

    /// Closed-loop 1 KB calls through a proxy as fast as they go, one in flight per connection.
    public struct Saturation: Sendable {
        public var path: Path
        public var callsPerSecond: Double
        /// CPU seconds of the proxy process per call.
        public var cpuPerCall: Double
    }

    /// The median of `values` with a bootstrap 95 % interval (2,000 resamples, seeded).
    static func bootstrapMedian(_ values: [Double], seed: UInt64) -> Estimate {
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        var random = SeededRandom(seed: seed)
        var medians: [Double] = []
        medians.reserveCapacity(2000)
        for _ in 0..<2000 { medians.append(median((0..<values.count).map { _ in values[random.nextIndex(values.count)] })) }
        medians.sort()
        return Estimate(value: median(values), low: medians[50], high: medians[1949])
    }

    // MARK: reading

    /// The tables a user reads: per percentile, each size's direct latency and what the proxy
    /// and HAProxy add, with intervals and their ratio; then the costs.
    public var text: String {
        var lines: [String] = []
        lines.append("\(plan.protocolName), \(plan.rounds) rounds of \(plan.roundDuration.seconds) s per path and size at \(Int(plan.rate)) calls/s, "
                     + "\(plan.connections) connections; \(pinning)")
        let resolution = calibration?.resolution
        func us(_ ns: Double) -> String { String(format: "%.1f", ns / 1000) }
        func added(_ e: Estimate?) -> String {
            guard let e else { return "—" }
            if let resolution, abs(e.value) < resolution { return "below resolution (\(us(resolution)) µs)" }
            return String(format: "%+.1f [%+.1f, %+.1f] µs", e.value / 1000, e.low / 1000, e.high / 1000)
        }
        for (i, p) in Self.percentiles.enumerated() {
            lines.append("")
            let name = "p" + (p == p.rounded() ? String(Int(p)) : String(p))
            lines.append(name.padding(toLength: 6, withPad: " ", startingAt: 0) + "size     direct       proxy adds                    HAProxy adds                  proxy/HAProxy")
            for row in rows {
                let direct = row.rounds[.direct].map { rs in rs.map { $0[i] }.sorted()[rs.count / 2] } ?? 0
                let proxy = row.added(.proxy, percentile: i), ha = row.added(.haproxy, percentile: i)
                let ratio = proxy.flatMap { p in ha.map { h in h.value > 0 ? String(format: "%.2f×", p.value / h.value) : "—" } } ?? "—"
                lines.append("      \(ByteSize.describe(row.size).padding(toLength: 8, withPad: " ", startingAt: 0)) \(us(direct).padding(toLength: 6, withPad: " ", startingAt: 0)) µs    "
                             + "\(added(proxy).padding(toLength: 30, withPad: " ", startingAt: 0))\(added(ha).padding(toLength: 30, withPad: " ", startingAt: 0))\(ratio)")
            }
        }
        lines.append("")
        for row in rows {
            var cost = "\(ByteSize.describe(row.size)): proxy CPU \(row.proxyCPUPer1000.map { String(format: "%.3f", $0) } ?? "—") s per 1000 calls"
            if let h = row.haproxyCPUPer1000 { cost += String(format: ", HAProxy %.3f s", h) }
            if let a = row.allocationsPerCall, let b = row.allocatedBytesPerCall { cost += String(format: "; proxy allocations %.1f per call, %.0f bytes", a, b) }
            let failures = paths.map { "\($0.rawValue) \(row.failures($0))" }.joined(separator: ", ")
            lines.append(cost + "; failures: " + failures)
        }
        if let delay = plan.proxyDelay {
            for row in rows {
                if let d = row.difference(.delayedProxy, over: .proxy, percentile: 0) {
                    lines.append(String(format: "%@: the proxy delayed by %.3f ms adds %+.3f ms [%+.3f, %+.3f] at p50 over the plain one", ByteSize.describe(row.size),
                                        Double(delay.nanoseconds) / 1e6, d.value / 1e6, d.low / 1e6, d.high / 1e6))
                }
            }
        }
        for s in saturation {
            lines.append(String(format: "%@ at saturation (closed loop, 1 KB, 16 connections of one call each): %.0f calls/s, %.1f µs of its CPU per call", s.path.rawValue, s.callsPerSecond, s.cpuPerCall * 1e6))
        }
        lines.append("proxy resident memory: \(proxyIdleResident / 1024) KB idle, \(proxyResidentWith1000 / 1024) KB holding \(heldConnections) client connections"
                     + (haproxyIdleResident.map { "; HAProxy \($0 / 1024) KB idle" } ?? ""))
        if let c = calibration {
            lines.append(String(format: "calibration (1 KB, one call at a time, %d calls each): C client p50 %.1f µs p99 %.1f µs; generator p50 %.1f µs p99 %.1f µs; resolution %.1f µs (%.1f%% of the C client's p50)",
                                c.calls, c.clientP50 / 1000, c.clientP99 / 1000, c.generatorP50 / 1000, c.generatorP99 / 1000, c.resolution / 1000, c.resolution / c.clientP50 * 100))
        } else {
            lines.append("not calibrated: added latencies are stated whatever the generator's own cost")
        }
        return lines.joined(separator: "\n")
    }

    /// The measurement as a versioned result: each path's latency per size, what the proxies
    /// add with intervals, the costs.
    public func runResult(provenance: Provenance) -> RunResult {
        let measurement = LatencyMeasurement(clock: .monotonic, from: "the call's intended send time", to: "its answer read by the client",
                                             note: "open loop at \(plan.rate) calls/s, \(plan.rounds) rounds per path interleaved ABBA")
        var latencies: [LatencyFigure] = []
        var figures: [Figure] = []
        var calls = CallCounts()
        for row in rows {
            let size = ByteSize.describe(row.size)
            for path in paths {
                if let d = row.latency(path) { latencies.append(LatencyFigure(name: "latency, \(path.rawValue), \(size)", measurement: measurement, distribution: d)) }
            }
            for (i, p) in Self.percentiles.enumerated() {
                for path in paths where path != .direct {
                    if let e = row.added(path, percentile: i) {
                        figures.append(Figure(name: "added by \(path.rawValue) at p\(p), \(size)", value: e.value / 1000, unit: "µs", low: e.low / 1000, high: e.high / 1000,
                                              note: "median over \(plan.rounds) rounds of the round's difference to the direct path; bootstrap 95 % interval"))
                    }
                }
            }
            if let v = row.proxyCPUPer1000 { figures.append(Figure(name: "proxy CPU per 1000 calls, \(size)", value: v, unit: "s", note: "from /proc over the proxied rounds")) }
            if let v = row.haproxyCPUPer1000 { figures.append(Figure(name: "HAProxy CPU per 1000 calls, \(size)", value: v, unit: "s", note: "from /proc over its rounds")) }
            if let v = row.allocationsPerCall { figures.append(Figure(name: "proxy allocations per call, \(size)", value: v, unit: "allocations", note: "jemalloc's counters")) }
            if let v = row.allocatedBytesPerCall { figures.append(Figure(name: "proxy bytes allocated per call, \(size)", value: v, unit: "bytes", note: "jemalloc's counters, by size class")) }
            calls.add(row.calls)
        }
        for s in saturation {
            figures.append(Figure(name: "\(s.path.rawValue) calls per second at saturation, 1 KB", value: s.callsPerSecond, unit: "calls/s"))
            figures.append(Figure(name: "\(s.path.rawValue) CPU per call at saturation, 1 KB", value: s.cpuPerCall * 1e6, unit: "µs"))
        }
        figures.append(Figure(name: "proxy resident memory, idle", value: Double(proxyIdleResident), unit: "bytes"))
        figures.append(Figure(name: "proxy resident memory, \(heldConnections) client connections", value: Double(proxyResidentWith1000), unit: "bytes"))
        if let c = calibration {
            figures.append(Figure(name: "calibration: C client p50", value: c.clientP50 / 1000, unit: "µs", note: "\(c.calls) calls, one at a time"))
            figures.append(Figure(name: "calibration: generator p50", value: c.generatorP50 / 1000, unit: "µs", note: "\(c.generatorCalls) calls, one at a time"))
            figures.append(Figure(name: "calibration: resolution", value: c.resolution / 1000, unit: "µs"))
        }
        let seconds = Double(rows.count * paths.count * plan.rounds) * plan.roundDuration.seconds
        var result = RunResult(provenance: provenance, driver: .sockets, window: MeasuredWindow(warmUpSeconds: 0.2, durationSeconds: plan.roundDuration.seconds, endedAtSeconds: seconds),
                               calls: calls, latencies: latencies, figures: figures,
                               notes: [pinning, calibration.map { String(format: "calibrated: the generator resolves %.1f µs", $0.resolution / 1000) } ?? "not calibrated"])
        result.invariants = [InvariantOutcome(name: "every call of every round answered successfully",
                                              violations: rows.flatMap { row in paths.compactMap { row.failures($0) > 0 ? "\($0.rawValue), \(ByteSize.describe(row.size)): \(row.failures($0)) failures" : nil } })]
        return result
    }
}
