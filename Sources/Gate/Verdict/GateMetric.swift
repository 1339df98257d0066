/// What the gate measured of one figure, and what it decided.
public struct GateMetric: Codable, Sendable, Hashable {
    /// Which of the gate's three kinds of figure this is.
    public enum Group: String, Codable, Sendable, CaseIterable {
        /// Same seed, same numbers: the simulator's figures.
        case simulation
        /// Instructions per request under callgrind.
        case instructions
        /// Allocations and bytes allocated per request, from jemalloc's counters.
        case allocations
        /// Candidate against baseline build, measured in one run.
        case latency
        /// A figure against a fixed bound: fails only on a machine declared dedicated.
        case absolute
    }

    /// Which way is worse.
    public enum Direction: String, Codable, Sendable {
        /// A rise is a regression (latency, instructions, allocations, errors).
        case lowerIsBetter = "lower is better"
        /// A fall is a regression (throughput, calls answered).
        case higherIsBetter = "higher is better"
        /// Any change beyond the tolerance is a failure (a determinism check).
        case exact
    }

    /// e.g. `instructions/request core: request through the core`.
    public var name: String
    public var group: Group
    public var unit: String
    public var value: Double
    /// The baseline's value; for latency the baseline build's median (the ratio is `value / baseline`).
    public var baseline: Double?
    /// The relative change allowed before it counts (0.01 = 1 %); for latency the minimum effect.
    public var tolerance: Double
    public var direction: Direction
    /// Samples behind `value`: iterations, calls, rounds.
    public var samples: Int
    /// For latency: the 95 % interval of the candidate/baseline ratio.
    public var interval: ClosedRange<Double>?
    /// For latency: each round's median, µs, of the baseline and of the candidate build, in
    /// pair order (what the decision was made from).
    public var baselineRounds: [Double]?
    public var candidateRounds: [Double]?
    public var verdict: GateVerdict
    /// Why, in a sentence.
    public var detail: String

    public init(name: String, group: Group, unit: String, value: Double, baseline: Double? = nil, tolerance: Double, direction: Direction,
                samples: Int, interval: ClosedRange<Double>? = nil, verdict: GateVerdict = .inconclusive, detail: String = "") {
        self.name = name
        self.group = group
        self.unit = unit
        self.value = value
        self.baseline = baseline
        self.tolerance = tolerance
        self.direction = direction
        self.samples = samples
        self.interval = interval
        self.verdict = verdict
        self.detail = detail
    }

    /// `value` against `baseline` (relative), nil without a baseline.
    public var change: Double? {
        guard let baseline else { return nil }
        if baseline == 0 { return value == 0 ? 0 : .infinity }
        return value / baseline - 1
    }

    /// Judged against a recorded baseline value: within the tolerance passes; beyond it fails
    /// the worse way and counts as an improvement the better way.
    public func judged(against recorded: Double?) -> GateMetric {
        var m = self
        m.baseline = recorded
        guard let change = m.change else {
            m.verdict = .inconclusive
            m.detail = "not in the baseline (record it with --update-baseline)"
            return m
        }
        let percent = GateFormat.percent(change)
        let allowed = GateFormat.percent(tolerance, signed: false)
        switch direction {
        case .exact:
            m.verdict = abs(change) <= tolerance ? .pass : .fail
            m.detail = m.verdict == .pass ? "as recorded (\(percent), ±\(allowed) allowed)" : "changed \(percent), ±\(allowed) allowed"
        case .lowerIsBetter, .higherIsBetter:
            let worse = direction == .lowerIsBetter ? change : -change
            if worse > tolerance {
                m.verdict = .fail
                m.detail = "\(percent) against the baseline, worse than the \(allowed) allowed"
            } else if -worse > tolerance {
                m.verdict = .improved
                m.detail = "\(percent) against the baseline: better by more than \(allowed); update the baseline"
            } else {
                m.verdict = .pass
                m.detail = "\(percent) against the baseline, within \(allowed)"
            }
        }
        return m
    }
}

/// Numbers as the gate's reports print them.
public enum GateFormat {
    /// `+3.10 %`, `-0.42 %` (or without the sign).
    public static func percent(_ fraction: Double, signed: Bool = true) -> String {
        guard fraction.isFinite else { return fraction > 0 ? "+∞ %" : "-∞ %" }
        let text = String(format: signed ? "%+.2f %%" : "%.2f %%", fraction * 100)
        return text
    }

    /// A value with up to four significant decimals, no trailing zeros.
    public static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
