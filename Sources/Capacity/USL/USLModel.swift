import Foundation

/// Gunther's Universal Scalability Law: the throughput at concurrency N is
///
///     X(N) = λ N / (1 + σ (N − 1) + κ N (N − 1))
///
/// with λ the throughput of one caller alone, σ the share of work that serialises (contention),
/// κ the cost of keeping N callers coherent (crosstalk). With κ > 0 the curve peaks at
/// N* = √((1 − σ) / κ) and falls after it; with κ = 0 it rises towards λ / σ (Amdahl's law).
public struct USLModel: Sendable, Hashable, Codable {
    /// Throughput of a single caller, per second.
    public var lambda: Double
    /// Contention.
    public var sigma: Double
    /// Coherency.
    public var kappa: Double

    public init(lambda: Double, sigma: Double, kappa: Double) {
        self.lambda = lambda
        self.sigma = sigma
        self.kappa = kappa
    }

    /// Throughput at concurrency `n`.
    public func throughput(at n: Double) -> Double {
        lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    }

    /// The concurrency of the highest throughput; nil when the curve never peaks (κ = 0).
    public var peakConcurrency: Double? {
        guard kappa > 0, sigma < 1 else { return nil }
        return ((1 - sigma) / kappa).squareRoot()
    }

    /// The highest throughput, X(N*); nil when the curve never peaks.
    public var peakThroughput: Double? { peakConcurrency.map { throughput(at: $0) } }

    /// The bound the curve approaches with no coherency cost, λ / σ (R's `limit.scalability`);
    /// nil without contention.
    public var contentionLimit: Double? { sigma > 0 ? lambda / sigma : nil }

    /// X(N) and its gradient in (λ, σ, κ), for the fitter.
    static func valueAndGradient(_ n: Double, _ p: [Double]) -> (value: Double, gradient: [Double]) {
        let (lambda, sigma, kappa) = (p[0], p[1], p[2])
        let d = 1 + sigma * (n - 1) + kappa * n * (n - 1)
        let x = lambda * n / d
        return (x, [n / d, -x * (n - 1) / d, -x * n * (n - 1) / d])
    }
}
