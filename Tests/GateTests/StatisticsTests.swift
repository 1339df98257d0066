import Foundation
import Gate
import MetaProtocol
import Testing

@Suite("Gate: statistics")
struct StatisticsTests {
    @Test func mannWhitneyMatchesTheNormalApproximationByHand() {
        // n1 = n2 = 5, complete separation: U = 0; mean 12.5, variance 25 * 11 / 12;
        // z = (12.5 - 0.5) / sqrt(22.9167) = 2.5067, two-sided p = 0.012186.
        let t = MannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        #expect(t.u == 0)
        #expect(abs(t.p - 0.012186) < 1e-5, "\(t.p)")
        // The other way round U is n1 n2 = 25, p the same.
        let r = MannWhitney([6, 7, 8, 9, 10], [1, 2, 3, 4, 5])
        #expect(r.u == 25 && abs(r.p - t.p) < 1e-12)
        // Identical samples: nothing to tell them apart.
        #expect(MannWhitney([3, 3, 3], [3, 3, 3]).p == 1)
    }

    @Test func tiesTakeTheirAverageRank() {
        // a = [1, 2, 2], b = [2, 3]: ranks 1, 3, 3 | 3, 5 → rank sum of a = 7, U = 7 - 6 = 1.
        let t = MannWhitney([1, 2, 2], [2, 3])
        #expect(t.u == 1)
        #expect(t.p > 0.2 && t.p < 1)
    }

    @Test func theBootstrapIntervalIsSeededAndHoldsTheMedian() {
        var random = SeededRandom(seed: 7)
        let values = (0..<15).map { _ in 1 + random.nextUnit() * 0.1 }
        let a = BootstrapInterval(medianOf: values), b = BootstrapInterval(medianOf: values)
        #expect(a == b, "same sample, same seed, same interval")
        #expect(a.lower <= a.estimate && a.estimate <= a.upper)
        #expect(a.lower >= values.min()! && a.upper <= values.max()!)
        #expect(BootstrapInterval.median([3, 1, 2]) == 2 && BootstrapInterval.median([4, 1, 2, 3]) == 2.5)
    }

    /// Rounds whose medians scatter by `noise` (relative, normal) around `base` and `base × effect`.
    static func rounds(pairs: Int, effect: Double, noise: Double, random: inout SeededRandom) -> ([Double], [Double]) {
        func normal() -> Double {
            let u = max(1e-12, random.nextUnit()), v = random.nextUnit()
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        var base: [Double] = [], cand: [Double] = []
        for _ in 0..<pairs {
            // A drift both builds share (the machine), and each round's own noise.
            let drift = 1 + 0.2 * normal() * noise
            base.append(100 * drift * (1 + noise * normal()))
            cand.append(100 * effect * drift * (1 + noise * normal()))
        }
        return (base, cand)
    }

    @Test func aTenPercentSlowerCandidateFailsAndAnEqualOneDoesNot() {
        // 400 trials of 12 ABBA pairs with 3 % round-to-round noise. With a 10 % regression the
        // ratio's interval sits near 1.10 ± 0.02, far past the 5 % minimum effect: it fails
        // every time we have seen (400 of 400 on 2026-12-02); expect at least 95 %. With no change,
        // a failure needs p < 0.05, an interval above 1 and a median ratio past 1.05 together
        // (0 of 400 seen, 348 passed outright): expect at most 1 %.
        var random = SeededRandom(seed: 12)
        var caught = 0, falseAlarms = 0, passed = 0
        let trials = 400
        for _ in 0..<trials {
            let (b, c) = Self.rounds(pairs: 12, effect: 1.10, noise: 0.03, random: &random)
            if LatencyDecision(baseline: b, candidate: c, minEffect: 0.05, alpha: 0.05).verdict == .fail { caught += 1 }
            let (b0, c0) = Self.rounds(pairs: 12, effect: 1.0, noise: 0.03, random: &random)
            let clean = LatencyDecision(baseline: b0, candidate: c0, minEffect: 0.05, alpha: 0.05).verdict
            if clean == .fail { falseAlarms += 1 }
            if clean == .pass { passed += 1 }
        }
        #expect(Double(caught) >= 0.95 * Double(trials), "caught \(caught) of \(trials)")
        #expect(Double(falseAlarms) <= 0.01 * Double(trials), "\(falseAlarms) false alarms in \(trials)")
        #expect(passed > trials / 2, "an unchanged build mostly passes outright: \(passed) of \(trials)")
    }

    @Test func aFasterCandidateIsAnImprovementAndNoiseIsInconclusive() {
        let fast = LatencyDecision(baseline: Array(repeating: 100, count: 8).enumerated().map { 100 + Double($0.offset % 3) },
                                   candidate: Array(repeating: 80, count: 8).enumerated().map { 80 + Double($0.offset % 3) }, minEffect: 0.05, alpha: 0.05)
        #expect(fast.verdict == .improved && abs(fast.ratio - 0.8) < 0.02)
        // Half the pairs 20 % slower, half 20 % faster: neither way, and too wide to pass.
        let wild = LatencyDecision(baseline: [100, 100, 100, 100, 100, 100], candidate: [120, 80, 121, 79, 122, 78], minEffect: 0.05, alpha: 0.05)
        #expect(wild.verdict == .inconclusive, "\(wild)")
    }
}
