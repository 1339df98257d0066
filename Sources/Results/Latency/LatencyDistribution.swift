import Histogram

/// A distribution of latencies in nanoseconds: an HdrHistogram (3 significant digits, up to an
/// hour) that merges exactly with others of its kind — across workers, processes and
/// replications — and encodes as its non-empty buckets, so a decoded distribution answers every
/// percentile as the original did.
public struct LatencyDistribution: Sendable {
    /// The highest latency tracked: an hour.
    public static let highestTrackable: UInt64 = 3_600_000_000_000

    public private(set) var histogram: Histogram<UInt64>

    /// An empty distribution.
    public init() {
        histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: Self.highestTrackable, numberOfSignificantValueDigits: .three)
    }

    /// A distribution holding what `histogram` recorded (which must track nanoseconds up to
    /// ``highestTrackable`` or less).
    public init(_ histogram: Histogram<UInt64>) {
        self.init()
        if histogram.lowestDiscernibleValue == 1, histogram.highestTrackableValue == Self.highestTrackable,
            histogram.numberOfSignificantValueDigits == .three
        {
            self.histogram = histogram
        } else {
            merge(histogram)
        }
    }

    public var count: UInt64 { histogram.totalCount }

    public mutating func record(nanoseconds: UInt64) {
        histogram.record(min(nanoseconds, Self.highestTrackable))
    }

    /// Adds every sample of `other`: counts, the exact minimum and the exact maximum.
    public mutating func merge(_ other: LatencyDistribution) { histogram.add(other.histogram) }

    /// Adds every sample of a histogram of another layout, at its buckets' values.
    public mutating func merge(_ other: Histogram<UInt64>) {
        if other.lowestDiscernibleValue == histogram.lowestDiscernibleValue, other.numberOfSignificantValueDigits == histogram.numberOfSignificantValueDigits,
            other.maxRecorded <= Self.highestTrackable
        {
            histogram.add(other)
            return
        }
        for bucket in other.recordedValues() { histogram.record(min(bucket.value, Self.highestTrackable), count: bucket.count) }
    }

    /// The exact lowest and highest latencies recorded (0 when empty).
    public var minimum: UInt64 { count == 0 ? 0 : histogram.min }
    public var maximum: UInt64 { count == 0 ? 0 : histogram.maxRecorded }

    /// The latency at `percentile` (0–100), in nanoseconds.
    public func nanoseconds(atPercentile percentile: Double) -> UInt64 { histogram.valueAtPercentile(percentile) }

    /// The percentile distribution in HdrHistogram's `.hgrm` text form, in milliseconds (as
    /// wrk2 writes it), for HdrHistogram's plotter and other tools that read it.
    public var hgrm: String {
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1_000_000)
        return text
    }

    /// The non-empty buckets, lowest first: each bucket's highest equivalent value and its count.
    public var buckets: [Bucket] { histogram.recordedValues().map { Bucket(value: $0.value, count: $0.count) } }

    /// One bucket of the histogram.
    public struct Bucket: Codable, Sendable, Hashable {
        /// The highest latency the bucket holds, nanoseconds.
        public var value: UInt64
        public var count: UInt64
    }
}

