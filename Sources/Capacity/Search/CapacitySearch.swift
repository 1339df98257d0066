import Foundation
import Results

/// The adaptive search for the highest offered rate that keeps an objective, as Nighthawk's
/// adaptive load controller does it: step the rate up by a factor while points pass, then
/// bisect between the last pass and the first failure until the bracket is narrow. A point
/// passes only when the upper end of its percentile's 95 % interval is under the bound and its
/// error share under the limit, so noise makes the answer lower, never higher.
public struct CapacitySearch: Sendable {
    public var start: Double
    public var growth: Double
    /// Stop bisecting when (high − low) / low is below this.
    public var precision: Double
    public var ceiling: Double
    /// Below this the search gives up: nothing passes.
    public var floor: Double

    public init(start: Double, growth: Double, precision: Double, ceiling: Double) {
        self.start = start
        self.growth = growth
        self.precision = precision
        self.ceiling = ceiling
        floor = start / 1000
    }

    /// The points in the order measured, the highest passing rate and the lowest failing one.
    public struct Outcome: Sendable {
        public var points: [CapacityResult.Point]
        public var capacity: Double?
        public var firstFailure: Double?
    }

    /// Searches with `measure`, which measures one offered rate (its `phase` is set here).
    public func run(_ measure: (Double) async throws -> CapacityResult.Point) async throws -> Outcome {
        var points: [CapacityResult.Point] = []
        func probe(_ rate: Double, _ phase: String) async throws -> Bool {
            var p = try await measure(rate)
            p.phase = phase
            points.append(p)
            return p.passed
        }
        var low: Double?, high: Double?
        var rate = min(start, ceiling)
        // Step: up while passing, or down from the start until something passes.
        if try await probe(rate, "step") {
            low = rate
            while rate < ceiling {
                rate = min(rate * growth, ceiling)
                if try await probe(rate, "step") { low = rate } else {
                    high = rate
                    break
                }
            }
        } else {
            high = rate
            while rate > floor {
                rate /= growth
                if try await probe(rate, "step") {
                    low = rate
                    break
                }
                high = rate
            }
        }
        // Bisect the bracket.
        if var lo = low, var hi = high {
            while (hi - lo) / lo > precision {
                let mid = (lo + hi) / 2
                if try await probe(mid, "bisect") { lo = mid } else { hi = mid }
            }
            low = lo
            high = hi
        }
        return Outcome(points: points, capacity: low, firstFailure: high)
    }

    /// Whether a point keeps `objective`: the upper bound of its percentile under the bound, and
    /// its error share at most the limit.
    public static func passes(percentileUpper: Double, errorShare: Double, objective: CapacityResult.Objective) -> Bool {
        percentileUpper < objective.bound && errorShare <= objective.maxErrorShare
    }
}

/// The knee of a latency–throughput curve by Kneedle (Satopää et al., 2011): with both axes
/// scaled to [0, 1], the point farthest below the chord from the first point to the last. Of a
/// curve that rises slowly and then sharply, that is where it turns.
public enum Knee {
    /// The x of the knee of points (x, y), or nil for fewer than three points or a curve that
    /// never rises faster than its chord.
    public static func find(_ points: [(x: Double, y: Double)]) -> Double? {
        let sorted = points.sorted { $0.x < $1.x }
        guard sorted.count >= 3, let first = sorted.first, let last = sorted.last, last.x > first.x else { return nil }
        let ys = sorted.map(\.y)
        let (y0, y1) = (ys.min()!, ys.max()!)
        guard y1 > y0 else { return nil }
        var best: (x: Double, gap: Double)?
        for p in sorted {
            let xn = (p.x - first.x) / (last.x - first.x), yn = (p.y - y0) / (y1 - y0)
            let gap = xn - yn  // how far the normalised curve lies below the diagonal
            if best == nil || gap > best!.gap { best = (p.x, gap) }
        }
        guard let knee = best, knee.gap > 0 else { return nil }
        return knee.x
    }
}
