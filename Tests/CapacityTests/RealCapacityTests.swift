import Foundation
import Reporting
import Results
import Testing
import Workload

@testable import Capacity

@Suite("Capacity: real sockets and the report")
struct RealCapacityTests {
    /// Four workers of a constant 2 ms serve at most 2000 calls/s: the real search finds that
    /// within 10 %, and so does the USL fit of the real closed-loop sweep. Real sockets are
    /// timed by the machine, so this runs in the optimized pass of `scripts/test` only (a debug
    /// proxy and load generator would measure themselves).
    @Test(.enabled(if: isOptimizedBuild)) func aServerOfKnownCapacityIsFoundOnRealSockets() async throws {
        let result = try await study("Workloads/verify/capacity-real-2ms.yaml", overrides: [], whatIf: false)
        let search = try #require(result.searches.first)
        #expect(search.driver == "real")
        let capacity = try #require(search.capacity, "\(search.points.map { "\($0.offered): \($0.percentileUpper) \($0.errorShare)" })")
        #expect(relativeError(capacity, 2000) <= 0.10, "found \(capacity)/s: \(search.points.map { "\(Int($0.offered)) \($0.passed)" })")
        let usl = try #require(result.scalability.first)
        let xMax = try #require(usl.maxThroughput, "\(usl.caveat ?? ""): \(usl.measured)")
        #expect(relativeError(xMax, 2000) <= 0.10, "X_max \(xMax) from \(usl.measured)")
        #expect(result.recommendation != nil)
    }

    /// The report folder of a simulated study: the files, the charts, the YAML to apply.
    @Test func theReportHasTheCurvesTablesAndYAML() async throws {
        let overrides = ["capacity.replications=2", "capacity.pointDuration=5s", "capacity.warmUp=1s", "capacity.precision=10%",
                         "capacity.sweepDuration=5s", "capacity.whatIf.duration=30s"]
        let result = try await study("Workloads/verify/capacity-mmc.yaml", overrides: overrides)
        let folder = FileManager.default.temporaryDirectory.appending(path: "capacity-report-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try CapacityReport.write(result, to: folder).map(\.lastPathComponent)
        #expect(Set(files) == ["capacity.json", "summary.md", "report.html", "recommended-ratelimit.yaml", "points.csv", "usl-simulated.csv"])
        #expect(try CapacityReport.read(folder: folder.path) == result)
        let html = try String(contentsOf: folder.appending(path: "report.html"), encoding: .utf8)
        for chart in ["capacity-latency-simulated", "capacity-throughput-simulated", "usl-simulated", "whatif-rejected"] {
            #expect(html.contains("data-chart='\(chart)'"), "\(chart) in the page")
        }
        #expect(html.contains("data-mark='capacity"))
        #expect(html.contains("id='recommended-yaml'"))
        let yaml = try String(contentsOf: folder.appending(path: "recommended-ratelimit.yaml"), encoding: .utf8)
        #expect(yaml.contains("localRateLimit") && yaml.contains("tokensPerFill"))
        let csv = try String(contentsOf: folder.appending(path: "points.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == result.searches[0].points.count + 1)
        let md = try String(contentsOf: folder.appending(path: "summary.md"), encoding: .utf8)
        #expect(md.contains("## Recommended local rate limit") && md.contains("## What if"))
    }
}
