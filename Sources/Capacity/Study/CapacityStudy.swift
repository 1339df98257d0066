import Foundation
import MetaProtocol
import Results
import Runner
import TrafficModel
import Workload

/// `mplab capacity`: for one workload, the SLO capacity search on each driver its `capacity`
/// section names, the closed-loop sweep and its Universal Scalability Law fit, the local rate
/// limit recommended from the capacity, and that limit replayed in simulation.
public enum CapacityStudy {
    public struct Options: Sendable {
        /// This `mplab` executable (the real driver starts `mplab serve` and `mplab proxy`).
        public var mplab: String
        public var overrides: [String]
        /// Replaces the section's driver.
        public var driver: WorkloadScript.Mode?
        public var commandLine: [String]
        /// Skip the closed-loop sweep, or the what-if replays (tests that check one part).
        public var sweep: Bool
        public var whatIf: Bool

        public init(mplab: String, overrides: [String] = [], driver: WorkloadScript.Mode? = nil, commandLine: [String] = CommandLine.arguments,
                    sweep: Bool = true, whatIf: Bool = true) {
            self.mplab = mplab
            self.overrides = overrides
            self.driver = driver
            self.commandLine = commandLine
            self.sweep = sweep
            self.whatIf = whatIf
        }
    }

    /// A line of progress: which driver, what it is doing.
    public struct Progress: Sendable {
        public var driver: String
        public var line: String
    }

