extension ProxyCore {
    /// Sets a core timer, asking the driver for a wake-up if it is the soonest.
    func schedule(_ event: TimerEvent, at deadline: Timestamp) {
        timers.schedule(event, at: deadline)
        if requestedWakeUp == nil || deadline < requestedWakeUp! {
            requestedWakeUp = deadline
            clock.requestWakeUp(at: deadline)
        }
    }

    /// Fires every core timer due at the driver's current time. Drivers call it when a
    /// requested wake-up comes (calling it early or twice is harmless).
    public func processTimers() {
        readClock()
        requestedWakeUp = nil
        while let (_, event) = timers.popDue(now: now) { fire(event) }
        if let next = timers.nextDeadline, requestedWakeUp == nil || next < requestedWakeUp! {
            requestedWakeUp = next
            clock.requestWakeUp(at: next)
        }
    }

    private func fire(_ event: TimerEvent) {
        switch event {
        case .deadlineQueue(let q):
            expireDeadlines(q)
        case .retry(let key, let attempt):
            guard let record = requests[key], record.attempt == attempt, record.phase == .backoff else { return }
            startTry(key)
        case .resumeFilters(let key, let generation):
            guard let record = requests[key], record.phase == .paused, record.resumeGeneration == generation else { return }
            record.phase = .filtering
            runFilters(key)
        case .rateLimitTimeout(let call):
            guard let (key, denyOnFailure) = rateLimitCalls.removeValue(forKey: call), requests[key] != nil else { return }
            counters.globalRateLimitTimeouts += 1
            rateLimitFailed(key, denyOnFailure: denyOnFailure)
        case .connectTimeout(let id):
            guard connections[id.rawValue]?.state == .connecting else { return }
            counters.upstreamConnectTimeouts += 1
            upstream.close(id)
            upstreamConnectFailed(id)
        case .outlierSweep(let serial):
            guard let cluster = clusters.first(where: { $0.serial == serial }), cluster.outlier != nil else { return }
            if cluster.outlier!.sweep(now: now, random: &random) { cluster.healthChanged() }
            schedule(.outlierSweep(serial), at: cluster.outlier!.nextSweep)
        case .idleSweep(let serial):
            guard let cluster = clusters.first(where: { $0.serial == serial }), let idle = cluster.compiled.configuration.idleTimeout else { return }
            closeIdleConnections(cluster, idleFor: idle)
            schedule(.idleSweep(serial), at: now + Self.idleSweepPeriod(idle))
        }
    }

    /// Sweeps per idle timeout: an idle connection closes between 1 and 1.25 timeouts after its
    /// last request, one timer per cluster rather than one per connection.
    static func idleSweepPeriod(_ idle: Duration) -> Duration { max(.milliseconds(1), idle / 4) }

    /// Closes `cluster`'s connections that carried nothing for `idle`, in pool order.
    func closeIdleConnections(_ cluster: ClusterRuntime, idleFor idle: Duration) {
        for host in cluster.pools.indices where cluster.pools[host].pendingCount == 0 {
            let due = cluster.pools[host].connections.filter { id in
                connections.withValue(id.rawValue) { $0.state == .ready && $0.inFlight.isEmpty && now - $0.lastActiveAt >= idle } == true
            }
            for id in due {
                counters.upstreamConnectionsIdleClosed += 1
                upstream.close(id)
                connectionGone(id, failure: .reset)
            }
        }
    }
}
