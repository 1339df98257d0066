import MetaProtocol

/// A percentile bootstrap interval for the median of a sample, drawn from a seeded source so
/// that the same rounds always give the same interval.
public struct BootstrapInterval: Sendable, Hashable {
    /// The sample's own median.
    public var estimate: Double
    public var lower: Double
    public var upper: Double

    /// - Parameters:
    ///   - values: the sample (the gate gives it one ratio per ABBA pair of rounds).
    ///   - confidence: e.g. 0.95 for the 2.5th and 97.5th percentiles of the resampled medians.
    public init(medianOf values: [Double], confidence: Double = 0.95, resamples: Int = 4000, seed: UInt64 = 1) {
        precondition(!values.isEmpty, "a bootstrap needs a sample")
        estimate = Self.median(values)
        var random = SeededRandom(seed: seed, stream: "gate bootstrap")
        var medians: [Double] = []
        medians.reserveCapacity(resamples)
        var draw = [Double](repeating: 0, count: values.count)
        for _ in 0..<resamples {
            for i in draw.indices { draw[i] = values[random.nextIndex(values.count)] }
            medians.append(Self.median(draw))
        }
        medians.sort()
        let tail = (1 - confidence) / 2
        lower = medians[min(medians.count - 1, Int((tail * Double(resamples)).rounded(.down)))]
        upper = medians[min(medians.count - 1, Int(((1 - tail) * Double(resamples)).rounded(.down)))]
    }

    /// The median (the mean of the middle two for an even count).
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