extension LatencyDistribution: Codable {
    private enum CodingKeys: String, CodingKey {
        case unit, significantDigits, highestTrackable, count, minimum, maximum, buckets
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("ns", forKey: .unit)
        try c.encode(3, forKey: .significantDigits)
        try c.encode(Self.highestTrackable, forKey: .highestTrackable)
        try c.encode(count, forKey: .count)
        try c.encode(minimum, forKey: .minimum)
        try c.encode(maximum, forKey: .maximum)
        try c.encode(buckets, forKey: .buckets)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard try c.decode(String.self, forKey: .unit) == "ns", try c.decode(Int.self, forKey: .significantDigits) == 3 else {
            throw DecodingError.dataCorruptedError(forKey: .unit, in: c, debugDescription: "a latency distribution must be in ns with 3 significant digits")
        }
        self.init()
        let minimum = try c.decode(UInt64.self, forKey: .minimum), maximum = try c.decode(UInt64.self, forKey: .maximum)
        for bucket in try c.decode([Bucket].self, forKey: .buckets) {
            // The exact extremes go back into their buckets as themselves, so that the decoded
            // distribution's minimum, maximum and 100th percentile are the original's.
            var exact: [UInt64] = []
            if histogram.valuesAreEquivalent(minimum, bucket.value) { exact.append(minimum) }
            if histogram.valuesAreEquivalent(maximum, bucket.value), exact.isEmpty || bucket.count >= 2 { exact.append(maximum) }
            guard bucket.count >= UInt64(exact.count) else {
                throw DecodingError.dataCorruptedError(forKey: .buckets, in: c, debugDescription: "a bucket holds fewer samples than its extremes")
            }
            // The others at the bucket's value, but never above the maximum (which may share the
            // bucket and lie below its top).
            if bucket.count > UInt64(exact.count) { histogram.record(min(bucket.value, maximum), count: bucket.count - UInt64(exact.count)) }
            for v in exact { histogram.record(v) }
        }
        guard count == (try c.decode(UInt64.self, forKey: .count)), self.minimum == minimum, self.maximum == maximum else {
            throw DecodingError.dataCorruptedError(forKey: .count, in: c, debugDescription: "the buckets do not hold the count, minimum and maximum stated")
        }
    }
}

extension LatencyDistribution: Equatable {
    public static func == (a: LatencyDistribution, b: LatencyDistribution) -> Bool {
        a.count == b.count && a.minimum == b.minimum && a.maximum == b.maximum && a.buckets == b.buckets
    }
}

/// One latency figure of a run: a distribution, how it was measured, and how many samples back it.
public struct LatencyFigure: Codable, Sendable, Equatable {
    /// What it is a latency of (`latency`, `success latency`, `latency of method get`).
    public var name: String
    public var measurement: LatencyMeasurement
    /// Samples behind the figure (the distribution's count, stated so that no reader must add).
    public var samples: UInt64
    public var distribution: LatencyDistribution
    /// Percentiles and mean, for readers of the file; derived from the distribution.
    public var summary: LatencySummary

    public init(name: String, measurement: LatencyMeasurement, distribution: LatencyDistribution) {
        self.name = name
        self.measurement = measurement
        samples = distribution.count
        self.distribution = distribution
        summary = LatencySummary(distribution)
    }
}

/// How a latency was measured: on which clock, from when to when.
public struct LatencyMeasurement: Codable, Sendable, Hashable {
    public enum Clock: String, Codable, Sendable {
        /// The simulator's virtual time: exact, no measuring cost.
        case virtual
        /// The machine's monotonic clock.
        case monotonic
    }

    public var clock: Clock
    /// Where the interval starts (`the call's intended send time`).
    public var from: String
    /// Where it ends (`its answer reaching the client`).
    public var to: String
    /// Anything else a reader must know (what is left out, what it includes).
    public var note: String

    public init(clock: Clock, from: String, to: String, note: String = "") {
        self.clock = clock
        self.from = from
        self.to = to
        self.note = note
    }

    /// Client-side latency in a simulation: from the intended send (the arrival process's
    /// time, so a stall cannot hide) to the answer reaching the client.
    public static let simulatedCall = LatencyMeasurement(clock: .virtual, from: "the call's intended send time", to: "its answer reaching the client",
                                                         note: "calls sent after the warm-up; local replies included")
}

/// Percentiles of a distribution, nanoseconds.
public struct LatencySummary: Codable, Sendable, Hashable {
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    public var mean: Double

    public init(_ d: LatencyDistribution) {
        p50 = d.nanoseconds(atPercentile: 50)
        p90 = d.nanoseconds(atPercentile: 90)
        p99 = d.nanoseconds(atPercentile: 99)
        p999 = d.nanoseconds(atPercentile: 99.9)
        max = d.maximum
        mean = d.count == 0 ? 0 : d.histogram.mean
    }
}
