import Foundation

/// Outlier detection settings (Envoy's names and defaults; DestinationRule `outlierDetection`).
public struct OutlierDetectionPolicy: Sendable, Hashable {
    /// Consecutive errors (server errors and gateway failures) that eject a host at once; nil
    /// turns the check off.
    public var consecutiveErrors: Int?
    /// Percent chance that a detected consecutive-errors outlier is really ejected.
    public var enforcingConsecutiveErrors: Int
    /// Consecutive gateway failures (unavailable, connect failure, reset, timeout) that eject.
    public var consecutiveGatewayFailures: Int?
    /// Envoy's default is 0: detected and counted, not enforced.
    public var enforcingConsecutiveGatewayFailures: Int
    /// Time between sweeps (success rate, failure percentage, unejection).
    public var interval: Duration
    /// An ejection lasts base × (the host's ejection backoff), capped at ``maxEjectionTime``.
    public var baseEjectionTime: Duration
    public var maxEjectionTime: Duration
    /// At most this percent of hosts ejected at once, though one host always may be.
    public var maxEjectionPercent: Double
    /// Success-rate ejection: hosts below mean − factor · stdev, among hosts with at least
    /// `successRateRequestVolume` requests in the interval, when at least
    /// `successRateMinimumHosts` such hosts exist.
    public var successRateMinimumHosts: Int
    public var successRateRequestVolume: Int
    public var successRateStdevFactor: Double
    public var enforcingSuccessRate: Int
    /// Failure-percentage ejection: hosts failing at least this percent of their requests.
    public var failurePercentageThreshold: Double
    public var failurePercentageMinimumHosts: Int
    public var failurePercentageRequestVolume: Int
    /// Envoy's default is 0: detected and counted, not enforced.
    public var enforcingFailurePercentage: Int
    /// Whether failures of the proxy's own making — a connect that fails, a connection reset,
    /// a request that times out on the wire — are kept apart from the host's answers (Envoy's
    /// `split_external_local_origin_errors`). Off (Envoy's default), they count as gateway
    /// failures, towards both consecutive counts; on, only towards
    /// ``consecutiveLocalOriginFailures``, and the host's own errors only towards the others.
    public var splitExternalLocalOriginErrors: Bool
    /// Consecutive local-origin failures that eject, when they are split off; nil turns the
    /// check off.
    public var consecutiveLocalOriginFailures: Int?
    public var enforcingConsecutiveLocalOriginFailures: Int

    public init(consecutiveErrors: Int? = 5, enforcingConsecutiveErrors: Int = 100,
                consecutiveGatewayFailures: Int? = 5, enforcingConsecutiveGatewayFailures: Int = 0,
                interval: Duration = .seconds(10), baseEjectionTime: Duration = .seconds(30), maxEjectionTime: Duration = .seconds(300),
                maxEjectionPercent: Double = 10,
                successRateMinimumHosts: Int = 5, successRateRequestVolume: Int = 100, successRateStdevFactor: Double = 1.9, enforcingSuccessRate: Int = 100,
                failurePercentageThreshold: Double = 85, failurePercentageMinimumHosts: Int = 5, failurePercentageRequestVolume: Int = 50,
                enforcingFailurePercentage: Int = 0, splitExternalLocalOriginErrors: Bool = false,
                consecutiveLocalOriginFailures: Int? = 5, enforcingConsecutiveLocalOriginFailures: Int = 100) {
        self.consecutiveErrors = consecutiveErrors
        self.enforcingConsecutiveErrors = enforcingConsecutiveErrors
        self.consecutiveGatewayFailures = consecutiveGatewayFailures
        self.enforcingConsecutiveGatewayFailures = enforcingConsecutiveGatewayFailures
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
        self.successRateMinimumHosts = successRateMinimumHosts
        self.successRateRequestVolume = successRateRequestVolume
        self.successRateStdevFactor = successRateStdevFactor
        self.enforcingSuccessRate = enforcingSuccessRate
        self.failurePercentageThreshold = failurePercentageThreshold
        self.failurePercentageMinimumHosts = failurePercentageMinimumHosts
        self.failurePercentageRequestVolume = failurePercentageRequestVolume
        self.enforcingFailurePercentage = enforcingFailurePercentage
        self.splitExternalLocalOriginErrors = splitExternalLocalOriginErrors
        self.consecutiveLocalOriginFailures = consecutiveLocalOriginFailures
        self.enforcingConsecutiveLocalOriginFailures = enforcingConsecutiveLocalOriginFailures
    }
}

