import MetaProtocol
import TrafficModel

/// The same workload under many seeds, each run with its own random fault timeline drawn from
/// its seed (FoundationDB-style "sometimes" coverage): which breakers, ejections, limits and
/// timeouts fired at least once, and whether any invariant broke under any of the timelines.
///
/// Run `i` uses seed `base.seed + i` and the base's own faults plus the drawn ones, so a run
/// the report flags can be replayed alone with ``configuration(run:)``.
public struct FaultCampaign: Sendable {
    /// The faults a campaign draws from.
    public enum Kind: String, Sendable, CaseIterable {
        /// A host crashes and restarts.
        case crash
        /// A host serves 2–20× slower for a while.
        case slowDown
        /// A host answers errors with probability 0.2–1 for a while.
        case errorBurst
        /// A host's traffic is lost for a while.
        case partition
        /// Every proxy-to-host link gains 10–200 ms for a while.
        case addedLatency
    }

    public var base: SimulationConfiguration
    public var runs: Int
    public var faultsPerRun: ClosedRange<Int>
    public var kinds: [Kind]

    public init(base: SimulationConfiguration, runs: Int, faultsPerRun: ClosedRange<Int> = 1...4, kinds: [Kind] = Kind.allCases) {
        precondition(runs > 0 && faultsPerRun.lowerBound >= 0 && !kinds.isEmpty)
        self.base = base
        self.runs = runs
        self.faultsPerRun = faultsPerRun
        self.kinds = kinds
    }

    /// The configuration of run `i`: its seed and its fault timeline.
    public func configuration(run i: Int) -> SimulationConfiguration {
        var c = base
        c.seed = base.seed &+ UInt64(i)
        c.faults = base.faults + drawFaults(seed: c.seed)
        return c
    }

    /// Draws a timeline: each fault starts in the first 80 % of the run and is undone after 5–30 %
    /// of it. Hosts are those the proxy configuration names.
    func drawFaults(seed: UInt64) -> [FaultEvent] {
        var random = SeededRandom(seed: seed, stream: "campaign")
        let hosts = base.proxy.clusters.flatMap { $0.hosts.map(\.address) }
        guard !hosts.isEmpty else { return [] }
        let span = base.duration.nanoseconds
        let count = faultsPerRun.lowerBound + Int(random.next(below: UInt64(faultsPerRun.count)))
        var events: [FaultEvent] = []
        for _ in 0..<count {
            let kind = kinds[random.nextIndex(kinds.count)]
            let host = hosts[random.nextIndex(hosts.count)]
            let start = Int64(Double(span) * 0.8 * random.nextUnit())
            let end = start + Int64(Double(span) * (0.05 + 0.25 * random.nextUnit()))
            let (on, off): (Fault, Fault)
            switch kind {
            case .crash: (on, off) = (.crash(host: host), .restart(host: host))
            case .slowDown: (on, off) = (.slowDown(host: host, factor: 2 + 18 * random.nextUnit()), .slowDown(host: host, factor: 1))
            case .errorBurst: (on, off) = (.errorBurst(host: host, probability: 0.2 + 0.8 * random.nextUnit()), .errorBurst(host: host, probability: nil))
            case .partition: (on, off) = (.partition(host: host), .heal(host: host))
            case .addedLatency: (on, off) = (.addedLatency(seconds: 0.01 + 0.19 * random.nextUnit()), .addedLatency(seconds: 0))
            }
            events.append(FaultEvent(at: .nanoseconds(start), on))
            events.append(FaultEvent(at: .nanoseconds(end), off))
        }
        return events
    }

    /// Runs the campaign, in parallel on all cores when `parallel` (the report is the same
    /// either way).
    public func run(parallel: Bool = true) throws -> CampaignReport {
        let results = try Simulation.runAll((0..<runs).map(configuration(run:)), parallel: parallel)
        return CampaignReport(results, expected: CampaignReport.mechanisms(of: base))
    }
}

