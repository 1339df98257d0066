import Foundation
import Results

/// Two workload runs side by side: each figure of A and B, B − A and B / A — latency
/// percentiles and counts per part, expectation verdicts, simulated-vs-real figures.
public struct RunComparison {
    public var a: WorkloadResult
    public var b: WorkloadResult
    public var labels: (String, String)

    public init(a: WorkloadResult, b: WorkloadResult, labels: (String, String)) {
        self.a = a
        self.b = b
        self.labels = labels
    }

    /// A row: a figure's name, unit, and both values.
    public struct Row: Sendable {
        public var name: String
        public var unit: String
        public var a: Double?
        public var b: Double?
        public var delta: Double? { a.flatMap { x in b.map { $0 - x } } }
        public var ratio: Double? { a.flatMap { x in x == 0 ? nil : b.map { $0 / x } } }
    }

    /// Every figure both runs can be compared on, in report order.
    public var rows: [Row] {
        var out: [Row] = []
        let names = (a.parts.map(\.name) + b.parts.map(\.name)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for part in names where !part.hasPrefix("replication") {
            let x = a.parts.first { $0.name == part }?.result, y = b.parts.first { $0.name == part }?.result
            let figures = ((x?.latencies ?? []) + (y?.latencies ?? [])).map(\.name).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            for figure in figures where figure == "latency" || part == "overhead" {
                for (p, label) in [(50.0, "p50"), (90.0, "p90"), (99.0, "p99"), (99.9, "p99.9")] {
                    func v(_ r: RunResult?) -> Double? {
                        r?.latency(figure).flatMap { $0.samples > 0 ? Double($0.distribution.nanoseconds(atPercentile: p)) / 1e6 : nil }
                    }
                    out.append(Row(name: "\(part) \(figure) \(label)", unit: "ms", a: v(x), b: v(y)))
                }
            }
            out.append(Row(name: "\(part) calls sent", unit: "calls", a: x.map { Double($0.calls.sent) }, b: y.map { Double($0.calls.sent) }))
            out.append(Row(name: "\(part) success", unit: "calls", a: x.map { Double($0.calls.success) }, b: y.map { Double($0.calls.success) }))
            for figure in ((x?.figures ?? []) + (y?.figures ?? [])).map(\.name).reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
                let fa = x?.figures.first { $0.name == figure }, fb = y?.figures.first { $0.name == figure }
                out.append(Row(name: "\(part) \(figure)", unit: fa?.unit ?? fb?.unit ?? "", a: fa?.value, b: fb?.value))
            }
        }
        for c in (a.comparisons.map(\.name) + b.comparisons.map(\.name)).reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
            let ca = a.comparisons.first { $0.name == c }, cb = b.comparisons.first { $0.name == c }
            out.append(Row(name: "real / simulated \(c)", unit: "ratio", a: ca?.ratio, b: cb?.ratio))
        }
        return out
    }

    public func text(markdown: Bool) -> String {
        func n(_ v: Double?) -> String {
            guard let v else { return "—" }
            return v.magnitude >= 1000 || v == v.rounded() ? String(format: "%.0f", v) : String(format: "%.3f", v)
        }
        var lines: [String] = []
        let header = ["figure", "unit", "A", "B", "B − A", "B / A"]
        let body = rows.map { [$0.name, $0.unit, n($0.a), n($0.b), n($0.delta), $0.ratio.map { String(format: "%.3f", $0) } ?? "—"] }
        lines.append("A: \(labels.0) (\(a.workload), seed \(a.provenance.seed), build \(a.provenance.build))")
        lines.append("B: \(labels.1) (\(b.workload), seed \(b.provenance.seed), build \(b.provenance.build))")
        lines.append("")
        if markdown {
            lines.append("| " + header.joined(separator: " | ") + " |")
            lines.append("|" + String(repeating: "---|", count: header.count))
            for r in body { lines.append("| " + r.joined(separator: " | ") + " |") }
        } else {
            let widths = header.indices.map { i in ([header] + body).map { $0[i].count }.max()! }
            for r in [header] + body {
                lines.append(r.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
        lines.append("")
        lines.append("expectations:")
        let texts = (a.expectations + b.expectations).map { "\($0.expectation) [\($0.subject)]" }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for t in texts {
            let ea = a.expectations.first { "\($0.expectation) [\($0.subject)]" == t }, eb = b.expectations.first { "\($0.expectation) [\($0.subject)]" == t }
            func v(_ e: ExpectationOutcome?) -> String { e.map { "\($0.passed ? "pass" : "FAIL") (\($0.measuredText))" } ?? "—" }
            lines.append("  \(t): A \(v(ea)), B \(v(eb))")
        }
        return lines.joined(separator: "\n")
    }
}