/// How one try at a host ended, as outlier detection sees it.
public enum UpstreamOutcome: Sendable, Hashable {
    /// An answer the host is not to blame for: success, or the service's own error.
    case success
    /// The host failed while serving (an HTTP 500 in Envoy's terms).
    case serverError
    /// The host answered that it could not serve (unavailable; HTTP 502/503 in Envoy's terms).
    case gatewayFailure
    /// The proxy could not reach or hear from the host: a connect failure, a reset, a try
    /// that timed out on the wire (Envoy's local-origin errors). Without
    /// ``OutlierDetectionPolicy/splitExternalLocalOriginErrors`` it counts as a gateway failure.
    case localOriginFailure

    /// The outcome a response with `status` stands for.
    public init(_ status: ResponseStatus) {
        switch status.category {
        case .success, .applicationError: self = .success
        case .serverError: self = .serverError
        case .unavailable: self = .gatewayFailure
        }
    }
}

/// Per-cluster outlier detection with Envoy's semantics: consecutive errors and gateway failures
/// eject inline; success rate and failure percentage are checked at each sweep; ejections last
/// base × backoff (capped) and end at the first sweep after they expire; each sweep a host is
/// in takes its backoff down by one; at most
/// ``OutlierDetectionPolicy/maxEjectionPercent`` of hosts are out, though one always may be.
public struct OutlierDetector: Sendable {
    /// Why a host was ejected.
    public enum EjectionReason: Int, Sendable, CaseIterable, CustomStringConvertible {
        case consecutiveErrors, consecutiveGatewayFailures, successRate, failurePercentage, consecutiveLocalOriginFailures
        public var description: String {
            switch self {
            case .consecutiveErrors: "consecutive_5xx"
            case .consecutiveGatewayFailures: "consecutive_gateway_failure"
            case .successRate: "success_rate"
            case .failurePercentage: "failure_percentage"
            case .consecutiveLocalOriginFailures: "consecutive_local_origin_failure"
            }
        }
    }

    private struct Host: Sendable {
        var consecutiveErrors = 0
        var consecutiveGatewayFailures = 0
        var consecutiveLocalOriginFailures = 0
        var ejectedAt: Timestamp?
        var ejectTimeBackoff: Int64 = 0
        var intervalTotal = 0
        var intervalFailures = 0
        var timesEjected = 0
    }

    public let policy: OutlierDetectionPolicy
    private var hosts: [Host]
    /// When the next sweep is due.
    public private(set) var nextSweep: Timestamp
    /// Ejections detected, by reason (whether enforced or not).
    public private(set) var detected = [Int](repeating: 0, count: EjectionReason.allCases.count)
    /// Ejections carried out, by reason.
    public private(set) var enforced = [Int](repeating: 0, count: EjectionReason.allCases.count)
    /// Ejections skipped because the maximum ejection percent was reached.
    public private(set) var overflow = 0
    public private(set) var ejectedCount = 0
    /// The most hosts ever ejected at once.
    public private(set) var ejectedHighWater = 0

    public init(policy: OutlierDetectionPolicy, hostCount: Int, now: Timestamp) {
        self.policy = policy
        self.hosts = Array(repeating: Host(), count: hostCount)
        self.nextSweep = now + policy.interval
    }

    public func isEjected(_ host: Int) -> Bool { hosts[host].ejectedAt != nil }

