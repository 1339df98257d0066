/// How the gate decides on latency from rounds taken in one run: the candidate/baseline ratio
/// of each ABBA pair's medians, a bootstrap interval on the median ratio, a Mann-Whitney test on
/// the rounds' medians, and a minimum effect below which nothing counts.
public struct LatencyDecision: Sendable, Hashable {
    public var verdict: GateVerdict
    /// The median of the pairs' ratios (1.10: the candidate 10 % slower).
    public var ratio: Double
    public var interval: ClosedRange<Double>
    public var p: Double
    public var pairs: Int

    /// - Parameters:
    ///   - baseline, candidate: each round's median latency, in pair order (round i of one
    ///     build ran next to round i of the other).
    ///   - minEffect: a ratio within 1 ± minEffect never fails or counts as an improvement.
    ///   - alpha: the significance level of the Mann-Whitney test.
    public init(baseline: [Double], candidate: [Double], minEffect: Double, alpha: Double, seed: UInt64 = 1) {
        precondition(baseline.count == candidate.count && !baseline.isEmpty, "one baseline round per candidate round")
        let ratios = zip(candidate, baseline).map { $0 / $1 }
        let bootstrap = BootstrapInterval(medianOf: ratios, seed: seed)
        let test = MannWhitney(candidate, baseline)
        ratio = bootstrap.estimate
        interval = bootstrap.lower...bootstrap.upper
        p = test.p
        pairs = ratios.count
        if test.p < alpha && bootstrap.lower > 1 && ratio >= 1 + minEffect {
            verdict = .fail
        } else if test.p < alpha && bootstrap.upper < 1 && ratio <= 1 - minEffect {
            verdict = .improved
        } else if bootstrap.upper <= 1 + minEffect && bootstrap.lower >= 1 - minEffect {
            // The interval rules out any change as large as the minimum effect.
            verdict = .pass
        } else {
            verdict = .inconclusive
        }
    }
}
