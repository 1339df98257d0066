/// Which protections and limits fired, and how often, by name — the "coverage" a run's result
/// reports (`breaker svc pendingRequests`, `ejection svc consecutive_5xx`, `local reply
/// over_limit`, `retry` …). The simulator and the real proxy name them alike, so a workload's
/// expectations read both.
extension ProxyCore {
    /// Breaker overflows and enforced ejections of this core's clusters.
    public var protectionCoverage: [String: Int] {
        var coverage: [String: Int] = [:]
        for cluster in configuration.source.clusters {
            if let b = circuitBreaker(cluster.name) {
                for r in CircuitBreaker.Resource.allCases where b.overflows(r) > 0 { coverage["breaker \(cluster.name) \(r)", default: 0] += b.overflows(r) }
            }
            if let od = outlierDetector(cluster.name) {
                for reason in OutlierDetector.EjectionReason.allCases where od.enforced[reason.rawValue] > 0 {
                    coverage["ejection \(cluster.name) \(reason)", default: 0] += od.enforced[reason.rawValue]
                }
            }
        }
        return coverage
    }
}

extension CoreCounters {
    /// What the counters say fired: filter replies, local replies by reason, retries, timeouts,
    /// connect failures, resets, global over-limits, mirrors (each when above zero).
    public var coverage: [String: Int] {
        var coverage: [String: Int] = [:]
        for (name, n) in filterReplies where n > 0 { coverage["filter \(name)"] = n }
        for kind in LocalReplyError.Kind.allCases where localReplies[Int(kind.rawValue)] > 0 {
            coverage["local reply \(kind)"] = localReplies[Int(kind.rawValue)]
        }
        for (name, n) in [("retry", retries), ("per-try timeout", perTryTimeouts), ("request timeout", timeouts),
                          ("connect failure", upstreamConnectFailures), ("reset", upstreamResets),
                          ("global rate limit over limit", globalRateLimitOverLimit), ("mirror", mirrorsSent)] where n > 0 {
            coverage[name] = n
        }
        return coverage
    }
}
