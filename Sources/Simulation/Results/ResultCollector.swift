import Histogram
import MetaProtocol
import Results

/// Streams a run's figures as they happen: histograms and counters of fixed size, so memory
/// does not grow with the number of calls simulated.
struct ResultCollector {
    var calls = CallCounts()
    var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
    var successLatency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
    /// By method name, and the method of each template.
    private var methodNames: [String] = []
    private var methodHistograms: [Histogram<UInt64>] = []
    private let templateMethod: [Int]
    let interval: Int64
    var windows: [TimeWindow] = []
    private var current = TimeWindow(start: 0)
    private var windowLatency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .two)

    init(methods: [String], interval: Int64) {
        var index: [Int] = []
        for m in methods {
            if let i = methodNames.firstIndex(of: m) {
                index.append(i)
            } else {
                methodNames.append(m)
                methodHistograms.append(Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three))
                index.append(methodNames.count - 1)
            }
        }
        templateMethod = index
        self.interval = interval
    }

    var latencyByMethod: [MethodLatency] {
        zip(methodNames, methodHistograms).filter { $0.1.totalCount > 0 }.map { MethodLatency(method: $0.0, histogram: $0.1) }
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
        latency.record(value)
        windowLatency.record(value)
        if template >= 0, Int(template) < templateMethod.count { methodHistograms[templateMethod[Int(template)]].record(value) }
        if let kind = localReply {
            calls.addLocalReply(kind)
            current.errors += 1
            if kind == .overLimit { current.rateLimited += 1 }
            return
        }
        switch status?.category ?? .success {
        case .success:
            calls.success += 1
            current.success += 1
            successLatency.record(value)
        case .applicationError:
            calls.applicationError += 1
            current.errors += 1
        case .serverError:
            calls.serverError += 1
            current.errors += 1
        case .unavailable:
            calls.unavailable += 1
            current.errors += 1
        }
    }

    /// Whether the open window has seen anything.
    var windowHasActivity: Bool { current.sent > 0 || current.answered > 0 }

    mutating func closeWindow(at now: Int64, hostsUp: Int) {
        current.p50 = Double(windowLatency.valueAtPercentile(50)) / 1e9
        current.p99 = Double(windowLatency.valueAtPercentile(99)) / 1e9
        current.hostsUp = hostsUp
        windows.append(current)
        current = TimeWindow(start: Double(now) / 1e9)
        windowLatency.reset()
    }
}
