import Foundation
import Results

/// A capacity report folder: `capacity.json` (everything), `summary.md`, `report.html` (the
/// capacity curves with the knee and the USL fit, the tables, the YAML to apply),
/// `recommended-ratelimit.yaml` (the MetaRouter, ready for `mplab proxy --config`), and CSVs of
/// the points and the sweeps.
public enum CapacityReport {
    public static func write(_ r: CapacityResult, to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var written: [URL] = []
        func put(_ name: String, _ text: String) throws {
            let url = folder.appending(path: name)
            try Data(text.utf8).write(to: url)
            written.append(url)
        }
        let json = try r.encoded()
        try json.write(to: folder.appending(path: "capacity.json"))
        written.append(folder.appending(path: "capacity.json"))
        try put("summary.md", markdown(r))
        try put("report.html", page(r))
        if let rec = r.recommendation { try put("recommended-ratelimit.yaml", rec.manifest) }
        var points = "driver,phase,offered_per_s,throughput_per_s,percentile_ms,percentile_upper_ms,p50_ms,error_share,calls,passed\n"
        for s in r.searches {
            for p in s.points {
                points += "\(s.driver),\(p.phase),\(p.offered),\(p.throughput),\(p.percentile * 1e3),\(p.percentileUpper * 1e3),\(p.median * 1e3),\(p.errorShare),\(p.calls),\(p.passed)\n"
            }
        }
        try put("points.csv", points)
        for u in r.scalability {
            try put("usl-\(u.driver).csv", "concurrency,throughput\n" + u.measured.map { "\(USLText.number($0[0])),\($0[1])\n" }.joined())
        }
        return written
    }

    /// The folder's `capacity.json`.
    public static func read(folder: String) throws -> CapacityResult {
        try CapacityResult.decode(Data(contentsOf: URL(fileURLWithPath: folder).appending(path: "capacity.json")))
    }

    /// One line per finding, for the terminal and `summary.md`.
    public static func markdown(_ r: CapacityResult) -> String {
        var out = "# Capacity of \(r.workload)\n\n\(r.summary)\n\nObjective: **\(r.objective.description)** (a point passes when the upper end of its 95 % interval does).\n\n"
        if !r.complete { out += "**Interrupted**: the figures cover what ran before the stop.\n\n" }
        out += "| driver | capacity | first failure | knee | points | how |\n|---|---|---|---|---|---|\n"
        for s in r.searches {
            out += "| \(s.driver) | \(s.capacity.map(rate) ?? "none passed") | \(s.firstFailure.map(rate) ?? "ceiling reached") | \(s.knee.map(rate) ?? "–") | \(s.points.count) | \(s.method) |\n"
        }
        for u in r.scalability {
            out += "\nUniversal Scalability Law (\(u.driver), \(u.measured.count) levels): " + USLText.coefficients(u) + "\n"
        }
        if let rec = r.recommendation {
            out += "\n## Recommended local rate limit\n\n"
            out += "| calls | capacity | per instance | tokensPerFill | fillInterval | maxTokens |\n|---|---|---|---|---|---|\n"
            for b in rec.buckets {
                out += "| \(b.scope) | \(rate(b.capacity)) | \(rate(b.ratePerInstance)) | \(b.tokensPerFill) | \(USLText.number(b.fillIntervalSeconds * 1e3)) ms | \(b.maxTokens) |\n"
            }
            out += "\n" + rec.reasoning.map { "- \($0)\n" }.joined()
            out += "- autoscaling trigger: `\(rec.autoscalingQuery)`\n"
            out += "\n```yaml\n\(rec.manifest)```\n"
        }
        if !r.whatIf.isEmpty {
            out += "\n## What if (simulated, with the recommendation applied)\n\n| scenario | offered | admitted | rejected / 30 s (max) | p\(USLText.number(r.objective.percentile)) | within objective | scale-outs |\n|---|---|---|---|---|---|---|\n"
            for w in r.whatIf {
                out += "| \(w.scenario) | \(rate(w.offered)) | \(rate(w.admitted)) | \(Int(w.rejectedPer30s.rounded())) (\(Int(w.rejectedPer30sMax.rounded()))) | "
                    + "\(ms(w.p99)) | \(w.withinObjective ? "yes" : "NO") | \(w.scaleEvents.isEmpty ? "none" : w.scaleEvents.map { "\(Int($0))s" }.joined(separator: ", ") + " → \(w.hostsAtEnd) hosts") |\n"
            }
        }
        for w in r.warnings { out += "\nnote: \(w)" }
        return out + "\n"
    }

