import Foundation
import Results

/// The verdict first, then the figures that matter: what `mplab run` prints when a workload
/// ends, and the top of `summary.md`.
public enum SummaryText {
    /// The terminal table: one line per expectation (and driver), then the headline figures.
    public static func table(_ r: WorkloadResult, reportPath: String? = nil) -> String {
        let figures = ReportFigures(result: r)
        var lines = ["\(r.workload) (\(r.mode), seed \(r.provenance.seed))\(r.complete ? "" : "  — INTERRUPTED, incomplete")"]
        let rows = r.expectations.map { e -> (String, String, String) in
            let subject = r.mode == "both" || e.subject == "overhead" || e.subject.contains("/") ? " [\(e.subject)]" : ""
            let measured = e.problem.map { "cannot check: \($0)" } ?? "\(e.measuredText)  (expected \(e.expectedText))"
            return ("  \(e.expectation)\(subject)", measured, e.passed ? "pass" : "FAIL")
        }
        let width = min(48, rows.map(\.0.count).max() ?? 0)
        for (name, measured, verdict) in rows {
            lines.append(name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0) + "  " + measured + "   " + verdict)
        }
        if r.expectations.isEmpty { lines.append("  (no expectations)") }
        for part in r.parts where part.role == .simulated || part.role == .real {
            let c = part.result.calls
            var line = "  \(part.name): \(c.sent) calls, \(c.success) succeeded"
            if let f = part.result.latency("latency"), f.samples > 0 {
                line += ", p50 \(ReportFigures.duration(nanoseconds: f.summary.p50)) p99 \(ReportFigures.duration(nanoseconds: f.summary.p99))"
            }
            lines.append(line)
        }
        if let added = figures.addedLatency {
            lines.append("  added by the proxy at p50: " + zip(added.sizes, added.intervals).map { "\($0) \($1)" }.joined(separator: "; "))
        }
        for c in r.comparisons where c.name.hasPrefix("p50") || c.name.hasPrefix("p99") {
            lines.append("  real/simulated \(c.name): \(ReportFigures.round(c.real)) / \(ReportFigures.round(c.simulated)) \(c.unit) = \(c.ratio.map { String(format: "%.2f", $0) } ?? "—")")
        }
        let failed = r.expectations.filter { !$0.passed }.count
        lines.append(failed == 0 ? (r.complete ? "all \(r.expectations.count) expectation(s) hold" : "interrupted") : "\(failed) of \(r.expectations.count) expectation(s) FAILED")
        if let reportPath { lines.append("report: \(reportPath)") }
        return lines.joined(separator: "\n")
    }

    /// `summary.md`: the verdict, headline figures, simulated vs real, how it was measured.
    public static func markdown(_ r: WorkloadResult) -> String {
        let figures = ReportFigures(result: r)
        var md = "# \(r.workload)\n\n\(r.summary)\n\n"
        md += "Mode **\(r.mode)**, seed \(r.provenance.seed), build `\(r.provenance.build)`, \(r.provenance.machine.cores) cores (\(r.provenance.machine.cpuModel)).\n"
        if !r.complete { md += "\n**Interrupted: the figures cover what ran before the stop.**\n" }
        md += "\n## Verdict: \(r.passed ? "pass" : "FAIL")\n\n| expectation | checked on | measured | expected | verdict |\n|---|---|---|---|---|\n"
        for e in r.expectations {
            md += "| `\(e.expectation)` | \(e.subject) | \(e.problem ?? e.measuredText) | \(e.expectedText) | \(e.passed ? "pass" : "**FAIL**") |\n"
        }
        md += "\n## Latency\n\n| run | calls | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|\n"
        for (label, f) in figures.latencyFigures {
            let s = f.summary
            md += "| \(label) | \(f.samples) | \(ReportFigures.duration(nanoseconds: s.p50)) | \(ReportFigures.duration(nanoseconds: s.p90)) | "
                + "\(ReportFigures.duration(nanoseconds: s.p99)) | \(ReportFigures.duration(nanoseconds: s.p999)) | \(ReportFigures.duration(nanoseconds: s.max)) |\n"
        }
        if let added = figures.addedLatency {
            md += "\n## Added by the proxy (p50, median of rounds, 95 % bootstrap interval)\n\n"
            for (size, text) in zip(added.sizes, added.intervals) { md += "- \(size): \(text)\n" }
        }
        if !r.comparisons.isEmpty {
            md += "\n## Simulated vs real\n\n| figure | simulated | real | real / simulated |\n|---|---|---|---|\n"
            for c in r.comparisons {
                md += "| \(c.name) (\(c.unit)) | \(ReportFigures.round(c.simulated)) | \(ReportFigures.round(c.real)) | \(c.ratio.map { String(format: "%.2f", $0) } ?? "—") |\n"
            }
        }
        let overReplications = r.figures.filter { !$0.name.contains(" share of subset ") }
        if !overReplications.isEmpty {
            md += "\n## Over replications\n\n"
            for f in overReplications { md += "- \(f.name): \(ReportFigures.round(f.value)) \(f.unit) [\(ReportFigures.round(f.low ?? f.value)), \(ReportFigures.round(f.high ?? f.value))] — \(f.note)\n" }
        }
        md += "\n## How it was measured\n\n"
        for part in r.parts {
            for f in part.result.latencies where f.samples > 0 && (f.name == "latency" || part.role == .overhead) {
                md += "- \(part.name), \(f.name): \(f.measurement.clock.rawValue) clock, from \(f.measurement.from) to \(f.measurement.to); \(f.samples) samples. \(f.measurement.note)\n"
            }
            for note in part.result.notes { md += "- \(part.name): \(note)\n" }
        }
        for w in r.warnings { md += "- note: \(w)\n" }
        md += "\nWorkload \(r.provenance.workload.map { "`\($0.path)` (\($0.hash))" } ?? "—"). Reproduce with:\n\n    \(figures.reproduce)\n"
        return md
    }
}