    /// Hosts added to the cluster: they start with a clean record.
    public mutating func addHosts(_ count: Int) {
        hosts.append(contentsOf: repeatElement(Host(), count: count))
    }

    /// Times `host` has been ejected.
    public func timesEjected(_ host: Int) -> Int { hosts[host].timesEjected }

    /// Records how a try at `host` ended. Returns true if it ejected the host.
    public mutating func record(_ outcome: UpstreamOutcome, host: Int, now: Timestamp, random: inout SeededRandom) -> Bool {
        var h = hosts[host]
        let split = policy.splitExternalLocalOriginErrors
        let outcome = outcome == .localOriginFailure && !split ? .gatewayFailure : outcome
        // Split off, local-origin failures feed neither the interval's rates nor the host's
        // own streaks; any answer is a local-origin success.
        if outcome != .localOriginFailure { h.intervalTotal += 1 }
        switch outcome {
        case .success:
            h.consecutiveErrors = 0
            h.consecutiveGatewayFailures = 0
            h.consecutiveLocalOriginFailures = 0
        case .serverError:
            h.intervalFailures += 1
            h.consecutiveGatewayFailures = 0
            h.consecutiveErrors += 1
            h.consecutiveLocalOriginFailures = 0
        case .gatewayFailure:
            h.intervalFailures += 1
            h.consecutiveErrors += 1
            h.consecutiveGatewayFailures += 1
            if split { h.consecutiveLocalOriginFailures = 0 }
        case .localOriginFailure:
            h.consecutiveLocalOriginFailures += 1
        }
        hosts[host] = h
        guard h.ejectedAt == nil else { return false }
        if split, let limit = policy.consecutiveLocalOriginFailures, h.consecutiveLocalOriginFailures >= limit {
            hosts[host].consecutiveLocalOriginFailures = 0
            return detect(host, reason: .consecutiveLocalOriginFailures, now: now, random: &random)
        }
        // A streak reaching its threshold is detected, and its count starts again whether the
        // ejection is enforced or not (as Envoy does): a streak that goes on is detected again
        // every `limit` failures. Gateway failures are checked first, being the more specific
        // finding; if not enforced, the same failures still count as consecutive errors.
        if let limit = policy.consecutiveGatewayFailures, h.consecutiveGatewayFailures >= limit {
            hosts[host].consecutiveGatewayFailures = 0
            if detect(host, reason: .consecutiveGatewayFailures, now: now, random: &random) { return true }
        }
        if let limit = policy.consecutiveErrors, h.consecutiveErrors >= limit {
            hosts[host].consecutiveErrors = 0
            return detect(host, reason: .consecutiveErrors, now: now, random: &random)
        }
        return false
    }

    /// Runs the sweep due at ``nextSweep`` (call when the clock reaches it): unejects expired
    /// hosts, relaxes the backoff of every host that is in (one step per sweep), runs
    /// success-rate and failure-percentage detection and starts a new interval. Returns whether
    /// any host's ejection changed.
    public mutating func sweep(now: Timestamp, random: inout SeededRandom) -> Bool {
        var changed = false
        let base = policy.baseEjectionTime.nanoseconds
        let cap = max(base, policy.maxEjectionTime.nanoseconds)
        for i in hosts.indices {
            if let ejectedAt = hosts[i].ejectedAt {
                let (product, overflow) = base.multipliedReportingOverflow(by: hosts[i].ejectTimeBackoff)
                if (overflow ? cap : min(product, cap)) <= now.nanoseconds - ejectedAt.nanoseconds {
                    hosts[i].ejectedAt = nil
                    hosts[i].consecutiveErrors = 0
                    hosts[i].consecutiveGatewayFailures = 0
                    ejectedCount -= 1
                    changed = true
                }
            } else if hosts[i].ejectTimeBackoff > 0 {
                hosts[i].ejectTimeBackoff -= 1
            }
        }
        changed = detectSuccessRateOutliers(now: now, random: &random) || changed
        changed = detectFailurePercentageOutliers(now: now, random: &random) || changed
        for i in hosts.indices {
            hosts[i].intervalTotal = 0
            hosts[i].intervalFailures = 0
        }
        nextSweep = now + policy.interval
        return changed
    }

