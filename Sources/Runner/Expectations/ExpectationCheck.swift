import Foundation
import MetaProtocol
import Results
import TrafficModel
import Workload

/// Checks a workload's expectations against what its parts measured. A metric without a driver
/// is checked on each driver that ran; a figure a result lacks fails the expectation and says
/// which figure, rather than passing quietly.
public struct ExpectationCheck {
    public let script: WorkloadScript
    /// The simulation's result and the real run's, when they ran.
    public let simulated: RunResult?
    public let real: RunResult?
    /// The overhead round's result, when it ran.
    public let overhead: RunResult?

    public init(script: WorkloadScript, simulated: RunResult?, real: RunResult?, overhead: RunResult?) {
        self.script = script
        self.simulated = simulated
        self.real = real
        self.overhead = overhead
    }

    /// Every expectation's verdict, in the workload's order (one per driver checked).
    public func outcomes() -> [ExpectationOutcome] {
        script.expectations.flatMap(outcomes(of:))
    }

    func outcomes(of e: Expectation) -> [ExpectationOutcome] {
        let ran: [Expectation.Driver] = [simulated == nil ? nil : .simulated, real == nil ? nil : .real].compactMap { $0 }
        switch e.check {
        case .invariantsHold(let driver):
            return (driver.map { [$0] } ?? ran).map { d in
                guard let result = self.result(d) else { return missing(e, subject: d.rawValue, "the \(d.rawValue) run did not run") }
                let broken = result.invariants.filter { !$0.holds }
                let text = broken.isEmpty ? "held (\(result.invariants.count) checked)" : broken.flatMap(\.violations).prefix(3).joined(separator: "; ")
                return ExpectationOutcome(expectation: e.text, subject: d.rawValue, measured: Double(broken.count), measuredText: text,
                                          expectedText: "all hold", passed: broken.isEmpty && !result.invariants.isEmpty, line: e.line)
            }
        case .value(let operand, let bound):
            // An operand naming no driver and reading no overhead figure is checked on each driver.
            let drivers: [Expectation.Driver?] = operand.drivers.isEmpty && !readsOverheadOnly(operand) ? ran.map { $0 } : [nil]
            return drivers.map { d in
                let subject = d?.rawValue ?? (operand.drivers.isEmpty ? "overhead" : Self.drivers(in: operand).joined(separator: " / "))
                do {
                    let v = try value(operand, defaultDriver: d)
                    let isDuration = isDuration(operand)
                    let text = isDuration ? Expectation.duration(v) : Self.format(v)
                    return ExpectationOutcome(expectation: e.text, subject: subject, measured: v, measuredText: text,
                                              expectedText: bound.describe(duration: isDuration), passed: bound.holds(v), line: e.line)
                } catch {
                    return missing(e, subject: subject, "\(error)")
                }
            }
        }
    }

    /// The drivers an operand names, in the order written.
    static func drivers(in o: Expectation.Operand) -> [String] {
        switch o {
        case .metric(.added, _): ["overhead"]
        case .metric(_, let d): [d?.rawValue ?? "each"]
        case .ratio(let a, let b): drivers(in: a) + drivers(in: b)
        }
    }

    private func missing(_ e: Expectation, subject: String, _ why: String) -> ExpectationOutcome {
        ExpectationOutcome(expectation: e.text, subject: subject, measured: nil, measuredText: "—", expectedText: "", passed: false, problem: why, line: e.line)
    }

    private func readsOverheadOnly(_ o: Expectation.Operand) -> Bool {
        switch o {
        case .metric(.added, _): true
        case .metric: false
        case .ratio(let a, let b): readsOverheadOnly(a) && readsOverheadOnly(b)
        }
    }

    private func isDuration(_ o: Expectation.Operand) -> Bool {
        switch o {
        case .metric(let m, _): m.isDuration
        case .ratio: false
        }
    }

    func result(_ d: Expectation.Driver) -> RunResult? { d == .simulated ? simulated : real }

    /// Why a value could not be read.
    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    func value(_ o: Expectation.Operand, defaultDriver: Expectation.Driver?) throws(Missing) -> Double {
        switch o {
        case .ratio(let a, let b):
            let x = try value(a, defaultDriver: defaultDriver), y = try value(b, defaultDriver: defaultDriver)
            guard y != 0 else { throw Missing(description: "\(b) is 0: the ratio has no value") }
            return x / y
        case .metric(.added(let size, let p, let haproxy), _):
            guard let overhead else { throw Missing(description: "no overhead round ran") }
            let path = haproxy ? "HAProxy" : "proxy"
            let name = "added by \(path) at p\(p), \(ByteSize.describe(size))"
            guard let f = overhead.figures.first(where: { $0.name == name }) else { throw Missing(description: "the overhead round has no figure \"\(name)\"") }
            return f.value / 1e6  // µs → s
        case .metric(let m, let d):
            let driver = d ?? defaultDriver ?? (simulated != nil ? .simulated : .real)
            guard let result = result(driver) else { throw Missing(description: "the \(driver.rawValue) run did not run") }
            return try Self.metric(m, of: result, script: script)
        }
    }