/// What a ``FaultCampaign`` saw.
public struct CampaignReport: Sendable {
    /// A protection, limit or failure path, and how often it fired.
    public struct Mechanism: Sendable, Hashable {
        public var name: String
        /// Runs in which it fired at least once.
        public var runs: Int
        /// Times it fired over all runs.
        public var total: Int
    }

    /// An invariant that broke in one run.
    public struct Violation: Sendable, Hashable {
        public var run: Int
        public var seed: UInt64
        public var message: String
    }

    public var runs: Int
    /// Every mechanism the configuration can exercise, and any other that fired, by name.
    public var mechanisms: [Mechanism]
    public var violations: [Violation]
    public var traceHashes: [UInt64]

    init(_ results: [SimulationResult], expected: [String]) {
        runs = results.count
        var fired: [String: (runs: Int, total: Int)] = [:]
        for name in expected { fired[name] = (0, 0) }
        violations = []
        for (i, r) in results.enumerated() {
            for (name, n) in r.coverage where n > 0 {
                let old = fired[name] ?? (0, 0)
                fired[name] = (old.runs + 1, old.total + n)
            }
            violations += r.violations.map { Violation(run: i, seed: r.seed, message: $0) }
        }
        mechanisms = fired.keys.sorted().map { Mechanism(name: $0, runs: fired[$0]!.runs, total: fired[$0]!.total) }
        traceHashes = results.map(\.traceHash)
    }

    /// Mechanisms that never fired in any run.
    public var neverFired: [String] { mechanisms.filter { $0.runs == 0 }.map(\.name) }

    /// The runs in which `name` fired.
    public func runs(firing name: String) -> Int { mechanisms.first { $0.name == name }?.runs ?? 0 }

    /// The mechanisms `configuration` can exercise, named as ``SimulationResult/coverage`` names
    /// them: each cluster's breaker resources and enforced ejection reasons, the rate limits,
    /// retries and timeouts its routes set.
    public static func mechanisms(of configuration: SimulationConfiguration) -> [String] {
        let proxy = configuration.proxy
        var names: [String] = []
        for cluster in proxy.clusters {
            names += CircuitBreaker.Resource.allCases.map { "breaker \(cluster.name) \($0)" }
            if let od = cluster.outlierDetection {
                let enforced: [(OutlierDetector.EjectionReason, Bool)] = [
                    (.consecutiveErrors, od.consecutiveErrors != nil && od.enforcingConsecutiveErrors > 0),
                    (.consecutiveGatewayFailures, od.consecutiveGatewayFailures != nil && od.enforcingConsecutiveGatewayFailures > 0),
                    (.successRate, od.enforcingSuccessRate > 0 && cluster.hosts.count >= od.successRateMinimumHosts),
                    (.failurePercentage, od.enforcingFailurePercentage > 0 && cluster.hosts.count >= od.failurePercentageMinimumHosts),
                ]
                names += enforced.filter(\.1).map { "ejection \(cluster.name) \($0.0)" }
            }
        }
        if proxy.localRateLimit != nil { names.append("filter local_ratelimit") }
        if proxy.globalRateLimit != nil, configuration.rateLimitService != nil { names.append("global rate limit over limit") }
        if proxy.routes.contains(where: { $0.retry != nil }) { names.append("retry") }
        if proxy.routes.contains(where: { $0.retry?.perTryTimeout != nil }) { names.append("per-try timeout") }
        names.append("request timeout")
        return names
    }

    /// A table for people: each mechanism, in how many runs it fired and how often in all.
    public var text: String {
        let width = max(9, mechanisms.map(\.name.count).max() ?? 0)
        var lines = ["\("mechanism".padding(toLength: width, withPad: " ", startingAt: 0))  runs fired  times"]
        for m in mechanisms {
            let runs = String(m.runs).leftPadded(to: 10)
            lines.append("\(m.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(runs)  \(m.total)")
        }
        lines.append("\(runs) runs, \(violations.count) invariant violations" + (neverFired.isEmpty ? "" : "; never fired: \(neverFired.joined(separator: ", "))"))
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
