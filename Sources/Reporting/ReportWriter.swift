import Foundation
import Results

/// Writes a report folder, `Reports/runs/<workload>/<run-id>/`: `result.json` (everything, the
/// one file the rest can be rendered from again), `summary.md`, `report.html`, CSV tables and an
/// `.hgrm` percentile file per latency figure.
public enum ReportWriter {
    /// The folder of a new run of `workload` under `root`, named by the time (UTC) or, for a
    /// simulation (which has no wall-clock time in it), by the seed.
    public static func folder(root: String, workload: String, startedAt: Date?, seed: UInt64) -> URL {
        let id: String
        if let startedAt {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd'T'HH-mm-ss'Z'"
            id = f.string(from: startedAt)
        } else {
            id = "seed-\(seed)"
        }
        return URL(fileURLWithPath: root).appending(path: workload).appending(path: id)
    }

    /// Writes every file of the report into `folder`; the files written, in order.
    @discardableResult
    public static func write(_ r: WorkloadResult, to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var written: [URL] = []
        func put(_ name: String, _ data: Data) throws {
            let url = folder.appending(path: name)
            try data.write(to: url)
            written.append(url)
        }
        try put("result.json", try r.encoded())
        try put("summary.md", Data(SummaryText.markdown(r).utf8))
        try put("report.html", Data(HTMLReport.page(r).utf8))
        for (name, text) in CSVTables.tables(r) { try put(name, Data(text.utf8)) }
        for part in r.parts where part.role != .replication {
            for f in part.result.latencies where f.samples > 0 {
                try put(fileName("\(part.name) \(f.name)") + ".hgrm", Data(f.distribution.hgrm.utf8))
            }
        }
        return written
    }

    /// `real latency, proxy, 20 B` → `real-latency-proxy-20-B`.
    static func fileName(_ s: String) -> String {
        let kept = s.map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(kept).split(separator: "-").joined(separator: "-")
    }

    /// Reads the result a report folder holds.
    public static func read(folder: String) throws -> WorkloadResult {
        try WorkloadResult.decode(Data(contentsOf: URL(fileURLWithPath: folder).appending(path: "result.json")))
    }
}

/// The report's tables as CSV, for spreadsheets and scripts.
enum CSVTables {
    static func tables(_ r: WorkloadResult) -> [(String, String)] {
        var out: [(String, String)] = []
        var verdict = "expectation,subject,measured,measured_text,expected,passed,problem\n"
        for e in r.expectations {
            verdict += [e.expectation, e.subject, e.measured.map { "\($0)" } ?? "", e.measuredText, e.expectedText, e.passed ? "true" : "false", e.problem ?? ""]
                .map(quote).joined(separator: ",") + "\n"
        }
        out.append(("expectations.csv", verdict))
        var latency = "run,figure,samples,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,mean_ns\n"
        for part in r.parts {
            for f in part.result.latencies {
                let s = f.summary
                latency += [part.name, f.name, "\(f.samples)", "\(s.p50)", "\(s.p90)", "\(s.p99)", "\(s.p999)", "\(s.max)", "\(s.mean)"].map(quote).joined(separator: ",") + "\n"
            }
        }
        out.append(("latency.csv", latency))
        var hosts = "run,host,arrivals,completions,errors,rejected,mean_sojourn_s,mean_busy\n"
        for part in r.parts {
            for h in part.result.hosts {
                hosts += [part.name, h.address, "\(h.arrivals)", "\(h.completions)", "\(h.errors)", "\(h.rejected)", "\(h.meanSojourn)", "\(h.meanBusy)"]
                    .map(quote).joined(separator: ",") + "\n"
            }
        }
        out.append(("hosts.csv", hosts))
        var series = "run,start_s,sent,answered,success,errors,rate_limited,p50_s,p99_s,hosts_up\n"
        for part in r.parts where part.role != .replication {
            for w in part.result.timeSeries.windows {
                series += [part.name, "\(w.start)", "\(w.sent)", "\(w.answered)", "\(w.success)", "\(w.errors)", "\(w.rateLimited)", "\(w.p50)", "\(w.p99)", "\(w.hostsUp)"]
                    .map(quote).joined(separator: ",") + "\n"
            }
        }
        out.append(("time-series.csv", series))
        var figures = "run,name,value,unit,low,high,note\n"
        for (run, f) in r.figures.map({ ("replications", $0) }) + r.parts.flatMap({ p in p.result.figures.map { (p.name, $0) } }) {
            figures += [run, f.name, "\(f.value)", f.unit, f.low.map { "\($0)" } ?? "", f.high.map { "\($0)" } ?? "", f.note].map(quote).joined(separator: ",") + "\n"
        }
        out.append(("figures.csv", figures))
        if !r.comparisons.isEmpty {
            var c = "figure,unit,simulated,real,ratio\n"
            for x in r.comparisons { c += [x.name, x.unit, "\(x.simulated)", "\(x.real)", x.ratio.map { "\($0)" } ?? ""].map(quote).joined(separator: ",") + "\n" }
            out.append(("simulated-vs-real.csv", c))
        }
        return out
    }

    static func quote(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
