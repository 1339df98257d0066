import MetaProtocol
import Results
import TrafficModel

extension World {
    // MARK: faults

    func apply(_ fault: Fault) {
        switch fault {
        case .crash(let address):
            guard let h = hostIndex[address], hosts[Int(h)].up else { return }
            hosts[Int(h)].up = false
            // Work in the host is lost; its requests' tries fail through the connection resets.
            for ticket in hosts[Int(h)].machine.crash(at: now) { dropJob(Int32(truncatingIfNeeded: ticket)) }
            for p in proxies { p.resetConnections(toHost: h) }
        case .restart(let address):
            guard let h = hostIndex[address] else { return }
            hosts[Int(h)].up = true
        case .slowDown(let address, let factor):
            guard let h = hostIndex[address] else { return }
            hosts[Int(h)].machine.slowFactor = factor
        case .errorBurst(let address, let probability):
            guard let h = hostIndex[address] else { return }
            hosts[Int(h)].machine.errorBurst = probability
        case .partition(let address):
            guard let h = hostIndex[address] else { return }
            hosts[Int(h)].partitioned = true
        case .heal(let address):
            guard let h = hostIndex[address] else { return }
            hosts[Int(h)].partitioned = false
        case .addedLatency(let seconds):
            addedLatencySeconds = seconds
        }
    }

    // MARK: autoscaling

    /// Once a second: if the rate-limited calls of the last window pass the threshold, provision
    /// more hosts (they come online after the provisioning delay).
    func autoscaleCheck() {
        guard let rule = config.autoscaling else { return }
        rateLimitedPerSecond.append(proxies.reduce(0) { $0 + $1.core.counters.localReplies[Int(LocalReplyError.Kind.overLimit.rawValue)] })
        let windowSeconds = max(1, Int(rule.window.seconds))
        let recent = rateLimitedPerSecond.count > windowSeconds
            ? rateLimitedPerSecond.last! - rateLimitedPerSecond[rateLimitedPerSecond.count - 1 - windowSeconds]
            : rateLimitedPerSecond.last!
        if !provisioning, recent > rule.threshold,
            let c = clusters.firstIndex(where: { $0.name == rule.cluster }), clusters[c].hosts.count < rule.maxHosts
        {
            provisioning = true
            schedule(.scaleUp(hosts: Int32(min(rule.hostsPerStep, rule.maxHosts - clusters[c].hosts.count))), at: now + rule.provisioningDelay.nanoseconds)
        }
        if now < durationNs { schedule(.autoscaleCheck, at: now + 1_000_000_000) }
    }

    /// New hosts join the cluster: every proxy gets the configuration with them.
    func scaleUp(_ count: Int) {
        provisioning = false
        guard let rule = config.autoscaling, let c = clusters.firstIndex(where: { $0.name == rule.cluster }) else { return }
        for _ in 0..<count {
            let address = "autoscaled-\(hosts.count):\(clusters[c].name)"
            clusters[c].hosts.append(HostConfiguration(address: address, labels: rule.labels))
            addHost(address, cluster: c)
        }
        var proxyConfiguration = config.proxy
        proxyConfiguration.clusters = clusters
        guard let compiled = try? CompiledConfiguration.compile(proxyConfiguration, capabilities: capabilities) else {
            violations.append("autoscaling produced a configuration that does not compile")
            return
        }
        self.compiled = compiled
        for p in proxies { p.core.apply(compiled) }
        scaleEvents.append(ScaleEvent(seconds: Double(now) / 1e9, hosts: count))
    }
}
