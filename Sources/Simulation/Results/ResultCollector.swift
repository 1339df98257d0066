import Histogram
import MetaProtocol
import Results

/// Streams a run's figures as they happen: histograms and counters of fixed size, so memory
/// does not grow with the number of calls simulated.
///
/// Each answer is recorded once, in its method's histogram of successes or of the rest (and in
/// its time-series window); the overall, successful and per-method latencies are merges of
/// those — exact, as HdrHistogram merges are — worked out once at the end.
struct ResultCollector {
    var calls = CallCounts()
    /// By method name, and the method of each template.
    private var methodNames: [String] = []
    private var methodSuccesses: [Histogram<UInt64>] = []
    private var methodOthers: [Histogram<UInt64>] = []
    private let templateMethod: [Int]
    let interval: Int64
    var windows: [TimeWindow] = []
    private var current = TimeWindow(start: 0)
    private var windowLatency = ResultCollector.windowHistogram()

    /// A histogram of the layout results use (``LatencyDistribution``'s).
    static func histogram() -> Histogram<UInt64> { LatencyDistribution().histogram }

    init(methods: [String], interval: Int64) {
        var index: [Int] = []
        for m in methods {
            if let i = methodNames.firstIndex(of: m) {
                index.append(i)
            } else {
                methodNames.append(m)
                methodSuccesses.append(Self.histogram())
                methodOthers.append(Self.histogram())
                index.append(methodNames.count - 1)
            }
        }
        templateMethod = index
        self.interval = interval
    }

    /// Latency of every answered call.
    var latency: Histogram<UInt64> {
        var all = Self.histogram()
        for h in methodSuccesses + methodOthers { all.add(h) }
        return all
    }

    /// Latency of successful calls.
    var successLatency: Histogram<UInt64> {
        var all = Self.histogram()
        for h in methodSuccesses { all.add(h) }
        return all
    }

    /// Latency of each method's answered calls, methods in first-seen order.
    var latencyByMethod: [MethodLatency] {
        methodNames.indices.compactMap { i in
            guard methodSuccesses[i].totalCount + methodOthers[i].totalCount > 0 else { return nil }
            var h = methodSuccesses[i]
            h.add(methodOthers[i])
            return MethodLatency(method: methodNames[i], histogram: h)
        }
    }

    mutating func sent(oneway: Bool, at now: Int64) {
        calls.sent += 1
        if oneway { calls.oneway += 1 }
        current.sent += 1
    }

    mutating func answered(latency ns: Int64, template: Int32, status: ResponseStatus?, localReply: LocalReplyError.Kind?, at now: Int64) {
        let value = UInt64(max(0, ns))
        calls.answered += 1
        current.answered += 1
        windowLatency.record(value)
        let method = templateMethod[Int(template)]
        if let kind = localReply {
            methodOthers[method].record(value)
            calls.addLocalReply(kind)
            current.errors += 1
            if kind == .overLimit { current.rateLimited += 1 }
            return
        }
        let category = status?.category ?? .success
        calls.addAnswer(category)
        if category == .success {
            methodSuccesses[method].record(value)
            current.success += 1
        } else {
            methodOthers[method].record(value)
            current.errors += 1
        }
    }

    /// Whether the open window has seen anything.
    var windowHasActivity: Bool { current.sent > 0 || current.answered > 0 }

    mutating func closeWindow(at now: Int64, hostsUp: Int, hostsEjected: Int) {
        let (p50, p99) = Self.medianAndP99(windowLatency)
        current.p50 = Double(p50) / 1e9
        current.p99 = Double(p99) / 1e9
        current.hostsUp = hostsUp
        current.hostsEjected = hostsEjected
        windows.append(current)
        current = TimeWindow(start: Double(now) / 1e9)
        // A fresh histogram rather than `reset()`: the package's reset and percentile lookup are
        // not inlinable, and run unspecialized over every bucket at each window's end.
        windowLatency = Self.windowHistogram()
    }

    static func windowHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: LatencyDistribution.highestTrackable, numberOfSignificantValueDigits: .two)
    }

    /// The 50th and 99th percentiles as `valueAtPercentile` gives them, in one pass over the
    /// recorded buckets (whose iterator is inlinable, so it runs specialized).
    static func medianAndP99(_ h: Histogram<UInt64>) -> (UInt64, UInt64) {
        let total = h.totalCount
        guard total > 0 else { return (0, 0) }
        func rank(_ p: Double) -> UInt64 { max(1, UInt64(((p.nextDown * Double(total)) / 100).rounded(.up))) }
        let r50 = rank(50), r99 = rank(99)
        var seen: UInt64 = 0
        var p50: UInt64?
        for bucket in h.recordedValues() {
            seen += bucket.count
            if p50 == nil, seen >= r50 { p50 = min(bucket.value, h.maxRecorded) }
            if seen >= r99 { return (p50!, min(bucket.value, h.maxRecorded)) }
        }
        return (p50 ?? h.maxRecorded, h.maxRecorded)
    }
}
