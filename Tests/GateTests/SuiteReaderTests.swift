import Foundation
import Gate
import Testing
import Workload

@Suite("Gate: suite files")
struct SuiteReaderTests {
    static let probes = HotPathProbe.names

    @Test func everyFieldIsRead() throws {
        let suite = try GateSuiteReader.read(text: """
            name: nightly
            dedicated: true
            instructions: { probes: [core-request, dubbo-codec-1KB], iterations: 500, tolerance: 0.5% }
            allocations: { probes: [core-request] }
            latency: { pacing: open, sizes: [20, 120000], rate: 800, roundDuration: 2s, rounds: 6, step: 2, maxRounds: 10, minEffect: 3% }
            thresholds: [{ metric: "instructions/request core-request", max: 9000 }]
            """, file: "nightly.yaml", probes: Self.probes)
        #expect(suite.name == "nightly" && suite.dedicated)
        #expect(suite.instructions?.probes == ["core-request", "dubbo-codec-1KB"] && suite.instructions?.iterations == 500)
        #expect(suite.instructions?.tolerance == 0.005)
        #expect(suite.allocations?.tolerance == 0, "allocations are exact unless told otherwise")
        #expect(suite.latency?.closedLoop == false && suite.latency?.sizes == [20, 120000] && suite.latency?.roundDuration == .seconds(2) && suite.latency?.minEffect == 0.03)
        #expect(suite.thresholds.first?.max == 9000)
    }

    @Test func mistakesAreReportedWithTheirLineAndField() {
        do {
            _ = try GateSuiteReader.read(text: """
                instructions:
                  probes: [core-requests]
                  tolerance: 150%
                latency: { rounds: 2, step: 3 }
                """, file: "bad.yaml", probes: Self.probes)
            Issue.record("a bad suite was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("bad.yaml:2:") && text.contains("instructions.probes[0]: unknown probe \"core-requests\"; did you mean 'core-request'?"), "\(text)")
            #expect(text.contains("bad.yaml:3:") && text.contains("instructions.tolerance: expected a fraction"), "\(text)")
            #expect(text.contains("latency.rounds: at least 4 rounds"), "\(text)")
            #expect(text.contains("latency.step: an even number"), "\(text)")
        }
    }

    @Test func aSuiteWithNothingToMeasureIsRefused() {
        #expect(throws: ManifestErrors.self) { try GateSuiteReader.read(text: "name: empty\n", file: "e.yaml", probes: Self.probes) }
    }

    @Test func theCommittedSuitesRead() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Workloads/gate")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.contains("quick.yaml") && files.contains("full.yaml"))
        for f in files { _ = try GateSuiteReader.read(file: folder.appending(path: f).path, probes: Self.probes) }
    }
}
