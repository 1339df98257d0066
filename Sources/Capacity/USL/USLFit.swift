import Foundation

/// A measured point of a closed-loop sweep: callers at once, and the calls per second they got.
public struct ConcurrencyPoint: Sendable, Hashable, Codable {
    public var concurrency: Double
    public var throughput: Double

    public init(concurrency: Double, throughput: Double) {
        self.concurrency = concurrency
        self.throughput = throughput
    }
}

/// The Universal Scalability Law fitted to a concurrency sweep by nonlinear least squares, with
/// what tells whether to trust it: R², residuals, the residual standard error, and the range
/// that was measured. It predicts only up to ``extrapolationLimit`` times the largest measured
/// concurrency: past that the fit says nothing the data supports.
public struct USLFit: Sendable, Codable {
    public var model: USLModel
    public var points: [ConcurrencyPoint]
    /// Measured minus fitted, per point, in the points' order.
    public var residuals: [Double]
    /// 1 − SS_res / SS_tot.
    public var rSquared: Double
    /// √(SS_res / (n − 3)), in the throughput's unit (R's `sigma()` of the fit).
    public var residualStandardError: Double
    public var iterations: Int
    /// How far past the largest measured concurrency predictions go (2: up to twice it).
    public static let extrapolationLimit = 2.0

    /// The largest concurrency measured.
    public var largestMeasured: Double { points.map(\.concurrency).max() ?? 0 }

    /// Concurrency where throughput peaks, when the curve peaks at all.
    public var peakConcurrency: Double? { model.peakConcurrency }

    /// Whether N* lies where the fit may be believed (within the extrapolation limit).
    public var peakWithinRange: Bool { peakConcurrency.map { $0 <= largestMeasured * Self.extrapolationLimit } ?? false }

    /// X_max = X(N*), only when N* is within the extrapolation limit; otherwise nil, and
    /// ``caveat`` says why.
    public var maxThroughput: Double? { peakWithinRange ? model.peakThroughput : nil }

    /// Why a figure is withheld, if one is.
    public var caveat: String? {
        guard let n = peakConcurrency else { return "the fitted curve has no peak (κ = 0): throughput approaches λ/σ and X_max is not defined" }
        guard peakWithinRange else {
            return "the fitted peak N* = \(Self.format(n)) lies beyond \(Self.format(Self.extrapolationLimit))× the largest measured concurrency (\(Self.format(largestMeasured))): not extrapolated; measure further"
        }
        return nil
    }

    /// The predicted throughput at `n`, or nil past the extrapolation limit.
    public func predict(_ n: Double) -> Double? {
        n <= largestMeasured * Self.extrapolationLimit && n > 0 ? model.throughput(at: n) : nil
    }

    public enum FitError: Error, CustomStringConvertible, Equatable {
        case tooFewPoints(Int)
        case invalidPoint(String)
        case noConvergence

        public var description: String {
            switch self {
            case .tooFewPoints(let n): "the Universal Scalability Law has three coefficients: it needs at least 4 points of distinct concurrency, found \(n)"
            case .invalidPoint(let why): why
            case .noConvergence: "the fit did not converge"
            }
        }
    }

    /// Fits λ, σ, κ to `points` by Levenberg–Marquardt, with σ and κ in [0, 1] and λ ≥ 0.
    public static func fit(_ points: [ConcurrencyPoint]) throws -> USLFit {
        for p in points {
            guard p.concurrency > 0, p.concurrency.isFinite else { throw FitError.invalidPoint("concurrency must be above 0, found \(p.concurrency)") }
            guard p.throughput >= 0, p.throughput.isFinite else { throw FitError.invalidPoint("throughput must be 0 or more, found \(p.throughput)") }
        }
        let distinct = Set(points.map(\.concurrency)).count
        guard distinct >= 4 else { throw FitError.tooFewPoints(distinct) }
        let x = points.map(\.concurrency), y = points.map(\.throughput)
        // λ starts from the best throughput per caller at the smallest concurrencies.
        let lambda0 = zip(x, y).sorted { $0.0 < $1.0 }.prefix(2).map { $0.1 / $0.0 }.max() ?? 1
        let solver = LevenbergMarquardt(bounds: [0...Double.infinity, 0...1, 0...1])
        // A few starts: the cost surface is flat along κ for curves that barely bend.
        var best: LevenbergMarquardt.Solution?
        for (sigma, kappa) in [(0.05, 1e-4), (0.01, 1e-6), (0.2, 1e-2), (0.5, 0.0)] {
            let s = solver.minimise(x: x, y: y, start: [lambda0, sigma, kappa], model: USLModel.valueAndGradient)
            if best == nil || s.sumOfSquares < best!.sumOfSquares { best = s }
        }
        guard let solution = best, solution.sumOfSquares.isFinite else { throw FitError.noConvergence }
        let model = USLModel(lambda: solution.parameters[0], sigma: solution.parameters[1], kappa: solution.parameters[2])
        let residuals = zip(x, y).map { $1 - model.throughput(at: $0) }
        let mean = y.reduce(0, +) / Double(y.count)
        let total = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let squares = residuals.reduce(0) { $0 + $1 * $1 }
        return USLFit(model: model, points: points, residuals: residuals, rSquared: total > 0 ? 1 - squares / total : 1,
                      residualStandardError: points.count > 3 ? (squares / Double(points.count - 3)).squareRoot() : 0,
                      iterations: solution.iterations)
    }

    /// The fitted curve from concurrency 1 (or the smallest measured) up to the extrapolation
    /// limit, `count` points.
    public func curve(count: Int = 50) -> [ConcurrencyPoint] {
        let low = min(1, points.map(\.concurrency).min() ?? 1), high = largestMeasured * Self.extrapolationLimit
        return (0..<count).map { i in
            let n = low + (high - low) * Double(i) / Double(max(1, count - 1))
            return ConcurrencyPoint(concurrency: n, throughput: model.throughput(at: n))
        }
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
        return String(format: abs(v) >= 100 ? "%.1f" : "%.4g", v)
    }
}
