import Foundation

/// Nonlinear least squares by Levenberg–Marquardt, for models of a few parameters.
///
/// Written here rather than taken from a package: none of the packages this build may use
/// (swift-numerics among them) fits nonlinear models, and the Universal Scalability Law needs
/// only three parameters, so the normal equations are solved directly. The damping follows
/// Marquardt's scaling (the diagonal of JᵀJ), which makes the step independent of the
/// parameters' units — λ is in calls per second, κ in millionths.
public struct LevenbergMarquardt: Sendable {
    /// Each parameter's allowed range; a step is clamped into it (R's `nls(algorithm: "port")`
    /// bounds the USL's coefficients the same way).
    public var bounds: [ClosedRange<Double>]
    public var maxIterations = 500
    /// Stop when a step changes the sum of squares by less than this fraction of it.
    public var tolerance = 1e-15

    public init(bounds: [ClosedRange<Double>]) { self.bounds = bounds }

    /// What the fit ended with.
    public struct Solution: Sendable {
        public var parameters: [Double]
        public var sumOfSquares: Double
        public var iterations: Int
        public var converged: Bool
    }

    /// Minimises Σ (yᵢ − f(xᵢ; p))² from `start`. `model` gives f and its gradient in p.
    public func minimise(x: [Double], y: [Double], start: [Double],
                         model: (Double, [Double]) -> (value: Double, gradient: [Double])) -> Solution {
        let n = start.count
        var p = clamp(start)
        var cost = sumOfSquares(x, y, p, model)
        var damping = 1e-3
        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            // Normal equations JᵀJ δ = Jᵀr at p.
            var jtj = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            var jtr = [Double](repeating: 0, count: n)
            for (xi, yi) in zip(x, y) {
                let (f, g) = model(xi, p)
                let r = yi - f
                for a in 0..<n {
                    jtr[a] += g[a] * r
                    for b in 0..<n { jtj[a][b] += g[a] * g[b] }
                }
            }
            // A parameter held at a bound by the gradient stays there: its row and column leave
            // the system, so the others still move (κ = 0 for a curve with no peak).
            for a in 0..<n where (p[a] <= bounds[a].lowerBound && jtr[a] < 0) || (p[a] >= bounds[a].upperBound && jtr[a] > 0) {
                for b in 0..<n {
                    jtj[a][b] = 0
                    jtj[b][a] = 0
                }
                jtj[a][a] = 1
                jtr[a] = 0
            }
            var improved = false
            while damping < 1e16 {
                var m = jtj
                for a in 0..<n { m[a][a] += damping * max(jtj[a][a], 1e-300) }
                guard let step = Self.solve(m, jtr) else {
                    damping *= 10
                    continue
                }
                let candidate = clamp(zip(p, step).map { $0 + $1 })
                let candidateCost = sumOfSquares(x, y, candidate, model)
                if candidateCost <= cost {
                    let change = cost - candidateCost
                    p = candidate
                    let previous = cost
                    cost = candidateCost
                    damping = max(damping / 10, 1e-15)
                    improved = true
                    if change <= tolerance * max(previous, 1e-300) { converged = true }
                    break
                }
                damping *= 10
            }
            if !improved { converged = true }  // no step lowers the cost: a minimum within the bounds
            if converged { break }
        }
        return Solution(parameters: p, sumOfSquares: cost, iterations: iterations, converged: converged)
    }

    func clamp(_ p: [Double]) -> [Double] {
        zip(p, bounds).map { min(max($0, $1.lowerBound), $1.upperBound) }
    }

    func sumOfSquares(_ x: [Double], _ y: [Double], _ p: [Double], _ model: (Double, [Double]) -> (value: Double, gradient: [Double])) -> Double {
        zip(x, y).reduce(0) { s, point in
            let r = point.1 - model(point.0, p).value
            return s + r * r
        }
    }

    /// Solves `m · v = b` by Gaussian elimination with partial pivoting; nil when singular.
    static func solve(_ m: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var a = m, v = b
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            guard abs(a[pivot][col]) > 1e-300, a[pivot][col].isFinite else { return nil }
            a.swapAt(col, pivot)
            v.swapAt(col, pivot)
            for row in (col + 1)..<n {
                let factor = a[row][col] / a[col][col]
                for k in col..<n { a[row][k] -= factor * a[col][k] }
                v[row] -= factor * v[col]
            }
        }
        var out = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = v[row]
            for k in (row + 1)..<n { s -= a[row][k] * out[k] }
            out[row] = s / a[row][row]
        }
        return out.allSatisfy(\.isFinite) ? out : nil
    }
}
