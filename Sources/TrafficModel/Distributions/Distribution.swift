import Foundation
import MetaProtocol

/// A distribution of durations or sizes, sampled from a seeded generator: service times and
/// payload sizes for the simulator, the synthetic servers and the load generator.
public enum Distribution: Sendable, Hashable, CustomStringConvertible {
    /// Always `value`.
    case constant(Double)
    /// Exponential with this mean.
    case exponential(mean: Double)
    /// Lognormal with this mean and standard deviation (of the values, not of their logarithm).
    case lognormal(mean: Double, standardDeviation: Double)
    /// Uniform in `[low, high)`.
    case uniform(low: Double, high: Double)
    /// Empirical, from a histogram: bucket upper bounds (ascending) and their counts; a value
    /// is uniform within its bucket (the first bucket starts at 0).
    case empirical(bounds: [Double], counts: [Double])

    /// The mean of the distribution.
    public var mean: Double {
        switch self {
        case .constant(let v): v
        case .exponential(let m): m
        case .lognormal(let m, _): m
        case .uniform(let l, let h): (l + h) / 2
        case .empirical(let bounds, let counts):
            zip(bounds.indices, counts).reduce(0) { sum, e in
                let low = e.0 == 0 ? 0 : bounds[e.0 - 1]
                return sum + e.1 * (low + bounds[e.0]) / 2
            } / counts.reduce(0, +)
        }
    }

    public var description: String {
        switch self {
        case .constant(let v): "constant(\(v))"
        case .exponential(let m): "exponential(mean \(m))"
        case .lognormal(let m, let s): "lognormal(mean \(m), sd \(s))"
        case .uniform(let l, let h): "uniform(\(l), \(h))"
        case .empirical(let b, _): "empirical(\(b.count) buckets)"
        }
    }

    /// A sampler with the distribution's parameters worked out once.
    public func sampler() -> Sampler { Sampler(self) }

    /// Samples a distribution quickly: parameters are precomputed.
    public struct Sampler: Sendable {
        private enum Kind: Sendable {
            case constant(Double)
            case exponential(Double)
            case lognormal(mu: Double, sigma: Double)
            case uniform(Double, Double)
            case empirical(bounds: [Double], cumulative: [Double])
        }

        private let kind: Kind
        public let mean: Double

        init(_ d: Distribution) {
            mean = d.mean
            switch d {
            case .constant(let v): kind = .constant(v)
            case .exponential(let m): kind = .exponential(m)
            case .lognormal(let m, let s):
                // For X lognormal: σ² = ln(1 + s²/m²), μ = ln m − σ²/2.
                let sigma2 = log(1 + (s * s) / (m * m))
                kind = .lognormal(mu: log(m) - sigma2 / 2, sigma: sigma2.squareRoot())
            case .uniform(let l, let h): kind = .uniform(l, h)
            case .empirical(let bounds, let counts):
                let total = counts.reduce(0, +)
                var running = 0.0
                kind = .empirical(bounds: bounds, cumulative: counts.map { running += $0 / total; return running })
            }
        }

        /// One value.
        @inline(__always)
        public func sample(_ random: inout SeededRandom) -> Double {
            switch kind {
            case .constant(let v):
                return v
            case .exponential(let m):
                return -m * log(1 - random.nextUnit())
            case .lognormal(let mu, let sigma):
                // Box–Muller: one standard normal from two uniforms.
                let u1 = 1 - random.nextUnit(), u2 = random.nextUnit()
                let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                return exp(mu + sigma * z)
            case .uniform(let l, let h):
                return l + (h - l) * random.nextUnit()
            case .empirical(let bounds, let cumulative):
                let u = random.nextUnit()
                var i = 0
                while i < cumulative.count - 1 && u >= cumulative[i] { i += 1 }
                let low = i == 0 ? 0 : bounds[i - 1]
                return low + (bounds[i] - low) * random.nextUnit()
            }
        }
    }
}
