/// A run's figures window by window.
public struct TimeSeries: Codable, Sendable, Hashable {
    /// Width of each window, seconds.
    public var intervalSeconds: Double
    public var windows: [TimeWindow]

    public init(intervalSeconds: Double = 1, windows: [TimeWindow] = []) {
        self.intervalSeconds = intervalSeconds
        self.windows = windows
    }
}

/// One window of a time series.
public struct TimeWindow: Codable, Sendable, Hashable {
    /// Window start, seconds from the run's start.
    public var start: Double
    public var sent = 0
    public var answered = 0
    public var success = 0
    public var errors = 0
    /// Local replies `over_limit` (rate limited).
    public var rateLimited = 0
    /// Latency percentiles of the calls answered in the window, seconds.
    public var p50 = 0.0
    public var p99 = 0.0
    /// Synthetic hosts up at the window's end.
    public var hostsUp = 0
    /// Hosts out by outlier ejection at the window's end, over every proxy instance (nil where
    /// the driver does not know).
    public var hostsEjected: Int?

    public init(start: Double) { self.start = start }
}
