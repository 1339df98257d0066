import Foundation
import Results

/// `report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) that
/// opens offline — the verdict on top, then the charts, then how everything was measured and the
/// command that reproduces it.
public enum HTMLReport {
    public static func page(_ r: WorkloadResult) -> String {
        let figures = ReportFigures(result: r)
        let e = SVGChart.escape
        var body = "<h1>\(e(r.workload))</h1><p class='summary'>\(e(r.summary))</p>"
        body += "<p class='meta'>mode <b>\(e(r.mode))</b> · seed \(r.provenance.seed) · build <code>\(e(r.provenance.build))</code> · "
            + "\(r.provenance.machine.cores) cores, \(e(r.provenance.machine.cpuModel)), \(e(r.provenance.machine.operatingSystem))"
            + (r.provenance.workload.map { " · workload <code>\(e($0.path))</code> \(e($0.hash))" } ?? "") + "</p>"
        if !r.complete { body += "<p class='fail'>Interrupted: the figures cover what ran before the stop.</p>" }

        body += "<h2 id='verdict'>Verdict: <span class='\(r.passed ? "pass" : "fail")'>\(r.passed ? "pass" : "FAIL")</span></h2>"
        body += "<table class='verdict'><tr><th>expectation</th><th>checked on</th><th>measured</th><th>expected</th><th>verdict</th></tr>"
        for x in r.expectations {
            body += "<tr><td><code>\(e(x.expectation))</code></td><td>\(e(x.subject))</td><td>\(e(x.problem ?? x.measuredText))</td>"
                + "<td>\(e(x.expectedText))</td><td class='\(x.passed ? "pass" : "fail")'>\(x.passed ? "pass" : "FAIL")</td></tr>"
        }
        body += "</table>"

        body += "<h2>Latency</h2>"
        let ticks: [(Double, String)] = [(1, "0%"), (2, "50%"), (10, "90%"), (100, "99%"), (1000, "99.9%"), (10000, "99.99%"), (1e5, "max")]
        body += SVGChart.lines(id: "latency-spectrum", title: "Latency by percentile (from the intended send time)", xLabel: "percentile",
                               yLabel: "latency (ms)", series: figures.spectrumSeries, logX: true, xTicks: ticks)
        body += "<table><tr><th>run</th><th>calls</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>"
        for (label, f) in figures.latencyFigures {
            let s = f.summary, d = ReportFigures.duration(nanoseconds:)
            body += "<tr><td>\(e(label))</td><td>\(f.samples)</td><td>\(d(s.p50))</td><td>\(d(s.p90))</td><td>\(d(s.p99))</td><td>\(d(s.p999))</td><td>\(d(s.max))</td></tr>"
        }
        body += "</table>"

        if let added = figures.addedLatency {
            body += "<h2>Added by the proxy, per payload size</h2>"
            let groups = zip(added.sizes, zip(added.proxy, added.haproxy)).map { SVGChart.BarGroup(label: $0, values: [$1.0] + ($1.1.map { [$0] } ?? [])) }
            body += SVGChart.bars(id: "added-latency", title: "Added at p50 over the direct path, with the HAProxy floor", yLabel: "added latency (µs)",
                                  seriesNames: ["mplab proxy"] + (added.haproxy.contains { $0 != nil } ? ["HAProxy (L4)"] : []), groups: groups)
            body += "<ul>" + zip(added.sizes, added.intervals).map { "<li>\(e($0)): \(e($1))</li>" }.joined() + "</ul>"
        }

        let series: [(String, String, (TimeWindow) -> Int?, Bool, String)] = [
            ("throughput", "Answered calls per second", { $0.answered }, true, "calls/s"),
            ("errors", "Errors per second", { $0.errors }, true, "errors/s"),
            ("rate-limited", "Rate-limited calls per second", { $0.rateLimited }, true, "calls/s"),
            ("ejections", "Hosts ejected by outlier detection (all proxy instances)", { $0.hostsEjected }, false, "hosts"),
            ("hosts-up", "Hosts up", { $0.hostsUp }, false, "hosts"),
        ]
        if r.parts.contains(where: { !$0.result.timeSeries.windows.isEmpty && ($0.role == .simulated || $0.role == .real) }) {
            body += "<h2>Over time</h2>"
            for (id, title, path, perSecond, unit) in series {
                body += SVGChart.lines(id: "time-\(id)", title: title, xLabel: "time (s)", yLabel: unit, series: figures.timeSeries(path, perSecond: perSecond))
            }
        }
        if let shares = figures.subsetShares {
            body += "<h2>Share of calls per subset</h2>"
            body += SVGChart.bars(id: "subset-shares", title: "Share of host arrivals per subset", yLabel: "share",
                                  seriesNames: shares.parts, groups: zip(shares.subsets, shares.values).map { SVGChart.BarGroup(label: $0, values: $1) })
        }
        if let shares = figures.hostShares {
            body += "<h2>Share of calls per host</h2>"
            body += SVGChart.bars(id: "host-shares", title: "Share of host arrivals (retries and mirrors included)", yLabel: "share",
                                  seriesNames: shares.parts, groups: zip(shares.hosts, shares.values).map { SVGChart.BarGroup(label: $0, values: $1) })
        }
        if !r.comparisons.isEmpty {
            body += "<h2 id='simulated-vs-real'>Simulated vs real</h2><table><tr><th>figure</th><th>simulated</th><th>real</th><th>real / simulated</th></tr>"
            for c in r.comparisons {
                body += "<tr><td>\(e(c.name)) (\(e(c.unit)))</td><td>\(ReportFigures.round(c.simulated))</td><td>\(ReportFigures.round(c.real))</td>"
                    + "<td>\(c.ratio.map { String(format: "%.2f", $0) } ?? "—")</td></tr>"
            }
            body += "</table>"
            let latency = r.comparisons.filter { $0.unit == "ms" }
            body += SVGChart.bars(id: "simulated-vs-real", title: "Latency, simulated vs real", yLabel: "ms", seriesNames: ["simulated", "real"],
                                  groups: latency.map { SVGChart.BarGroup(label: $0.name, values: [$0.simulated, $0.real]) })
        }
        let overReplications = r.figures.filter { !$0.name.contains(" share of subset ") }
        if !overReplications.isEmpty {
            body += "<h2>Over replications</h2><ul>"
            for f in overReplications {
                body += "<li>\(e(f.name)): \(ReportFigures.round(f.value)) \(e(f.unit)) [\(ReportFigures.round(f.low ?? f.value)), \(ReportFigures.round(f.high ?? f.value))] — \(e(f.note))</li>"
            }
            body += "</ul>"
        }
        body += "<h2>Counts</h2><table><tr><th>run</th><th>sent</th><th>answered</th><th>success</th><th>app. errors</th><th>server errors</th><th>unavailable</th></tr>"
        for part in r.parts where part.role != .replication {
            let c = part.result.calls
            body += "<tr><td>\(e(part.name))</td><td>\(c.sent)</td><td>\(c.answered)</td><td>\(c.success)</td><td>\(c.applicationError)</td><td>\(c.serverError)</td><td>\(c.unavailable)</td></tr>"
        }
        body += "</table>"
        let fired = r.parts.filter { $0.role == .simulated || $0.role == .real }.flatMap { p in p.result.coverage.map { (p.name, $0) } }
        if !fired.isEmpty {
            body += "<h3>What fired</h3><table><tr><th>run</th><th>what</th><th>times</th></tr>"
            for (part, c) in fired { body += "<tr><td>\(e(part))</td><td>\(e(c.name))</td><td>\(c.value)</td></tr>" }
            body += "</table>"
        }

        body += "<h2>How it was measured</h2><ul>"
        for part in r.parts where part.role != .replication {
            for f in part.result.latencies where f.samples > 0 && (f.name == "latency" || part.role == .overhead) {
                body += "<li>\(e(part.name)), \(e(f.name)): \(f.measurement.clock.rawValue) clock, from \(e(f.measurement.from)) to \(e(f.measurement.to)); "
                    + "\(f.samples) samples. \(e(f.measurement.note))</li>"
            }
            for note in part.result.notes { body += "<li>\(e(part.name)): \(e(note))</li>" }
        }
        for w in r.warnings { body += "<li>note: \(e(w))</li>" }
        body += "</ul><p>Reproduce with:</p><pre>\(e(figures.reproduce))</pre>"
        body += "<details><summary>Resolved configuration (every default shown)</summary><pre>\(e(r.resolvedConfiguration))</pre></details>"

        return document(title: "\(r.workload) — MetaProxyLab report", body: body)
    }

    /// A self-contained page: the report's styles inline, `body` as it is.
    static func document(title: String, body: String) -> String {
        """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(SVGChart.escape(title))</title>
            <style>
            body { font-family: sans-serif; max-width: 980px; margin: 2em auto; color: #222; line-height: 1.4; }
            table { border-collapse: collapse; margin: 0.5em 0 1em; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; font-size: 14px; }
            .pass { color: #17803d; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
            .meta, .summary { color: #555; } svg { display: block; margin: 0.5em 0; max-width: 100%; height: auto; }
            pre { background: #f5f5f5; padding: 8px; overflow-x: auto; font-size: 12px; }
            </style></head><body>
            \(body)
            </body></html>

            """
    }
}
