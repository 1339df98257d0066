import Foundation

/// What `mplab capacity` found for one workload: the SLO capacity search on each driver it ran,
/// the Universal Scalability Law fitted to a closed-loop sweep, the local rate limit it
/// recommends (as the manifest to apply), and that limit replayed in simulation. It is the
/// `capacity.json` of a capacity report folder, and everything the report is drawn from.
public struct CapacityResult: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var workload: String
    public var summary: String
    public var provenance: Provenance
    /// The objective every point was judged by, e.g. `p99 < 20ms, errors < 1%`.
    public var objective: Objective
    /// One search per driver (`simulated`, `real`).
    public var searches: [Search]
    /// One closed-loop sweep per driver that ran one.
    public var scalability: [Scalability]
    public var recommendation: Recommendation?
    public var whatIf: [WhatIfOutcome]
    public var complete: Bool
    public var warnings: [String]

    public init(workload: String, summary: String, provenance: Provenance, objective: Objective, searches: [Search] = [], scalability: [Scalability] = [],
                recommendation: Recommendation? = nil, whatIf: [WhatIfOutcome] = [], complete: Bool = true, warnings: [String] = []) {
        schemaVersion = Self.currentSchemaVersion
        self.workload = workload
        self.summary = summary
        self.provenance = provenance
        self.objective = objective
        self.searches = searches
        self.scalability = scalability
        self.recommendation = recommendation
        self.whatIf = whatIf
        self.complete = complete
        self.warnings = warnings
    }

    /// The latency objective and the error bound a rate must keep to count as within capacity.
    public struct Objective: Codable, Sendable, Hashable {
        /// The percentile judged, 0–100 (99 for p99).
        public var percentile: Double
        /// Its bound, seconds.
        public var bound: Double
        /// The highest share of calls not answered with success (errors, local replies, timeouts).
        public var maxErrorShare: Double

        public init(percentile: Double, bound: Double, maxErrorShare: Double) {
            self.percentile = percentile
            self.bound = bound
            self.maxErrorShare = maxErrorShare
        }

        /// `p99 < 20ms, errors < 1%`.
        public var description: String {
            let p = percentile == percentile.rounded() ? String(Int(percentile)) : String(percentile)
            return "p\(p) < \(Self.duration(bound)), errors < \(Self.percent(maxErrorShare))"
        }

        static func duration(_ s: Double) -> String {
            s >= 1 ? "\(Self.trim(s))s" : s >= 1e-3 ? "\(Self.trim(s * 1e3))ms" : "\(Self.trim(s * 1e6))µs"
        }
        static func percent(_ x: Double) -> String { "\(Self.trim(x * 100))%" }
        static func trim(_ v: Double) -> String {
            v == v.rounded() ? String(Int(v)) : String(format: "%.3g", v)
        }
    }

    /// One offered rate, measured.
    public struct Point: Codable, Sendable, Hashable {
        /// Calls per second offered (open loop).
        public var offered: Double
        /// Calls per second answered with success.
        public var throughput: Double
        /// The objective's percentile, seconds: its mean over replications (or rounds)…
        public var percentile: Double
        /// …and the upper end of its 95 % interval (Student's t); the point passes on this.
        public var percentileUpper: Double
        /// Each replication's (or round's) percentile, seconds.
        public var samples: [Double]
        /// p50, seconds (mean over replications), for the latency–throughput curve.
        public var median: Double
        public var errorShare: Double
        /// Calls measured in all replications.
        public var calls: Int
        public var passed: Bool
        /// `step` or `bisect`.
        public var phase: String

        public init(offered: Double, throughput: Double, percentile: Double, percentileUpper: Double, samples: [Double], median: Double,
                    errorShare: Double, calls: Int, passed: Bool, phase: String) {
            self.offered = offered
            self.throughput = throughput
            self.percentile = percentile
            self.percentileUpper = percentileUpper
            self.samples = samples
            self.median = median
            self.errorShare = errorShare
            self.calls = calls
            self.passed = passed
            self.phase = phase
        }
    }

    /// An adaptive search on one driver.
    public struct Search: Codable, Sendable, Hashable {
        /// `simulated` or `real`.
        public var driver: String
        /// Points in the order they were measured.
        public var points: [Point]
        /// The highest offered rate that passed; nil when none did.
        public var capacity: Double?
        /// The lowest offered rate that failed; nil when the search reached its ceiling passing.
        public var firstFailure: Double?
        /// The knee of the latency–throughput curve (Kneedle), as an offered rate.
        public var knee: Double?
        /// How each point was measured: replications or rounds, and how long.
        public var method: String

        public init(driver: String, points: [Point], capacity: Double?, firstFailure: Double?, knee: Double?, method: String) {
            self.driver = driver
            self.points = points
            self.capacity = capacity
            self.firstFailure = firstFailure
            self.knee = knee
            self.method = method
        }
    }

    /// The Universal Scalability Law fitted to a closed-loop sweep.
    public struct Scalability: Codable, Sendable, Hashable {
        public var driver: String
        /// (concurrency, calls per second) as measured.
        public var measured: [[Double]]
        public var lambda: Double
        public var sigma: Double
        public var kappa: Double
        public var rSquared: Double
        public var residualStandardError: Double
        public var residuals: [Double]
        /// N*, the concurrency of the peak, when the curve peaks.
        public var peakConcurrency: Double?
        /// X_max, only when N* lies within the range the fit may be believed in.
        public var maxThroughput: Double?
        /// Why X_max is withheld, if it is.
        public var caveat: String?
        /// The fitted curve, (concurrency, calls per second), up to the extrapolation limit.
        public var curve: [[Double]]

        public init(driver: String, measured: [[Double]], lambda: Double, sigma: Double, kappa: Double, rSquared: Double, residualStandardError: Double,
                    residuals: [Double], peakConcurrency: Double?, maxThroughput: Double?, caveat: String?, curve: [[Double]]) {
            self.driver = driver
            self.measured = measured
            self.lambda = lambda
            self.sigma = sigma
            self.kappa = kappa
            self.rSquared = rSquared
            self.residualStandardError = residualStandardError
            self.residuals = residuals
            self.peakConcurrency = peakConcurrency
            self.maxThroughput = maxThroughput
            self.caveat = caveat
            self.curve = curve
        }
    }

    /// A token bucket, as MetaRouter writes it.
    public struct Bucket: Codable, Sendable, Hashable {
        /// The calls it applies to (`method = query`), or `service` for the rest.
        public var scope: String
        /// The fleet's rate for these calls, per second, before the headroom.
        public var capacity: Double
        /// Per proxy instance.
        public var tokensPerFill: Int
        public var fillIntervalSeconds: Double
        public var maxTokens: Int

        public init(scope: String, capacity: Double, tokensPerFill: Int, fillIntervalSeconds: Double, maxTokens: Int) {
            self.scope = scope
            self.capacity = capacity
            self.tokensPerFill = tokensPerFill
            self.fillIntervalSeconds = fillIntervalSeconds
            self.maxTokens = maxTokens
        }

        /// Calls per second one instance admits.
        public var ratePerInstance: Double { Double(tokensPerFill) / fillIntervalSeconds }
    }

    /// The limit `mplab capacity` recommends, ready to apply.
    public struct Recommendation: Codable, Sendable, Hashable {
        /// The capacity it starts from (calls per second, the whole fleet) and where it came from.
        public var capacity: Double
        public var basis: String
        public var headroom: Double
        public var proxyInstances: Int
        /// The service's bucket first, then one per method.
        public var buckets: [Bucket]
        /// The MetaRouter with its `localRateLimit` set (the rest of the manifest as the
        /// workload has it), which `mplab proxy --config` loads as it is.
        public var manifest: String
        /// Scale out when more than this many calls are rate-limited in `window` seconds.
        public var autoscalingThreshold: Int
        public var autoscalingWindowSeconds: Double
        /// The same trigger as a PromQL expression over `mplab proxy`'s `/metrics`.
        public var autoscalingQuery: String
        /// How `maxTokens` and the rest were derived, in words.
        public var reasoning: [String]

        public init(capacity: Double, basis: String, headroom: Double, proxyInstances: Int, buckets: [Bucket], manifest: String,
                    autoscalingThreshold: Int, autoscalingWindowSeconds: Double, autoscalingQuery: String, reasoning: [String]) {
            self.capacity = capacity
            self.basis = basis
            self.headroom = headroom
            self.proxyInstances = proxyInstances
            self.buckets = buckets
            self.manifest = manifest
            self.autoscalingThreshold = autoscalingThreshold
            self.autoscalingWindowSeconds = autoscalingWindowSeconds
            self.autoscalingQuery = autoscalingQuery
            self.reasoning = reasoning
        }
    }

    /// The recommendation replayed in simulation under one load.
    public struct WhatIfOutcome: Codable, Sendable, Hashable {
        /// `1× capacity`, `2× capacity`, `flash crowd 5×`.
        public var scenario: String
        public var offered: Double
        /// Calls per second admitted by the limit (answered by the hosts).
        public var admitted: Double
        /// Rate-limited calls per 30 s: the mean and the highest window.
        public var rejectedPer30s: Double
        public var rejectedPer30sMax: Double
        /// p99 of the calls the hosts answered with success, seconds.
        public var p99: Double
        public var withinObjective: Bool
        /// When the autoscaler added hosts, seconds into the run, and how many hosts the cluster ended with.
        public var scaleEvents: [Double]
        public var hostsAtEnd: Int
        public var calls: Int
        /// Rate-limited calls per window, for the chart: (seconds, calls).
        public var rejectedOverTime: [[Double]]

        public init(scenario: String, offered: Double, admitted: Double, rejectedPer30s: Double, rejectedPer30sMax: Double, p99: Double,
                    withinObjective: Bool, scaleEvents: [Double], hostsAtEnd: Int, calls: Int, rejectedOverTime: [[Double]]) {
            self.scenario = scenario
            self.offered = offered
            self.admitted = admitted
            self.rejectedPer30s = rejectedPer30s
            self.rejectedPer30sMax = rejectedPer30sMax
            self.p99 = p99
            self.withinObjective = withinObjective
            self.scaleEvents = scaleEvents
            self.hostsAtEnd = hostsAtEnd
            self.calls = calls
            self.rejectedOverTime = rejectedOverTime
        }
    }

    public func encoded() throws -> Data { try VersionedJSON.encode(self) }

    public static func decode(_ data: Data) throws -> CapacityResult {
        try VersionedJSON.decode(CapacityResult.self, from: data, supported: currentSchemaVersion)
    }
}