    /// Success rates of the hosts with enough requests this interval, by host.
    private func qualifying(volume: Int) -> [(host: Int, successPercent: Double)] {
        hosts.indices.compactMap { i in
            let h = hosts[i]
            guard h.ejectedAt == nil, h.intervalTotal >= volume else { return nil }
            return (i, 100 * Double(h.intervalTotal - h.intervalFailures) / Double(h.intervalTotal))
        }
    }

    private mutating func detectSuccessRateOutliers(now: Timestamp, random: inout SeededRandom) -> Bool {
        let rates = qualifying(volume: policy.successRateRequestVolume)
        guard rates.count >= policy.successRateMinimumHosts, !rates.isEmpty else { return false }
        let mean = rates.reduce(0) { $0 + $1.successPercent } / Double(rates.count)
        let variance = rates.reduce(0) { $0 + ($1.successPercent - mean) * ($1.successPercent - mean) } / Double(rates.count)
        let threshold = mean - policy.successRateStdevFactor * variance.squareRoot()
        var changed = false
        for r in rates where r.successPercent < threshold {
            changed = detect(r.host, reason: .successRate, now: now, random: &random) || changed
        }
        return changed
    }

    private mutating func detectFailurePercentageOutliers(now: Timestamp, random: inout SeededRandom) -> Bool {
        let rates = qualifying(volume: policy.failurePercentageRequestVolume)
        guard rates.count >= policy.failurePercentageMinimumHosts else { return false }
        var changed = false
        for r in rates where 100 - r.successPercent >= policy.failurePercentageThreshold {
            changed = detect(r.host, reason: .failurePercentage, now: now, random: &random) || changed
        }
        return changed
    }

    /// A host found to be an outlier: ejected if the reason is enforced (a percent chance) and
    /// the ejection limit allows.
    private mutating func detect(_ host: Int, reason: EjectionReason, now: Timestamp, random: inout SeededRandom) -> Bool {
        guard hosts[host].ejectedAt == nil else { return false }
        detected[reason.rawValue] += 1
        let enforcing: Int
        switch reason {
        case .consecutiveErrors: enforcing = policy.enforcingConsecutiveErrors
        case .consecutiveGatewayFailures: enforcing = policy.enforcingConsecutiveGatewayFailures
        case .successRate: enforcing = policy.enforcingSuccessRate
        case .failurePercentage: enforcing = policy.enforcingFailurePercentage
        case .consecutiveLocalOriginFailures: enforcing = policy.enforcingConsecutiveLocalOriginFailures
        }
        guard enforcing > 0, enforcing >= 100 || Int(random.next(below: 100)) < enforcing else { return false }
        let percentAfter = 100 * Double(ejectedCount + 1) / Double(hosts.count)
        guard percentAfter <= policy.maxEjectionPercent || ejectedCount == 0 else {
            overflow += 1
            return false
        }
        // The backoff grows with each ejection until base × backoff passes the cap by a base: a
        // host ejected again and again stays at the cap without the count running away.
        let base = policy.baseEjectionTime.nanoseconds
        let (limit, limitOverflows) = max(base, policy.maxEjectionTime.nanoseconds).addingReportingOverflow(base)
        let (reached, reachedOverflows) = hosts[host].ejectTimeBackoff.multipliedReportingOverflow(by: base)
        if !reachedOverflows && (limitOverflows || reached < limit) {
            hosts[host].ejectTimeBackoff += 1
        }
        hosts[host].ejectedAt = now
        hosts[host].timesEjected += 1
        ejectedCount += 1
        ejectedHighWater = max(ejectedHighWater, ejectedCount)
        enforced[reason.rawValue] += 1
        return true
    }
}
