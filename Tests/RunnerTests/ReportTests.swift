import Foundation
import Reporting
import Results
import Testing

@testable import Runner
@testable import Workload

/// Reports as a person reads them: the files, the verdict, and the page as Chromium renders it.
@Suite("Reports")
struct ReportTests {
    static func quickstartResult() async throws -> WorkloadResult {
        let script = try WorkloadReader.read(file: clone.appending(path: "Workloads/quickstart.yaml").path)
        return try await WorkloadRunner.run(script, options: .init(mplab: mplabExecutable, commandLine: ["mplab", "run", "Workloads/quickstart.yaml"], runOverhead: false))
    }

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appending(path: "mplab-report-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    @Test func aReportFolderHoldsEveryFileAndRendersAgainFromItsResult() async throws {
        let result = try await Self.quickstartResult()
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try ReportWriter.write(result, to: folder).map(\.lastPathComponent)
        for name in ["result.json", "summary.md", "report.html", "expectations.csv", "latency.csv", "hosts.csv", "time-series.csv", "figures.csv",
                     "simulated-latency.hgrm"] {
            #expect(files.contains(name), "\(name) in \(files)")
        }
        let back = try ReportWriter.read(folder: folder.path)
        #expect(back == result)
        let html = try String(contentsOf: folder.appending(path: "report.html"), encoding: .utf8)
        #expect(HTMLReport.page(back) == html, "mplab report renders the same page from result.json")
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("<link") && !html.contains("url("), "self-contained: nothing to fetch")
        let md = try String(contentsOf: folder.appending(path: "summary.md"), encoding: .utf8)
        #expect(md.contains("| `share(subset v1) within 0.195 ± 0.01` | simulated |"))
        #expect(md.contains("Reproduce with:\n\n    mplab run Workloads/quickstart.yaml"))
        let csv = try String(contentsOf: folder.appending(path: "hosts.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 6, "a header and five hosts")
    }

    @Test func theRenderedPageShowsTheVerdictAndItsCharts() async throws {
        try #require(HeadlessChromium.executable != nil, "chromium is needed: scripts/setup all installs it")
        let result = try await Self.quickstartResult()
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try ReportWriter.write(result, to: folder)
        let dom = try HeadlessChromium.renderedDOM(of: folder.appending(path: "report.html"))
        for chart in ["latency-spectrum", "time-throughput", "time-errors", "time-rate-limited", "time-ejections", "time-hosts-up", "subset-shares", "host-shares"] {
            #expect(dom.contains("data-chart=\"\(chart)\""), "the rendered page has the \(chart) chart")
        }
        #expect(dom.contains("<polyline"), "charts have lines")
        #expect(dom.contains("Verdict: <span class=\"fail\">FAIL</span>") || dom.contains("Verdict: <span class=\"pass\">pass</span>"))
        #expect(dom.contains("share(subset v1) within 0.195 ± 0.01"))
        let png = folder.appending(path: "report.png")
        try HeadlessChromium.screenshot(of: folder.appending(path: "report.html"), to: png)
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && bytes.count > 10_000, "a PNG of the page")
    }

    @Test func chartsEscapeWhatTheyShow() {
        let svg = SVGChart.lines(id: "x", title: "a <b> & 'c'", xLabel: "t", yLabel: "y", series: [.init(name: "<s>", points: [(0, 1), (1, 2)])])
        #expect(svg.contains("a &lt;b&gt; &amp; &#39;c&#39;") && svg.contains("&lt;s&gt;") && !svg.contains("<s>"))
        #expect(SVGChart.lines(id: "e", title: "none", xLabel: "", yLabel: "", series: []).contains("no data"))
    }
}
