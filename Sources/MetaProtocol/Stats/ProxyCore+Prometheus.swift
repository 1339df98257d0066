extension ProxyCore {
    /// Every stat of this proxy instance as Prometheus text: instance counters, then per route,
    /// per method, per cluster, per host, and per (route, cluster, host, method).
    public func prometheusText() -> String {
        var p = PrometheusText()
        let c = counters
        func counter(_ name: String, _ help: String, _ value: Int) {
            p.family(name, .counter, help: help)
            p.sample(name, [], value)
        }
        counter("mplab_requests_accepted_total", "Requests and oneway calls accepted from clients.", c.accepted)
        p.family("mplab_requests_active", .gauge, help: "Requests being handled.")
        p.sample("mplab_requests_active", [], c.active)
        counter("mplab_heartbeats_total", "Heartbeats answered locally.", c.heartbeats)
        counter("mplab_upstream_responses_total", "Upstream answers forwarded to clients.", c.upstreamResponses)
        p.family("mplab_local_replies_total", .counter, help: "Requests answered by the proxy itself, by reason.")
        for kind in LocalReplyError.Kind.allCases { p.sample("mplab_local_replies_total", [("reason", kind.description)], c.localReplies[Int(kind.rawValue)]) }
        counter("mplab_oneway_forwarded_total", "Oneway calls forwarded.", c.onewayForwarded)
        counter("mplab_requests_dropped_total", "Requests whose client went away before the answer.", c.dropped)
        counter("mplab_retries_total", "Retries started.", c.retries)
        counter("mplab_per_try_timeouts_total", "Tries given up at their per-try timeout.", c.perTryTimeouts)
        counter("mplab_request_timeouts_total", "Requests answered at their overall timeout.", c.timeouts)
        p.family("mplab_filter_local_replies_total", .counter, help: "Local replies decided by a filter.")
        for (name, n) in c.filterReplies.sorted(by: { $0.key < $1.key }) { p.sample("mplab_filter_local_replies_total", [("filter", name)], n) }
        p.family("mplab_filter_delays_total", .counter, help: "Requests held by a filter.")
        for (name, n) in c.filterDelays.sorted(by: { $0.key < $1.key }) { p.sample("mplab_filter_delays_total", [("filter", name)], n) }
        p.family("mplab_global_ratelimit_total", .counter, help: "Global rate-limit outcomes other than ok.")
        for (result, n) in [("over_limit", c.globalRateLimitOverLimit), ("error", c.globalRateLimitErrors), ("timeout", c.globalRateLimitTimeouts), ("failed_open", c.globalRateLimitFailedOpen)] {
            p.sample("mplab_global_ratelimit_total", [("result", result)], n)
        }
        p.family("mplab_mirror_requests_total", .counter, help: "Mirrored copies.")
        for (result, n) in [("sent", c.mirrorsSent), ("failed", c.mirrorsFailed), ("response_dropped", c.mirrorResponsesDropped)] {
            p.sample("mplab_mirror_requests_total", [("result", result)], n)
        }
        counter("mplab_upstream_late_responses_dropped_total", "Answers to tries already given up, dropped.", c.lateResponsesDropped)
        counter("mplab_upstream_unknown_responses_total", "Answers matching no request in flight (bad responses).", c.unknownResponses)
        counter("mplab_upstream_unexpected_frames_total", "Upstream frames that are not answers.", c.unexpectedUpstreamFrames)
        counter("mplab_downstream_unexpected_frames_total", "Client frames that are not calls.", c.unexpectedDownstreamFrames)
        counter("mplab_upstream_connections_total", "Upstream connections opened.", c.upstreamConnects)
        counter("mplab_upstream_connect_failures_total", "Upstream connections that could not be made.", c.upstreamConnectFailures)
        counter("mplab_upstream_connect_timeouts_total", "Upstream connects given up at the connect timeout.", c.upstreamConnectTimeouts)
        counter("mplab_upstream_resets_total", "Upstream connections lost with requests in flight.", c.upstreamResets)
        counter("mplab_upstream_connections_clogged_total", "Upstream connections retired because too many of their requests went unanswered.", c.upstreamConnectionsClogged)
        counter("mplab_upstream_connections_silent_total", "Upstream connections closed after tries on them timed out in a row with nothing read.", c.upstreamConnectionsSilent)
        counter("mplab_upstream_connections_idle_closed_total", "Upstream connections closed after carrying nothing for the cluster's idle timeout.", c.upstreamConnectionsIdleClosed)
        counter("mplab_configuration_swaps_total", "Configurations applied after the first.", c.configurationSwaps)

        if let limiter = localRateLimiter {
            p.family("mplab_local_ratelimit_total", .counter, help: "Local rate-limit decisions by bucket.")
            for (i, s) in limiter.conditionStats.enumerated() {
                p.sample("mplab_local_ratelimit_total", [("bucket", "condition_\(i)"), ("result", "admitted")], s.admitted)
                p.sample("mplab_local_ratelimit_total", [("bucket", "condition_\(i)"), ("result", "limited")], s.limited)
            }
            p.sample("mplab_local_ratelimit_total", [("bucket", "service"), ("result", "admitted")], limiter.serviceStats.admitted)
            p.sample("mplab_local_ratelimit_total", [("bucket", "service"), ("result", "limited")], limiter.serviceStats.limited)
        }

        renderRequestStats(&p, prefix: "mplab_route", what: "route", routeStats.map { ([("route", $0.name)], $0.requests) })
        renderRequestStats(&p, prefix: "mplab_method", what: "method of a route",
                           routeStats.flatMap { r in r.methods.map { ([("route", r.name), ("method", $0.name)], $0.stats) } })
        renderRequestStats(&p, prefix: "mplab_cluster", what: "cluster", clusters.map { ([("cluster", $0.name)], $0.stats.requests) }, histogram: false)
        renderRequestStats(&p, prefix: "mplab_host", what: "host", clusters.flatMap { c in
            c.stats.hosts.enumerated().map { ([("cluster", c.name), ("host", c.stats.hostAddresses[$0.offset])], $0.element) }
        }, histogram: false)
        // Packed keys sort by route, cluster, host, method.
        let detail = upstreamDetail.sortedEntries.map { entry -> ([(String, String)], RequestStats) in
            let key = UpstreamDetailKey(packed: entry.key)
            let route = routeStatsByID[key.route], cluster = clusterStatsByID[key.cluster]
            return ([("route", route.name), ("cluster", cluster.name), ("host", cluster.hostAddresses[key.host]),
                     ("method", route.methods[key.method].name)], entry.value)
        }
        renderRequestStats(&p, prefix: "mplab_upstream", what: "route, cluster, host and method", detail, active: false)

        p.family("mplab_cluster_circuit_breaker_overflow_total", .counter, help: "Requests or connections refused by a circuit breaker, by resource.")
        for cl in clusters {
            for r in CircuitBreaker.Resource.allCases {
                p.sample("mplab_cluster_circuit_breaker_overflow_total", [("cluster", cl.name), ("resource", r.description)], cl.breaker.overflows(r))
            }
        }
        p.family("mplab_cluster_circuit_breaker_in_use", .gauge, help: "Circuit-breaker resources in use.")
        for cl in clusters {
            for r in CircuitBreaker.Resource.allCases {
                p.sample("mplab_cluster_circuit_breaker_in_use", [("cluster", cl.name), ("resource", r.description)], cl.breaker.inUse(r))
            }
        }
        p.family("mplab_cluster_retries_total", .counter, help: "Retries started, by cluster.")
        for cl in clusters { p.sample("mplab_cluster_retries_total", [("cluster", cl.name)], cl.stats.retries) }
        p.family("mplab_cluster_connect_failures_total", .counter, help: "Failed connects, by cluster.")
        for cl in clusters { p.sample("mplab_cluster_connect_failures_total", [("cluster", cl.name)], cl.stats.connectFailures) }
        p.family("mplab_cluster_outlier_ejections_total", .counter, help: "Outlier ejections carried out, by reason.")
        p.family("mplab_cluster_outlier_detections_total", .counter, help: "Outliers detected (enforced or not), by reason.")
        for cl in clusters {
            guard let od = cl.outlier else { continue }
            for reason in OutlierDetector.EjectionReason.allCases {
                p.sample("mplab_cluster_outlier_ejections_total", [("cluster", cl.name), ("reason", reason.description)], od.enforced[reason.rawValue])
                p.sample("mplab_cluster_outlier_detections_total", [("cluster", cl.name), ("reason", reason.description)], od.detected[reason.rawValue])
            }
        }
        p.family("mplab_host_ejected", .gauge, help: "1 while a host is ejected by outlier detection.")
        for cl in clusters {
            for (i, address) in cl.stats.hostAddresses.enumerated() {
                p.sample("mplab_host_ejected", [("cluster", cl.name), ("host", address)], cl.isHealthy(i) ? 0 : 1)
            }
        }
        return p.text
    }

    private func renderRequestStats(_ p: inout PrometheusText, prefix: String, what: String, _ rows: [([(String, String)], RequestStats)],
                                    histogram: Bool = true, active: Bool = true) {
        p.family("\(prefix)_requests_total", .counter, help: "Requests, by \(what).")
        for (labels, s) in rows { p.sample("\(prefix)_requests_total", labels, s.total) }
        p.family("\(prefix)_requests_success_total", .counter, help: "Requests answered successfully, by \(what).")
        for (labels, s) in rows { p.sample("\(prefix)_requests_success_total", labels, s.success) }
        p.family("\(prefix)_requests_error_total", .counter, help: "Requests answered with an error, by \(what).")
        for (labels, s) in rows { p.sample("\(prefix)_requests_error_total", labels, s.error) }
        if active {
            p.family("\(prefix)_requests_active", .gauge, help: "Requests in progress, by \(what).")
            for (labels, s) in rows { p.sample("\(prefix)_requests_active", labels, s.active) }
        }
        guard histogram else { return }
        p.family("\(prefix)_local_replies_total", .counter, help: "Requests answered by the proxy itself, by \(what).")
        for (labels, s) in rows { p.sample("\(prefix)_local_replies_total", labels, s.localReplies) }
        p.family("\(prefix)_request_duration_seconds", .histogram, help: "Time from accepting a request to its answer, by \(what).")
        for (labels, s) in rows { p.histogram("\(prefix)_request_duration_seconds", labels, s.time) }
    }
}