    public static func page(_ r: CapacityResult) -> String {
        let e = SVGChart.escape
        var body = "<h1>Capacity of \(e(r.workload))</h1><p class='summary'>\(e(r.summary))</p>"
        body += "<p class='meta'>objective <b>\(e(r.objective.description))</b> · seed \(r.provenance.seed) · build <code>\(e(r.provenance.build))</code> · "
            + "\(r.provenance.machine.cores) cores, \(e(r.provenance.machine.cpuModel))</p>"
        if !r.complete { body += "<p class='fail'>Interrupted: the figures cover what ran before the stop.</p>" }
        for s in r.searches {
            body += "<h2>\(e(s.driver.capitalized)) search: capacity \(e(s.capacity.map(rate) ?? "none"))</h2><p class='meta'>\(e(s.method))</p>"
            var marks: [(x: Double, label: String)] = []
            if let c = s.capacity { marks.append((c, "capacity \(rate(c))")) }
            if let k = s.knee { marks.append((k, "knee \(rate(k))")) }
            let passed = s.points.filter(\.passed), failed = s.points.filter { !$0.passed }
            body += SVGChart.lines(id: "capacity-latency-\(s.driver)", title: "p\(USLText.number(r.objective.percentile)) against offered load, with the objective",
                                   xLabel: "offered (calls/s)", yLabel: "latency (ms)",
                                   series: [SVGChart.Series(name: "passed (upper 95 % bound)", points: passed.map { ($0.offered, $0.percentileUpper * 1e3) }, dots: true),
                                            SVGChart.Series(name: "failed (upper 95 % bound)", points: failed.map { ($0.offered, min($0.percentileUpper, r.objective.bound * 4) * 1e3) }, dots: true),
                                            SVGChart.Series(name: "objective \(ms(r.objective.bound))", points: objectiveLine(s, r.objective))],
                                   marks: marks)
            let sorted = s.points.sorted { $0.offered < $1.offered }
            body += SVGChart.lines(id: "capacity-throughput-\(s.driver)", title: "Throughput against offered load", xLabel: "offered (calls/s)", yLabel: "answered with success (calls/s)",
                                   series: [SVGChart.Series(name: "measured", points: sorted.map { ($0.offered, $0.throughput) }, dots: true),
                                            SVGChart.Series(name: "offered = answered", points: sorted.map { ($0.offered, $0.offered) })],
                                   marks: marks)
            body += "<table><tr><th>#</th><th>phase</th><th>offered</th><th>answered</th><th>p\(e(USLText.number(r.objective.percentile)))</th><th>upper 95 %</th><th>p50</th><th>errors</th><th>calls</th><th>verdict</th></tr>"
            for (i, p) in s.points.enumerated() {
                body += "<tr><td>\(i + 1)</td><td>\(p.phase)</td><td>\(rate(p.offered))</td><td>\(rate(p.throughput))</td><td>\(ms(p.percentile))</td><td>\(ms(p.percentileUpper))</td>"
                    + "<td>\(ms(p.median))</td><td>\(String(format: "%.2f%%", p.errorShare * 100))</td><td>\(p.calls)</td><td class='\(p.passed ? "pass" : "fail")'>\(p.passed ? "pass" : "FAIL")</td></tr>"
            }
            body += "</table>"
        }
        for u in r.scalability {
            body += "<h2>Universal Scalability Law (\(e(u.driver)) closed-loop sweep)</h2><p>\(e(USLText.coefficients(u)))</p>"
            var marks: [(x: Double, label: String)] = []
            if let n = u.peakConcurrency, u.maxThroughput != nil { marks.append((n, "N* = \(USLText.number(n))")) }
            body += SVGChart.lines(id: "usl-\(u.driver)", title: "Throughput against concurrency, measured and fitted", xLabel: "callers (closed loop)",
                                   yLabel: "calls/s", series: [SVGChart.Series(name: "measured", points: u.measured.map { ($0[0], $0[1]) }, dots: true),
                                                               SVGChart.Series(name: "USL fit", points: u.curve.map { ($0[0], $0[1]) })], marks: marks)
            body += "<table><tr><th>callers</th><th>measured</th><th>fitted</th><th>residual</th></tr>"
            for (m, res) in zip(u.measured, u.residuals) {
                body += "<tr><td>\(USLText.number(m[0]))</td><td>\(rate(m[1]))</td><td>\(rate(m[1] - res))</td><td>\(String(format: "%+.1f", res))</td></tr>"
            }
            body += "</table>"
        }
        if let rec = r.recommendation {
            body += "<h2 id='recommendation'>Recommended local rate limit</h2><table><tr><th>calls</th><th>capacity</th><th>per instance</th><th>tokensPerFill</th><th>fillInterval</th><th>maxTokens</th></tr>"
            for b in rec.buckets {
                body += "<tr><td>\(e(b.scope))</td><td>\(rate(b.capacity))</td><td>\(rate(b.ratePerInstance))</td><td>\(b.tokensPerFill)</td><td>\(USLText.number(b.fillIntervalSeconds * 1e3)) ms</td><td>\(b.maxTokens)</td></tr>"
            }
            body += "</table><ul>" + rec.reasoning.map { "<li>\(e($0))</li>" }.joined() + "<li>autoscaling trigger: <code>\(e(rec.autoscalingQuery))</code></li></ul>"
            body += "<p>Apply with <code>mplab proxy --config recommended-ratelimit.yaml</code> (it is the workload's MetaRouter with this limit):</p><pre id='recommended-yaml'>\(e(rec.manifest))</pre>"
        }
        if !r.whatIf.isEmpty {
            body += "<h2>What if: the recommendation under load (simulated)</h2>"
            body += "<table><tr><th>scenario</th><th>offered</th><th>admitted</th><th>rejected / 30 s</th><th>max / 30 s</th><th>p\(e(USLText.number(r.objective.percentile)))</th><th>objective</th><th>autoscaler</th></tr>"
            for w in r.whatIf {
                body += "<tr><td>\(e(w.scenario))</td><td>\(rate(w.offered))</td><td>\(rate(w.admitted))</td><td>\(Int(w.rejectedPer30s.rounded()))</td><td>\(Int(w.rejectedPer30sMax.rounded()))</td>"
                    + "<td>\(ms(w.p99))</td><td class='\(w.withinObjective ? "pass" : "fail")'>\(w.withinObjective ? "kept" : "MISSED")</td>"
                    + "<td>\(w.scaleEvents.isEmpty ? "no scale-out" : e(w.scaleEvents.map { "+1 at \(Int($0)) s" }.joined(separator: ", ") + " → \(w.hostsAtEnd) hosts"))</td></tr>"
            }
            body += "</table>"
            body += SVGChart.lines(id: "whatif-rejected", title: "Rate-limited calls per 5 s, with the recommendation", xLabel: "time (s)", yLabel: "calls",
                                   series: r.whatIf.map { w in SVGChart.Series(name: w.scenario, points: w.rejectedOverTime.map { ($0[0], $0[1]) }) })
        }
        if !r.warnings.isEmpty { body += "<h2>Notes</h2><ul>" + r.warnings.map { "<li>\(e($0))</li>" }.joined() + "</ul>" }
        body += "<p>Reproduce with:</p><pre>\(e(r.provenance.commandLine.joined(separator: " ")))</pre>"
        return HTMLReport.document(title: "Capacity of \(r.workload) — MetaProxyLab", body: body)
    }