    public static func run(_ script: WorkloadScript, options: Options, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> CapacityResult {
        var section = script.capacity ?? WorkloadScript.CapacitySection(driver: script.mode)
        if let d = options.driver { section.driver = d }
        guard !script.clients.isEmpty else { throw RunFailure.unsupported("a capacity study of a workload without clients") }
        let objective = CapacityResult.Objective(percentile: section.percentile, bound: section.bound, maxErrorShare: section.maxErrorShare)
        let real = section.driver != .simulate
        var result = CapacityResult(workload: script.name, summary: script.summary,
                                    provenance: .current(seed: script.seed, workload: nil, commandLine: options.commandLine, startedAt: real ? Date() : nil),
                                    objective: objective, warnings: script.warnings)
        let manifests = try manifestText(script)
        let unlimited = try ManifestEditor.setLocalRateLimit(nil, in: manifests).all
        if script.proxy.configuration.localRateLimit != nil {
            result.warnings.append("the workload's own localRateLimit is left out of the search: it measures what the service takes, not what the limit admits")
        }
        if !script.faults.isEmpty || script.autoscaling != nil { result.warnings.append("the workload's faults and autoscaling are left out of the search") }

        let folder = FileManager.default.temporaryDirectory.appending(path: "mplab-capacity-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        do {
            // The simulator first; the real mesh starts only when its turn comes.
            var realDriver: RealCapacityDriver?
            defer { realDriver?.stop() }
            for kind in [WorkloadScript.Mode.simulate, .real] where section.driver == kind || section.driver == .both {
                let driver: any CapacityDriver
                if kind == .simulate {
                    driver = SimulatedCapacityDriver(script: script, section: section)
                } else {
                    progress(Progress(driver: "real", line: "starting the hosts and mplab proxy"))
                    let d = try await RealCapacityDriver(script: script, section: section, mplab: options.mplab, overrides: options.overrides, manifests: unlimited,
                                                         folder: folder) { line in progress(Progress(driver: "real", line: line)) }
                    realDriver = d
                    driver = d
                }
                result.searches.append(try await search(driver, section: section, objective: objective, progress: progress))
                try Task.checkCancellation()
                if options.sweep && !section.concurrency.isEmpty {
                    result.scalability.append(try await sweep(driver, levels: section.concurrency, progress: progress))
                    try Task.checkCancellation()
                }
            }
            realDriver?.stop()

            // The recommendation: from the real capacity when there is one, else the simulated.
            if let chosen = result.searches.last(where: { $0.capacity != nil }), let capacity = chosen.capacity {
                let recommender = RateLimitRecommender(section: section, objective: objective, instances: script.proxy.instances)
                let basis = "the \(chosen.driver) search's highest rate keeping \(objective.description)"
                var recommendation = try recommender.recommend(capacity: capacity, basis: basis, points: chosen.points, script: script, manifests: manifests)
                if options.whatIf, recommender.fleetPlan(capacity: capacity, points: chosen.points).lowered {
                    recommendation = try raise(recommendation, recommender: recommender, capacity: capacity, points: chosen.points, script: script,
                                               section: section, objective: objective, manifests: manifests, progress: progress)
                }
                result.recommendation = recommendation
                if options.whatIf {
                    progress(Progress(driver: "simulated", line: "replaying the recommendation: " + section.whatIfMultiples.map { "\(WhatIf.trim($0))×" }.joined(separator: ", ")
                                      + (section.flashCrowd > 1 ? ", flash crowd" : "")))
                    let all = try ManifestEditor.setLocalRateLimit(recommender.configuration(from: recommendation), in: manifests).all
                    result.whatIf = try WhatIf(script: script, section: section, objective: objective).replay(manifests: all, recommendation: recommendation, capacity: capacity)
                }
            } else {
                result.warnings.append("no offered rate kept \(objective.description): nothing to recommend")
            }
        } catch is CancellationError {
            result.complete = false
        }
        return result
    }

    /// A limit the analysis lowered (each fill a burst, bounded by the latency budget alone)
    /// is conservative: the budget counts the percentile's service time as well as the wait.
    /// Raise it by bisection between the analytic limit and capacity × headroom to the highest
    /// that, replayed in simulation at the worst what-if load, still keeps the objective on the
    /// upper end of its 95 % interval (without autoscaling: the limit alone must hold).
    static func raise(_ analytic: CapacityResult.Recommendation, recommender: RateLimitRecommender, capacity: Double, points: [CapacityResult.Point],
                      script: WorkloadScript, section: WorkloadScript.CapacitySection, objective: CapacityResult.Objective, manifests: String,
                      progress: @escaping @Sendable (Progress) -> Void) throws -> CapacityResult.Recommendation {
        let whatIf = WhatIf(script: script, section: section, objective: objective)
        let multiple = max(2, section.whatIfMultiples.max() ?? 2)
        let replications = 3
        let duration = max(.seconds(10), section.whatIfDuration / 6)
        var low = recommender.fleetPlan(capacity: capacity, points: points).limit
        var high = capacity * section.headroom
        let analyticLimit = low
        var best = analytic, bestUpper: Double?
        func check(_ limit: Double) throws -> (CapacityResult.Recommendation, Bool, Double) {
            let r = try recommender.recommend(capacity: capacity, basis: analytic.basis, points: points, script: script, manifests: manifests, limit: limit)
            let all = try ManifestEditor.setLocalRateLimit(recommender.configuration(from: r), in: manifests).all
            let (holds, upper) = try whatIf.holds(manifests: all, recommendation: r, capacity: capacity, multiple: multiple, replications: replications, duration: duration)
            progress(Progress(driver: "simulated", line: String(format: "limit %8.1f/s at %@× capacity: p%@ upper %8.3f ms  %@", limit, WhatIf.trim(multiple),
                                                                WhatIf.trim(objective.percentile), upper * 1e3, holds ? "holds" : "MISSED")))
            return (r, holds, upper)
        }
        let (atAnalytic, analyticHolds, analyticUpper) = try check(low)
        guard analyticHolds else {
            var r = analytic
            r.reasoning.append("replayed at \(WhatIf.trim(multiple))× capacity in simulation, even this limit's p\(WhatIf.trim(objective.percentile)) reaches "
                               + "\(Expectation.duration(analyticUpper)) (upper 95 % bound): the objective is not met by any local limit here")
            return r
        }
        best = atAnalytic
        bestUpper = analyticUpper
        for _ in 0..<5 where (high - low) / low > 0.03 {
            let mid = (low + high) / 2
            let (r, holds, upper) = try check(mid)
            if holds {
                low = mid
                best = r
                bestUpper = upper
            } else {
                high = mid
            }
        }
        best.reasoning.append("the fill bound alone gives \(RateLimitRecommender.rate(analyticLimit)) (a fill of capacity × budget); replayed in simulation at "
                              + "\(WhatIf.trim(multiple))× capacity (\(replications) runs of \(Expectation.duration(duration.seconds)), no autoscaling), the limit keeps "
                              + "\(objective.description) up to \(RateLimitRecommender.rate(low)) (p\(WhatIf.trim(objective.percentile)) upper 95 % bound "
                              + "\(Expectation.duration(bestUpper ?? 0))), so that is recommended")
        return best
    }

    /// The adaptive search on one driver, with a line per point.
    static func search(_ driver: any CapacityDriver, section: WorkloadScript.CapacitySection, objective: CapacityResult.Objective,
                       progress: @escaping @Sendable (Progress) -> Void) async throws -> CapacityResult.Search {
        let search = CapacitySearch(start: section.start, growth: section.growth, precision: section.precision, ceiling: section.ceiling)
        let outcome = try await search.run { rate in
            try Task.checkCancellation()
            let p = try await driver.measure(rate: rate, objective: objective)
            progress(Progress(driver: driver.name, line: String(format: "%9.1f/s  p%@ %8.3f ms (upper %8.3f)  errors %6.2f%%  %@", rate, WhatIf.trim(objective.percentile),
                                                                p.percentile * 1e3, p.percentileUpper * 1e3, p.errorShare * 100, p.passed ? "pass" : "FAIL")))
            return p
        }
        let knee = Knee.find(outcome.points.map { (x: $0.offered, y: $0.percentile) })
        return CapacityResult.Search(driver: driver.name, points: outcome.points, capacity: outcome.capacity, firstFailure: outcome.firstFailure,
                                     knee: knee, method: driver.method)
    }

    /// The closed-loop sweep and its fit.
    static func sweep(_ driver: any CapacityDriver, levels: [Int], progress: @escaping @Sendable (Progress) -> Void) async throws -> CapacityResult.Scalability {
        var points: [ConcurrencyPoint] = []
        for n in levels {
            try Task.checkCancellation()
            let x = try await driver.closedLoop(callers: n)
            progress(Progress(driver: driver.name, line: String(format: "closed loop %4d callers: %9.1f calls/s", n, x)))
            points.append(ConcurrencyPoint(concurrency: Double(n), throughput: x))
        }
        let fit = try USLFit.fit(points)
        return fit.summary(driver: driver.name)
    }

    /// The workload's manifests as one YAML text: its files, then its inline documents.
    public static func manifestText(_ script: WorkloadScript) throws -> String {
        var parts: [String] = []
        for f in script.proxy.manifestFiles { parts.append(try String(contentsOfFile: f, encoding: .utf8)) }
        if let inline = script.proxy.inlineManifests { parts.append(inline) }
        return parts.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(separator: "---\n")
    }
}

extension USLFit {
    /// The fit as the capacity result records it.
    public func summary(driver: String) -> CapacityResult.Scalability {
        CapacityResult.Scalability(driver: driver, measured: points.map { [$0.concurrency, $0.throughput] }, lambda: model.lambda, sigma: model.sigma,
                                   kappa: model.kappa, rSquared: rSquared, residualStandardError: residualStandardError, residuals: residuals,
                                   peakConcurrency: peakConcurrency, maxThroughput: maxThroughput, caveat: caveat,
                                   curve: curve().map { [$0.concurrency, $0.throughput] })
    }
}

extension RateLimitRecommender {
    /// The recommendation's buckets as a MetaRouter local limit (the same the manifest holds).
    public func configuration(from r: CapacityResult.Recommendation) -> LocalRateLimitConfiguration {
        let service = r.buckets.first { $0.scope == "service" }.map(spec)
        let conditions = r.buckets.filter { $0.scope != "service" }.map { b in
            LocalRateLimitConfiguration.Condition(match: [AttributeCondition(section.methodAttribute, .exact(String(b.scope.dropFirst(section.methodAttribute.count + 3))))],
                                                  tokenBucket: spec(b))
        }
        return LocalRateLimitConfiguration(tokenBucket: service, conditions: conditions)
    }
}
