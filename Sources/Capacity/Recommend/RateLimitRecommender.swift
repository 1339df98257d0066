import Foundation
import MetaProtocol
import Results
import TrafficModel
import Workload

/// Turns a measured capacity into a local rate limit, as the talk's practice does (load-test,
/// model the capacity, set the limit from it, let rate-limited counts drive autoscaling):
///
/// - the fleet admits capacity × headroom; each of the `instances` proxies admits its share
///   (MetaRouter's local limit is per proxy instance, so the fleet limit is per-instance ×
///   instances);
/// - per method, each gets its share of the workload's mix; calls of a method the workload
///   never sent take the service bucket, sized for a twentieth of the limit;
/// - `tokensPerFill` per `fillInterval` (at least 50 ms, longer when a fill would be under one
///   token), and `maxTokens` the burst the latency budget absorbs: at the recommended rate the
///   percentile sits at p(r) < bound, and a burst of B calls queued at once delays the last by
///   B / capacity, so B = capacity × (bound − p(r)), never less than one fill;
/// - over the limit each fill is a burst as well (its tokens are taken at once), so the fill
///   interval shrinks until a fill fits B, and when even 50 ms does not, the limit is lowered
///   (a 1 ms service with a 20 ms objective cannot take 100 ms worth of calls at once);
/// - autoscaling when more than 1 % of the limit's 30-second volume is refused in 30 s: demand
///   has stayed above what the fleet takes.
public struct RateLimitRecommender: Sendable {
    public var section: WorkloadScript.CapacitySection
    public var objective: CapacityResult.Objective
    public var instances: Int

    /// A twentieth of the limit for methods the workload did not call.
    static let unlistedShare = 0.05
    static let autoscalingWindow = 30.0
    static let autoscalingShare = 0.01

    public init(section: WorkloadScript.CapacitySection, objective: CapacityResult.Objective, instances: Int) {
        self.section = section
        self.objective = objective
        self.instances = max(1, instances)
    }

    /// Each method's share of the workload's calls, by `section.methodAttribute`; empty when the
    /// mix names fewer than two methods (then only the service bucket applies).
    public func methodShares(_ script: WorkloadScript) -> [(method: String, share: Double)] {
        var shares: [(String, Double)] = []
        for (model, clientShare) in zip(script.clientModels, script.clientShares) {
            let total = model.mix.reduce(0) { $0 + $1.weight }
            for t in model.mix {
                guard let method = t.attributes.first(where: { $0.key == section.methodAttribute })?.value else { return [] }
                let share = clientShare * t.weight / max(total, 1e-12)
                if let i = shares.firstIndex(where: { $0.0 == method }) { shares[i].1 += share } else { shares.append((method, share)) }
            }
        }
        return shares.count >= 2 ? shares : []
    }

    /// The recommendation for `capacity` calls per second (the fleet's), with `points` the
    /// search that found it (for the percentile at the recommended rate), written into the
    /// workload's `manifests`.
    /// `limit`, when given, replaces the fleet limit the analysis picks (the study raises a
    /// lowered limit to what simulation shows still holds; see ``CapacityStudy``).
    public func recommend(capacity: Double, basis: String, points: [CapacityResult.Point], script: WorkloadScript, manifests: String,
                          limit chosen: Double? = nil) throws -> CapacityResult.Recommendation {
        let plan = fleetPlan(capacity: capacity, points: points, limit: chosen)
        let limit = plan.limit, budget = plan.budget
        var reasoning = [
            "capacity \(Self.rate(capacity)) (\(basis)) × headroom \(section.headroom) = \(Self.rate(capacity * section.headroom)) for the fleet"
                + (plan.lowered ? "" : ", \(Self.rate(limit / Double(instances))) for each of \(instances) proxy instance(s)"),
            "at \(Self.rate(limit)) the p\(Self.trim(objective.percentile)) is about \(Expectation.duration(plan.percentile)) (interpolated from the search), "
                + "leaving \(Expectation.duration(budget)) of the \(Expectation.duration(objective.bound)) budget: a burst of capacity × \(Expectation.duration(budget)) "
                + "= \(Int(plan.burst)) calls queued at once still finishes within it (maxTokens)",
        ]
        if plan.lowered, chosen != nil {
            reasoning.append("over the limit, each fill's tokens are taken at once (fills of \(Expectation.duration(plan.interval))), so the limit is below capacity × headroom: "
                             + "\(Self.rate(limit)) (\(Self.rate(limit / Double(instances))) per instance), chosen by replaying it in simulation (below)")
        } else if plan.lowered {
            reasoning.append("over the limit, each fill's tokens are taken at once, so a fill of \(Self.rate(capacity * section.headroom)) × \(Expectation.duration(plan.interval)) "
                             + "would queue more than the budget absorbs: the limit is lowered to \(Self.rate(limit)) (\(Self.rate(limit / Double(instances))) per instance), "
                             + "the largest whose fills of \(Expectation.duration(plan.interval)) fit; a tighter objective or a faster service raises it")
        } else if plan.interval < Double(section.fillInterval.nanoseconds) / 1e9 {
            reasoning.append("the fill interval is shortened to \(Expectation.duration(plan.interval)) so that one fill's tokens, taken at once over the limit, fit the budget")
        }
        let methods = methodShares(script)
        var buckets: [CapacityResult.Bucket] = []
        let service = bucket(scope: "service", share: methods.isEmpty ? 1 : Self.unlistedShare, capacity: capacity, plan: plan)
        buckets.append(service)
        var conditions: [LocalRateLimitConfiguration.Condition] = []
        for (method, share) in methods {
            let b = bucket(scope: "\(section.methodAttribute) = \(method)", share: share, capacity: capacity, plan: plan)
            buckets.append(b)
            conditions.append(.init(match: [AttributeCondition(section.methodAttribute, .exact(method))], tokenBucket: spec(b)))
        }
        if !methods.isEmpty {
            reasoning.append("per \(section.methodAttribute): each its share of the mix (" + methods.map { "\($0.method) \(Self.trim($0.share * 100))%" }.joined(separator: ", ")
                             + "); calls of other \(section.methodAttribute)s take the service bucket, sized for \(Self.trim(Self.unlistedShare * 100))% of the limit")
        }
        let configuration = LocalRateLimitConfiguration(tokenBucket: spec(service), conditions: conditions)
        let edited = try ManifestEditor.setLocalRateLimit(configuration, in: manifests)
        let threshold = max(1, Int((limit * Self.autoscalingWindow * Self.autoscalingShare).rounded()))
        reasoning.append("autoscaling: more than \(threshold) calls rate-limited in 30 s (1% of the limit's 30-second volume) means demand has stayed above the fleet's limit")
        let query = "sum(increase(mplab_local_ratelimit_total{result=\"limited\"}[30s])) > \(threshold)"
        return CapacityResult.Recommendation(capacity: capacity, basis: basis, headroom: section.headroom, proxyInstances: instances, buckets: buckets,
                                             manifest: edited.router, autoscalingThreshold: threshold, autoscalingWindowSeconds: Self.autoscalingWindow,
                                             autoscalingQuery: query, reasoning: reasoning)
    }