    /// The value of metric `m` in `result`.
    static func metric(_ m: Expectation.Metric, of result: RunResult, script: WorkloadScript) throws(Missing) -> Double {
        let proxy = proxyCounters(result)
        func coverage(_ prefix: String) -> Int { result.coverage.filter { $0.name.hasPrefix(prefix) }.reduce(0) { $0 + $1.value } }
        switch m {
        case .percentile(let p, let figure):
            guard let f = result.latency(figure) else { throw Missing(description: "no latency figure \"\(figure)\" (has: \(result.latencies.map(\.name).joined(separator: ", ")))") }
            guard f.samples > 0 else { throw Missing(description: "the latency figure \"\(figure)\" has no samples") }
            return Double(f.distribution.nanoseconds(atPercentile: p)) / 1e9
        case .meanLatency(let figure):
            guard let f = result.latency(figure), f.samples > 0 else { throw Missing(description: "no samples in latency figure \"\(figure)\"") }
            return f.summary.mean / 1e9
        case .share(let target):
            let total = result.hosts.reduce(0) { $0 + $1.arrivals }
            guard total > 0 else { throw Missing(description: "no host took a call") }
            let chosen = result.hosts.filter { h in
                switch target {
                case .host(let a): h.address == a
                case .cluster(let c): script.cluster(of: h.address) == c
                case .subset(let s): script.subsets(of: h.address).contains { $0.subset == s }
                }
            }
            if case .subset(let s) = target, !script.proxy.configuration.clusters.contains(where: { $0.subsets.contains { $0.name == s } }) {
                throw Missing(description: "no cluster has a subset \"\(s)\"")
            }
            return Double(chosen.reduce(0) { $0 + $1.arrivals }) / Double(total)
        case .counter(let name):
            guard let v = proxy[name] else { throw Missing(description: "no proxy counter \"\(name)\"") }
            return Double(v)
        case .coverage(let name):
            if name.hasSuffix("*") { return Double(coverage(String(name.dropLast()))) }
            return Double(result.coverage.first { $0.name == name }?.value ?? 0)
        case .added:
            throw Missing(description: "added(…) reads the overhead round")
        case .count(let name):
            let c = result.calls
            switch name {
            case "calls": return Double(c.sent)
            case "answered": return Double(c.answered)
            case "success": return Double(c.success)
            case "errors": return Double(c.answered - c.success)
            case "errorRate": return c.answered == 0 ? 0 : Double(c.answered - c.success) / Double(c.answered)
            case "rateLimited": return Double(proxy["local_reply.over_limit"] ?? 0)
            case "ejections": return Double(coverage("ejection "))
            case "breakerOverflows": return Double(proxy["local_reply.overflow"] ?? 0)
            case "retries": return Double(proxy["retries"] ?? 0)
            case "timeouts": return Double(proxy["local_reply.timeout"] ?? 0)
            case "mirrored": return Double(proxy["mirrors_sent"] ?? 0)
            case "throughput":
                guard result.window.measuredSeconds > 0 else { throw Missing(description: "the measured window is empty") }
                return Double(c.answered) / result.window.measuredSeconds
            case "hostsUp":
                guard let last = result.timeSeries.windows.last else { throw Missing(description: "the run has no time series") }
                return Double(last.hostsUp)
            case "scaleEvents":
                guard let s = result.simulation else { throw Missing(description: "scale events are the simulator's") }
                return Double(s.scaleEvents.count)
            default: throw Missing(description: "unknown count \(name)")
            }
        }
    }

    /// The proxy's counters, all instances or listeners added: the simulator's `proxy` group,
    /// or the core groups of `mplab proxy`'s listeners.
    static func proxyCounters(_ result: RunResult) -> CounterGroup {
        if let g = result.counters("proxy") { return g }
        var sums: [String: Int] = [:]
        var order: [String] = []
        for group in result.counters where group.name.hasPrefix("proxy ") && !group.name.hasSuffix(" runtime") && !group.name.hasPrefix("proxy instance ") {
            for c in group.counters {
                if sums[c.name] == nil { order.append(c.name) }
                sums[c.name, default: 0] += c.value
            }
        }
        return CounterGroup(name: "proxy", counters: order.map { Counter(name: $0, value: sums[$0]!) })
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return String(format: abs(v) < 10 ? "%.3f" : "%.1f", v)
    }
}
