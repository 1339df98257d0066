import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Gate
import Testing

@Suite("Gate: verdicts, reports")
struct VerdictTests {
    static func metric(_ value: Double, _ direction: GateMetric.Direction, tolerance: Double = 0.01) -> GateMetric {
        GateMetric(name: "m", group: .instructions, unit: "instructions", value: value, tolerance: tolerance, direction: direction, samples: 100)
    }

    @Test func aFigureIsJudgedByItsDirectionAndTolerance() {
        #expect(Self.metric(1009, .lowerIsBetter).judged(against: 1000).verdict == .pass)
        #expect(Self.metric(1011, .lowerIsBetter).judged(against: 1000).verdict == .fail)
        #expect(Self.metric(989, .lowerIsBetter).judged(against: 1000).verdict == .improved)
        #expect(Self.metric(989, .higherIsBetter).judged(against: 1000).verdict == .fail)
        #expect(Self.metric(1011, .higherIsBetter).judged(against: 1000).verdict == .improved)
        #expect(Self.metric(1011, .exact).judged(against: 1000).verdict == .fail)
        #expect(Self.metric(989, .exact).judged(against: 1000).verdict == .fail)
        #expect(Self.metric(5, .lowerIsBetter, tolerance: 0).judged(against: 0).verdict == .fail, "anything from nothing is a rise")
        #expect(Self.metric(5, .lowerIsBetter).judged(against: nil).verdict == .inconclusive)
    }

    @Test func theOverallVerdictAndItsExitCode() {
        #expect(GateVerdict.overall([.pass, .inconclusive, .warning]) == .pass)
        #expect(GateVerdict.overall([.pass, .improved, .inconclusive]) == .improved)
        #expect(GateVerdict.overall([.improved, .fail]) == .fail)
        #expect([GateVerdict.pass, .fail, .improved, .inconclusive].map(\.exitCode) == [0, 2, 4, 0])
    }

    static let outcome = GateOutcome(
        suite: "s", suiteFile: "s.yaml", verdict: .fail,
        metrics: [metric(1011, .lowerIsBetter).judged(against: 1000),
                  GateMetric(name: "latency p50 ratio <20 B> & \"x\"", group: .latency, unit: "×", value: 1.1, baseline: 1, tolerance: 0.05,
                             direction: .lowerIsBetter, samples: 4000, interval: 1.05...1.15, verdict: .fail, detail: "slower | much"),
                  GateMetric(name: "n", group: .simulation, unit: "", value: .nan, tolerance: 0, direction: .exact, samples: 0, verdict: .inconclusive, detail: "?")],
        build: "abc", machine: .init(cores: 2, cpuModel: "cpu", operatingSystem: "os"), baselineBuild: "def", baselineRecordedAt: "2026-12-01T00:00:00Z",
        startedAt: "2026-12-02T00:00:00Z", seconds: 12.5, commandLine: ["mplab", "gate", "s.yaml"], dedicated: false, injected: nil)

    @Test func theJUnitFileIsWellFormedAndCountsFailures() throws {
        let xml = GateReport.junit(Self.outcome)
        let document = try XMLDocument(data: Data(xml.utf8))
        let suite = try #require(try document.nodes(forXPath: "/testsuites/testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "tests")?.stringValue == "3")
        #expect(suite.attribute(forName: "failures")?.stringValue == "2")
        #expect(suite.attribute(forName: "skipped")?.stringValue == "1")
        #expect(try document.nodes(forXPath: "//testcase[@name='latency p50 ratio <20 B> & \"x\"']/failure").count == 1)
    }

    @Test func theMarkdownSummaryAndJSONCarryEveryMetric() throws {
        let md = GateReport.markdown(Self.outcome)
        #expect(md.contains("# Gate `s`: ❌ fail (exit 2)"))
        #expect(md.contains("| m | 1011 instructions | 1000 instructions | +1.10 % | ❌ fail |"))
        #expect(md.contains("slower \\| much"), "a pipe in a detail does not break the table")
        let json = try GateReport.json(Self.outcome)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let back = try decoder.decode(GateOutcome.self, from: json)
        #expect(back.metrics.count == 3 && back.metrics[1].interval == 1.05...1.15)
    }
}