    /// The fleet's limit, fill interval and burst. Over the limit a bucket is empty and each
    /// fill's tokens go to the calls waiting for them at once, so a fill is a burst too: it
    /// must fit the latency budget like `maxTokens` does. The interval shrinks (to 50 ms at
    /// least) until a fill fits; when even 50 ms does not, the limit comes down until it does.
    struct FleetPlan {
        var limit: Double
        var interval: Double
        var percentile: Double
        var budget: Double
        /// Calls the budget absorbs queued at once: capacity × budget.
        var burst: Double
        var lowered: Bool
    }

    func fleetPlan(capacity: Double, points: [CapacityResult.Point], limit chosen: Double? = nil) -> FleetPlan {
        let shortest = 0.05
        let wanted = Double(section.fillInterval.nanoseconds) / 1e9
        func plan(_ limit: Double, lowered: Bool) -> FleetPlan {
            let p = Self.percentile(at: limit, points: points)
            let budget = max(0, objective.bound - p)
            let burst = capacity * budget
            let fitting = (((1 + burst) / max(limit, 1e-12) / shortest) + 1e-9).rounded(.down) * shortest
            return FleetPlan(limit: limit, interval: max(shortest, min(wanted, fitting)), percentile: p, budget: budget, burst: burst, lowered: lowered)
        }
        // A 50 ms fill at `limit` fits the budget at `limit` (the last of a fill's calls waits for
        // the others, so one call alone always fits): true below some limit, false above.
        func fits(_ limit: Double) -> Bool { limit * shortest <= 1 + capacity * max(0, objective.bound - Self.percentile(at: limit, points: points)) }
        let wantedLimit = capacity * section.headroom
        if let chosen { return plan(min(chosen, wantedLimit), lowered: !fits(min(chosen, wantedLimit)) || chosen < wantedLimit) }
        if fits(wantedLimit) { return plan(wantedLimit, lowered: false) }
        var lo = 0.0, hi = wantedLimit
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if fits(mid) { lo = mid } else { hi = mid }
        }
        return plan(lo, lowered: true)
    }

    /// One bucket for `share` of the calls.
    func bucket(scope: String, share: Double, capacity: Double, plan: FleetPlan) -> CapacityResult.Bucket {
        let perInstance = plan.limit * share / Double(instances)
        var interval = plan.interval
        if perInstance * interval < 1 {
            // Too slow for one token per fill: stretch the interval in 50 ms steps.
            interval = (1 / max(perInstance, 1e-9) / 0.05 - 1e-9).rounded(.up) * 0.05
        }
        // Rounded down: the bucket never admits more than the plan allows.
        let tokens = max(1, Int((perInstance * interval + 1e-9).rounded(.down)))
        let burst = Int((plan.burst * share / Double(instances)).rounded(.down))
        return CapacityResult.Bucket(scope: scope, capacity: capacity * share, tokensPerFill: tokens, fillIntervalSeconds: (interval * 1000).rounded() / 1000,
                                     maxTokens: max(tokens, burst))
    }

    func spec(_ b: CapacityResult.Bucket) -> TokenBucketSpec {
        TokenBucketSpec(maxTokens: b.maxTokens, tokensPerFill: b.tokensPerFill, fillInterval: .nanoseconds(Int64((b.fillIntervalSeconds * 1e9).rounded())))
    }

    /// The percentile at `rate`, interpolated between the measured points around it.
    static func percentile(at rate: Double, points: [CapacityResult.Point]) -> Double {
        let sorted = points.sorted { $0.offered < $1.offered }
        guard let first = sorted.first else { return 0 }
        if rate <= first.offered { return first.percentile }
        for (a, b) in zip(sorted, sorted.dropFirst()) where rate >= a.offered && rate <= b.offered {
            let t = (rate - a.offered) / max(b.offered - a.offered, 1e-12)
            return a.percentile + t * (b.percentile - a.percentile)
        }
        return sorted.last!.percentile
    }

    static func rate(_ r: Double) -> String { "\(trim(r))/s" }
    static func trim(_ v: Double) -> String { v >= 100 ? String(Int(v.rounded())) : String(format: "%.3g", v) }
}
