import Foundation
import Results
import Testing

@testable import Capacity

/// A point that passes below `capacity`, with a percentile that rises towards it.
func syntheticPoint(_ rate: Double, capacity: Double, objective: CapacityResult.Objective) -> CapacityResult.Point {
    let p = rate < capacity ? objective.bound * rate / capacity * 0.9 : objective.bound * 3
    return CapacityResult.Point(offered: rate, throughput: min(rate, capacity), percentile: p, percentileUpper: p, samples: [p], median: p / 2,
                                errorShare: 0, calls: 1, passed: CapacitySearch.passes(percentileUpper: p, errorShare: 0, objective: objective), phase: "")
}

@Suite("Capacity: the adaptive search")
struct CapacitySearchTests {
    let objective = CapacityResult.Objective(percentile: 99, bound: 0.02, maxErrorShare: 0.01)

    @Test func itStepsUpThenBisectsToThePrecision() async throws {
        let search = CapacitySearch(start: 100, growth: 2, precision: 0.01, ceiling: 1e6)
        let outcome = try await search.run { syntheticPoint($0, capacity: 1234, objective: objective) }
        let capacity = try #require(outcome.capacity), failure = try #require(outcome.firstFailure)
        #expect(capacity < 1234 && failure >= 1234)
        #expect((failure - capacity) / capacity <= 0.01)
        #expect(outcome.points.prefix(5).map(\.offered) == [100, 200, 400, 800, 1600])
        #expect(outcome.points.prefix(5).allSatisfy { $0.phase == "step" })
        #expect(outcome.points.dropFirst(5).allSatisfy { $0.phase == "bisect" })
    }

    @Test func itStepsDownWhenTheStartAlreadyFails() async throws {
        let search = CapacitySearch(start: 1000, growth: 2, precision: 0.02, ceiling: 1e6)
        let outcome = try await search.run { syntheticPoint($0, capacity: 150, objective: objective) }
        #expect(outcome.points.prefix(4).map(\.offered) == [1000, 500, 250, 125])
        let capacity = try #require(outcome.capacity)
        #expect(capacity < 150 && capacity > 150 * 0.98)
    }

    @Test func atTheCeilingItReportsNoFailure() async throws {
        let search = CapacitySearch(start: 100, growth: 10, precision: 0.01, ceiling: 5000)
        let outcome = try await search.run { syntheticPoint($0, capacity: 1e9, objective: objective) }
        #expect(outcome.capacity == 5000)
        #expect(outcome.firstFailure == nil)
        #expect(outcome.points.map(\.offered) == [100, 1000, 5000])
    }

    /// The bound is judged on the interval's upper end, and errors count too.
    @Test func aPointPassesOnlyWithItsUpperBoundAndErrorsWithin() {
        #expect(CapacitySearch.passes(percentileUpper: 0.019, errorShare: 0.01, objective: objective))
        #expect(!CapacitySearch.passes(percentileUpper: 0.021, errorShare: 0, objective: objective))
        #expect(!CapacitySearch.passes(percentileUpper: 0.001, errorShare: 0.011, objective: objective))
        // Two replications far apart: the mean passes, the bound does not.
        let p = SimulatedCapacityDriver.point(rate: 1, percentiles: [0.010, 0.018], medians: [0, 0], success: 10, sent: 10, seconds: 1, objective: objective)
        #expect(p.percentile < 0.02 && p.percentileUpper > 0.02 && !p.passed)
    }

    @Test func theKneeIsWhereLatencyTurnsUp() {
        // Flat to 800, then steep.
        let points = [100.0, 200, 400, 600, 800, 900, 1000].map { x in (x: x, y: x <= 800 ? 1 + x / 1000 : 1.8 + (x - 800) * 0.05) }
        #expect(Knee.find(points) == 800)
        #expect(Knee.find([(1, 1), (2, 2)]) == nil)
        #expect(Knee.find([(1, 1), (2, 1), (3, 1)]) == nil)
    }
}
