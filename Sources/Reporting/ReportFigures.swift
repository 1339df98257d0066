import Foundation
import Results

/// The figures a report shows, read from a ``WorkloadResult`` once, for every format (HTML,
/// Markdown, the terminal, CSV) to show alike.
struct ReportFigures {
    let result: WorkloadResult

    /// Percentiles of a spectrum, as HdrHistogram's plots draw them.
    static let spectrum: [Double] = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]

    /// The main latency figure of each driver part (simulated, real), and each path of the
    /// overhead round.
    var latencyFigures: [(label: String, figure: LatencyFigure)] {
        var out: [(String, LatencyFigure)] = []
        for part in result.parts where part.role == .simulated || part.role == .real {
            if let f = part.result.latency("latency"), f.samples > 0 { out.append((part.name, f)) }
        }
        if let o = result.part(.overhead) {
            for f in o.result.latencies where f.samples > 0 { out.append((f.name.replacingOccurrences(of: "latency, ", with: ""), f)) }
        }
        return out
    }

    /// Each figure's spectrum: x = 1 / (1 − p) (so 99 % sits at 100), y in milliseconds.
    var spectrumSeries: [SVGChart.Series] {
        latencyFigures.map { label, f in
            SVGChart.Series(name: "\(label) (\(f.samples) calls)", points: Self.spectrum.map { p in
                (x: p >= 100 ? 1e5 : 100 / (100 - p), y: Double(f.distribution.nanoseconds(atPercentile: p)) / 1e6)
            })
        }
    }

    /// Added latency at p50 per payload size, proxy vs HAProxy, from the overhead round (µs).
    var addedLatency: (sizes: [String], proxy: [Double], haproxy: [Double?], intervals: [String])? {
        guard let o = result.part(.overhead) else { return nil }
        var sizes: [String] = [], proxy: [Double] = [], haproxy: [Double?] = [], intervals: [String] = []
        for f in o.result.figures where f.name.hasPrefix("added by proxy at p50.0, ") {
            let size = String(f.name.dropFirst("added by proxy at p50.0, ".count))
            sizes.append(size)
            proxy.append(f.value)
            let h = o.result.figures.first { $0.name == "added by HAProxy at p50.0, \(size)" }
            haproxy.append(h?.value)
            intervals.append("+\(Self.round(f.value)) µs [\(Self.round(f.low ?? f.value)), \(Self.round(f.high ?? f.value))]"
                             + (h.map { "  HAProxy +\(Self.round($0.value)) µs [\(Self.round($0.low ?? $0.value)), \(Self.round($0.high ?? $0.value))]" } ?? ""))
        }
        return sizes.isEmpty ? nil : (sizes, proxy, haproxy, intervals)
    }

    /// Throughput, errors, rate-limited calls and hosts up over time, per driver part.
    func timeSeries(_ value: (TimeWindow) -> Int?, perSecond: Bool) -> [SVGChart.Series] {
        result.parts.filter { $0.role == .simulated || $0.role == .real }.compactMap { part in
            let ts = part.result.timeSeries
            guard !ts.windows.isEmpty, ts.windows.contains(where: { value($0) != nil }) else { return nil }
            let scale = perSecond ? 1 / max(ts.intervalSeconds, 1e-9) : 1
            return SVGChart.Series(name: part.name, points: ts.windows.compactMap { w in value(w).map { (x: w.start, y: Double($0) * scale) } })
        }
    }

    /// Shares of host arrivals per subset, per driver part, from the workload's figures.
    var subsetShares: (subsets: [String], parts: [String], values: [[Double]])? {
        let marker = " share of subset "
        let figures = result.figures.filter { $0.name.contains(marker) }
        guard !figures.isEmpty else { return nil }
        var subsets: [String] = [], parts: [String] = []
        for f in figures {
            let split = f.name.components(separatedBy: marker)
            if !parts.contains(split[0]) { parts.append(split[0]) }
            if !subsets.contains(split[1]) { subsets.append(split[1]) }
        }
        let values = subsets.map { s in parts.map { p in figures.first { $0.name == p + marker + s }?.value ?? 0 } }
        return (subsets, parts, values)
    }

    /// Share of host arrivals per host, per driver part.
    var hostShares: (hosts: [String], parts: [String], values: [[Double]])? {
        let parts = result.parts.filter { ($0.role == .simulated || $0.role == .real) && !$0.result.hosts.isEmpty }
        guard let first = parts.first else { return nil }
        let hosts = first.result.hosts.map(\.address)
        let values = hosts.map { address in
            parts.map { part in
                let total = part.result.hosts.reduce(0) { $0 + $1.arrivals }
                return Double(part.result.hosts.first { $0.address == address }?.arrivals ?? 0) / Double(max(1, total))
            }
        }
        return (hosts, parts.map(\.name), values)
    }

    static func round(_ v: Double) -> String { v.magnitude >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v) }

    /// A duration in nanoseconds as people read it.
    static func duration(nanoseconds ns: UInt64) -> String {
        let s = Double(ns) / 1e9
        if s < 1e-3 { return String(format: "%.1f µs", s * 1e6) }
        if s < 1 { return String(format: "%.2f ms", s * 1e3) }
        return String(format: "%.3f s", s)
    }

    /// The command that reproduces the run.
    var reproduce: String {
        result.provenance.commandLine.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }
}
