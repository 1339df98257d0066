import Foundation
import Reporting

/// The gate's outcome in the three forms CI systems read: Markdown for a job page, JUnit XML
/// for test dashboards (one test case per metric), and JSON with every figure.
public enum GateReport {
    static let symbols: [GateVerdict: String] = [.pass: "✅ pass", .fail: "❌ fail", .improved: "⬆️ improved", .inconclusive: "❔ inconclusive", .warning: "⚠️ warning"]

    public static func markdown(_ o: GateOutcome) -> String {
        var lines = ["# Gate `\(o.suite)`: \(symbols[o.verdict]!) (exit \(o.exitCode))", ""]
        let counts = Dictionary(grouping: o.metrics, by: \.verdict).mapValues(\.count)
        lines.append([GateVerdict.pass, .fail, .improved, .inconclusive, .warning].compactMap { v in counts[v].map { "\($0) \(v.rawValue)" } }.joined(separator: " · ")
            + " — \(o.metrics.count) metrics in \(GateFormat.number((o.seconds * 10).rounded() / 10)) s")
        lines.append("")
        lines.append("Build `\(o.build)` against baseline `\(o.baselineBuild ?? "none")`" + (o.baselineRecordedAt.map { " (recorded \($0))" } ?? "")
            + "; \(o.machine.cores) cores, \(o.machine.cpuModel); machine \(o.dedicated ? "declared dedicated" : "not dedicated (absolute bounds warn only)").")
        if let injected = o.injected { lines += ["", "**Test-only injected regression:** \(injected)."] }
        for group in GateMetric.Group.allCases {
            let ms = o.metrics.filter { $0.group == group }
            guard !ms.isEmpty else { continue }
            lines += ["", "## \(title(group))", "", "| metric | value | baseline | change | verdict | why |", "|---|---:|---:|---:|---|---|"]
            for m in ms {
                let value = m.value.isNaN ? "—" : "\(GateFormat.number(m.value)) \(m.unit)"
                let base = m.baseline.map { "\(GateFormat.number($0)) \(m.unit)" } ?? "—"
                let change = m.group == .latency ? GateFormat.percent(m.value - 1) : m.change.map { GateFormat.percent($0) } ?? "—"
                lines.append("| \(m.name) | \(value) | \(base) | \(change) | \(symbols[m.verdict]!) | \(m.detail.replacingOccurrences(of: "|", with: "\\|")) |")
            }
        }
        lines += ["", "Reproduce: `\(o.commandLine.joined(separator: " "))`", ""]
        return lines.joined(separator: "\n")
    }

    static func title(_ group: GateMetric.Group) -> String {
        switch group {
        case .simulation: "Simulation (same seed, same numbers)"
        case .instructions: "Instructions per request (callgrind)"
        case .allocations: "Allocations per request (jemalloc)"
        case .latency: "Latency, candidate against baseline build in one run"
        case .absolute: "Absolute bounds"
        }
    }

    /// JUnit XML: a failed metric is a `<failure>`, an inconclusive or warned one `<skipped>`.
    public static func junit(_ o: GateOutcome) -> String {
        let failures = o.metrics.filter { $0.verdict == .fail }.count
        let skipped = o.metrics.filter { $0.verdict == .inconclusive || $0.verdict == .warning }.count
        var xml = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                   "<testsuites name=\"mplab gate\" tests=\"\(o.metrics.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", o.seconds))\">",
                   "  <testsuite name=\"\(escape(o.suite))\" tests=\"\(o.metrics.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\" timestamp=\"\(o.startedAt)\">"]
        for m in o.metrics {
            xml.append("    <testcase classname=\"gate.\(m.group.rawValue)\" name=\"\(escape(m.name))\">")
            switch m.verdict {
            case .fail: xml.append("      <failure message=\"\(escape(m.detail))\"/>")
            case .inconclusive, .warning: xml.append("      <skipped message=\"\(m.verdict.rawValue): \(escape(m.detail))\"/>")
            case .pass, .improved: xml.append("      <system-out>\(escape(m.verdict.rawValue + ": " + m.detail))</system-out>")
            }
            xml.append("    </testcase>")
        }
        xml += ["  </testsuite>", "</testsuites>", ""]
        return xml.joined(separator: "\n")
    }

    /// Text made safe in an XML attribute: markup escaped as the reports escape it, line breaks
    /// kept as character references, other control characters (which XML 1.0 forbids) dropped.
    static func escape(_ s: String) -> String {
        var kept = String.UnicodeScalarView()
        for c in s.unicodeScalars where c.value >= 0x20 || c == "\t" || c == "\n" { kept.append(c) }
        return SVGChart.escape(String(kept)).replacingOccurrences(of: "\n", with: "&#10;")
    }

    public static func json(_ o: GateOutcome) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(o) + Data("\n".utf8)
    }

    /// Writes `summary.md`, `junit.xml` and `gate.json` into `folder`.
    public static func write(_ o: GateOutcome, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try markdown(o).write(toFile: (folder as NSString).appendingPathComponent("summary.md"), atomically: true, encoding: .utf8)
        try junit(o).write(toFile: (folder as NSString).appendingPathComponent("junit.xml"), atomically: true, encoding: .utf8)
        try json(o).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("gate.json")))
    }
}
