import Foundation

/// The Mann-Whitney U test (Wilcoxon rank-sum): whether one sample tends to be larger than
/// another, from ranks alone, so a few wild rounds on a noisy machine cannot carry it the way
/// they carry a t-test. benchstat decides the same way.
///
/// The p-value uses the normal approximation with the tie correction and a continuity
/// correction; with the gate's 8+ rounds a side it is within a few thousandths of the exact one.
public struct MannWhitney: Sendable, Hashable {
    /// U of the first sample: how many (a, b) pairs have a > b, ties counting one half.
    public var u: Double
    /// Two-sided p-value of "neither sample tends to be larger".
    public var p: Double

    public init(_ a: [Double], _ b: [Double]) {
        precondition(!a.isEmpty && !b.isEmpty, "Mann-Whitney needs two non-empty samples")
        let n1 = Double(a.count), n2 = Double(b.count)
        // Ranks over the pooled sample, ties given their average rank.
        let pooled = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: pooled.count)
        var tieTerm = 0.0
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { ranks[k] = average }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        let rankSumA = zip(pooled, ranks).filter { $0.0.1 == 0 }.reduce(0) { $0 + $1.1 }
        u = rankSumA - n1 * (n1 + 1) / 2
        let n = n1 + n2
        let mean = n1 * n2 / 2
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else {
            p = 1
            return
        }
        let z = max(0, abs(u - mean) - 0.5) / variance.squareRoot()
        p = min(1, erfc(z / 2.0.squareRoot()))
    }
}
