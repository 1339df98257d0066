import Foundation
import Gate
import Testing

@Suite("Gate: simulation figures")
struct SimulationFiguresTests {
    static let workloads = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Workloads/verify")

    @Test func aWorkloadIsRunTwiceAndItsFiguresJudged() throws {
        let metrics = try SimulationFigures.measure(Self.workloads.appending(path: "outlier-ejection.yaml").path, tolerance: 0.02)
        #expect(metrics.first?.name == "outlier-ejection: same seed, same trace" && metrics.first?.verdict == .pass)
        #expect(metrics.map(\.name).contains("outlier-ejection: p99 latency"))
        let again = try SimulationFigures.measure(Self.workloads.appending(path: "outlier-ejection.yaml").path, tolerance: 0.02)
        #expect(metrics.map(\.value) == again.map(\.value), "the same numbers in another run")
        // Judged against themselves they pass; against a baseline 10 % better they fail.
        for m in metrics.dropFirst() {
            #expect(m.judged(against: m.value).verdict == .pass)
            if m.value > 0 {
                let better = m.direction == .lowerIsBetter ? m.value / 1.1 : m.value * 1.1
                #expect(m.judged(against: better).verdict == .fail, "\(m.name)")
            }
        }
    }
}
