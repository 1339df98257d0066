import Foundation
import MetaProtocol

/// When a client sends requests: a rate over time and how arrivals are spread around it.
public enum ArrivalProcess: Sendable, Hashable, CustomStringConvertible {
    /// Evenly spaced at `rate` per second.
    case constant(rate: Double)
    /// Poisson at `rate` per second.
    case poisson(rate: Double)
    /// Poisson alternating between `onRate` for `on` and `offRate` for `off`.
    case bursty(onRate: Double, offRate: Double, on: Duration, off: Duration)
    /// Poisson whose rate goes linearly from `from` to `to` over `over`, then stays.
    case ramp(from: Double, to: Double, over: Duration)
    /// Poisson whose rate follows `base · (1 + amplitude · sin(2π t / period))`.
    case diurnal(base: Double, amplitude: Double, period: Duration)
    /// A live event: `base` until `at`, rising linearly to `base · multiplier` over `rise`,
    /// holding for `hold`, falling back over `decay` (the talk's Olympic streams: 10–50×).
    case flashCrowd(base: Double, multiplier: Double, at: Duration, rise: Duration, hold: Duration, decay: Duration)
    /// Poisson following a rate profile: (time, rate per second) steps, each holding until the
    /// next (the replay of a recorded profile).
    case profile([RateStep])

    /// A step of a rate profile.
    public struct RateStep: Sendable, Hashable {
        public var at: Duration
        public var rate: Double
        public init(at: Duration, rate: Double) {
            self.at = at
            self.rate = rate
        }
    }

    /// The rate at time `t` (seconds from the start).
    public func rate(at t: Double) -> Double {
        switch self {
        case .constant(let r), .poisson(let r): return r
        case .bursty(let on, let off, let onD, let offD):
            let period = onD.seconds + offD.seconds
            return t.truncatingRemainder(dividingBy: period) < onD.seconds ? on : off
        case .ramp(let from, let to, let over):
            return t >= over.seconds ? to : from + (to - from) * t / over.seconds
        case .diurnal(let base, let amplitude, let period):
            return max(0, base * (1 + amplitude * sin(2 * .pi * t / period.seconds)))
        case .flashCrowd(let base, let m, let at, let rise, let hold, let decay):
            let peak = base * m
            let t0 = at.seconds, t1 = t0 + rise.seconds, t2 = t1 + hold.seconds, t3 = t2 + decay.seconds
            if t < t0 || t >= t3 { return base }
            if t < t1 { return base + (peak - base) * (t - t0) / max(rise.seconds, 1e-12) }
            if t < t2 { return peak }
            return peak - (peak - base) * (t - t2) / max(decay.seconds, 1e-12)
        case .profile(let steps):
            var rate = 0.0
            for s in steps where s.at.seconds <= t { rate = s.rate }
            return rate
        }
    }

    /// The highest rate the process reaches (the bound for thinning).
    public var peakRate: Double {
        switch self {
        case .constant(let r), .poisson(let r): r
        case .bursty(let on, let off, _, _): max(on, off)
        case .ramp(let from, let to, _): max(from, to)
        case .diurnal(let base, let amplitude, _): base * (1 + abs(amplitude))
        case .flashCrowd(let base, let m, _, _, _, _): max(base, base * m)
        case .profile(let steps): steps.map(\.rate).max() ?? 0
        }
    }

    /// The process as people say it: `constant 2000/s`, `poisson 500/s`, `ramp 0→1000/s over 60s`.
    public var description: String {
        func r(_ x: Double) -> String { x == x.rounded() ? "\(Int(x))/s" : "\(x)/s" }
        switch self {
        case .constant(let rate): return "constant \(r(rate))"
        case .poisson(let rate): return "poisson \(r(rate))"
        case .bursty(let on, let off, let onD, let offD): return "bursty \(r(on)) for \(onD.seconds)s, \(r(off)) for \(offD.seconds)s"
        case .ramp(let from, let to, let over): return "ramp \(r(from))→\(r(to)) over \(over.seconds)s"
        case .diurnal(let base, let amplitude, let period): return "diurnal \(r(base)) ± \(Int(amplitude * 100))% every \(period.seconds)s"
        case .flashCrowd(let base, let m, let at, _, _, _): return "flash crowd \(r(base)) × \(m) at \(at.seconds)s"
        case .profile(let steps): return "profile of \(steps.count) steps, peak \(r(peakRate))"
        }
    }

    /// The same process at `factor` times the rate: the share of one of several senders that
    /// split a load (Poisson processes split into independent Poisson processes exactly).
    public func scaled(by factor: Double) -> ArrivalProcess {
        switch self {
        case .constant(let r): .constant(rate: r * factor)
        case .poisson(let r): .poisson(rate: r * factor)
        case .bursty(let on, let off, let onD, let offD): .bursty(onRate: on * factor, offRate: off * factor, on: onD, off: offD)
        case .ramp(let from, let to, let over): .ramp(from: from * factor, to: to * factor, over: over)
        case .diurnal(let base, let amplitude, let period): .diurnal(base: base * factor, amplitude: amplitude, period: period)
        case .flashCrowd(let base, let m, let at, let rise, let hold, let decay): .flashCrowd(base: base * factor, multiplier: m, at: at, rise: rise, hold: hold, decay: decay)
        case .profile(let steps): .profile(steps.map { RateStep(at: $0.at, rate: $0.rate * factor) })
        }
    }

    /// The time of the next arrival after `t` (seconds), or nil if there is none.
    /// Time-varying Poisson processes are drawn by thinning (Lewis and Shedler).
    public func next(after t: Double, random: inout SeededRandom) -> Double? {
        switch self {
        case .constant(let r):
            return r > 0 ? t + 1 / r : nil
        case .poisson(let r):
            return r > 0 ? t - log(1 - random.nextUnit()) / r : nil
        default:
            let bound = peakRate
            guard bound > 0 else { return nil }
            var candidate = t
            // Bounded: a rate of zero forever would otherwise loop.
            for _ in 0..<1_000_000 {
                candidate -= log(1 - random.nextUnit()) / bound
                if random.nextUnit() * bound < rate(at: candidate) { return candidate }
            }
            return nil
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}