    static func objectiveLine(_ s: CapacityResult.Search, _ o: CapacityResult.Objective) -> [(x: Double, y: Double)] {
        let xs = s.points.map(\.offered)
        guard let lo = xs.min(), let hi = xs.max() else { return [] }
        return [(lo, o.bound * 1e3), (hi, o.bound * 1e3)]
    }

    static func rate(_ r: Double) -> String { "\(USLText.number(r))/s" }
    static func ms(_ s: Double) -> String { s.isFinite ? String(format: "%.3f ms", s * 1e3) : "∞" }
}

/// The USL's figures in words, for `mplab usl` and the reports.
public enum USLText {
    public static func coefficients(_ u: CapacityResult.Scalability) -> String {
        var s = "λ = \(number(u.lambda)) calls/s per caller, σ = \(scientific(u.sigma)), κ = \(scientific(u.kappa)); R² = \(String(format: "%.4f", u.rSquared)), "
            + "residual standard error \(number(u.residualStandardError)) calls/s"
        if let n = u.peakConcurrency { s += "; N* = \(number(n))" }
        if let x = u.maxThroughput { s += ", X_max = \(number(x)) calls/s" }
        if let c = u.caveat { s += " (\(c))" }
        return s
    }

    public static func number(_ v: Double) -> String {
        if !v.isFinite { return "\(v)" }
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        return abs(v) >= 100 ? String(format: "%.1f", v) : String(format: "%.4g", v)
    }

    public static func scientific(_ v: Double) -> String { v == 0 ? "0" : String(format: "%.4e", v) }
}
