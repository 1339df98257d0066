import MetaProtocol
import TrafficModel

extension WorkloadScript {
    /// Every value the run will use, defaults included, in the workload's own terms: what
    /// `mplab run --dry-run` prints, and what a report keeps so a reader sees what ran.
    public var resolvedDescription: String {
        var out: [String] = []
        func line(_ indent: Int, _ text: String) { out.append(String(repeating: "  ", count: indent) + text) }
        func d(_ x: Duration) -> String { Expectation.duration(x.seconds) }
        func dist(_ x: Distribution) -> String {
            switch x {
            case .constant(let v): Expectation.duration(v)
            case .exponential(let m): "exp:\(Expectation.duration(m))"
            case .lognormal(let m, let s): "lognormal:\(Expectation.duration(m)),\(Expectation.duration(s))"
            case .uniform(let l, let h): "uniform:\(Expectation.duration(l)),\(Expectation.duration(h))"
            case .empirical(let b, _): "empirical (\(b.count) buckets)"
            }
        }
        line(0, "name: \(name)")
        line(0, "description: \(summary)")
        line(0, "mode: \(mode.rawValue)")
        line(0, "seed: \(seed)")
        line(0, "duration: \(d(duration))")
        line(0, "calls: \(callLimit.map(String.init) ?? "no limit")")
        line(0, "warmUp: \(d(warmUp))")
        line(0, "drain: \(d(drainLimit))")
        line(0, "protocol: \(proxy.configuration.protocolName)")
        line(0, "proxy:")
        line(1, "manifests: [\(proxy.manifestFiles.joined(separator: ", "))]")
        line(1, "inline: \(proxy.inlineManifests == nil ? "none" : "yes")")
        line(1, "instances: \(proxy.instances)")
        line(1, "routes:")
        for route in proxy.configuration.routes {
            let match = route.match.map { "\($0.attribute) \($0.invert ? "not " : "")\($0.match)" }.joined(separator: ", ")
            let to = route.destinations.map { "\($0.cluster)\($0.subset.map { "/\($0)" } ?? "") ×\($0.weight)" }.joined(separator: ", ")
            line(2, "- \(route.name.isEmpty ? "(unnamed)" : route.name): match [\(match)] → \(to); timeout \(d(route.timeout ?? RouteConfiguration.defaultTimeout))"
                 + (route.retry.map { "; retries \($0.numRetries)" } ?? "") + (route.mirrors.isEmpty ? "" : "; \(route.mirrors.count) mirror(s)"))
        }
        line(1, "clusters:")
        for c in proxy.configuration.clusters {
            line(2, "- \(c.name): \(c.loadBalancer), \(c.hosts.count) hosts, breaker \(c.circuitBreaker), outlier detection \(c.outlierDetection.map { "\($0)" } ?? "off")")
            for h in c.hosts {
                let labels = h.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                line(3, "- \(h.address) weight \(h.weight)\(labels.isEmpty ? "" : " labels \(labels)")\(h.locality.isEmpty ? "" : " locality \(h.locality)") priority \(h.priority)")
            }
            for s in c.subsets { line(3, "subset \(s.name): \(s.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))") }
        }
        if let l = proxy.configuration.localRateLimit {
            line(1, "localRateLimit: \(l.tokenBucket.map { "\($0)" } ?? "none") with \(l.conditions.count) condition(s)")
            for c in l.conditions { line(2, "- \(c.match.map { "\($0.attribute) \($0.match)" }.joined(separator: ", ")): \(c.tokenBucket)") }
        }
        if let g = proxy.configuration.globalRateLimit {
            line(1, "globalRateLimit: domain \(g.domain), timeout \(d(g.timeout)), on failure \(g.denyOnFailure ? "deny" : "allow")")
        }
        line(0, "services:")
        for c in proxy.configuration.clusters {
            let s = services.first { $0.cluster == c.name } ?? ServiceModel(cluster: c.name, behaviour: HostBehaviour())
            line(1, "\(c.name):\(services.contains { $0.cluster == c.name } ? "" : " (not in the workload: the default host)")")
            describe(s.behaviour, 2, &out, dist)
            for (address, b) in s.overrides.sorted(by: { $0.key < $1.key }) {
                line(2, "host \(address):")
                describe(b, 3, &out, dist)
            }
        }
        line(0, "network:")
        line(1, "clientToProxy: \(dist(network.clientToProxy)) one way")
        line(1, "proxyToHost: \(dist(network.proxyToHost)) one way")
        line(1, "bandwidth: \(network.bandwidth.map { "\(ByteSize.describe(Int($0)))/s" } ?? "no limit")")
        line(1, "fromDirectPath: \(network.fromDirectPath)")
        line(0, "clients:")
        for c in clients {
            line(1, "- name: \(c.name)")
            line(2, "arrivals: \(c.arrivals)")
            line(2, "payload: \(c.payloadDistribution.map { "\($0) bytes" } ?? c.payloadSizes.map(ByteSize.describe).joined(separator: ", "))")
            line(2, "instance: \(c.proxyInstance.map(String.init) ?? "all in turn")")
            line(2, "mix:")
            for t in c.mix {
                line(3, "- weight \(Expectation.number(t.weight))\(t.oneway ? " oneway" : ""): \(t.attributes.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
            }
        }
        line(0, "faults:\(faults.isEmpty ? " none" : "")")
        for f in faults { line(1, "- at \(d(f.at)): \(Self.describe(f.fault))") }
        if let a = autoscaling {
            line(0, "autoscaling: \(a.cluster) +\(a.hostsPerStep) hosts when rate-limited calls in \(d(a.window)) pass \(a.threshold), after \(d(a.provisioningDelay)), up to \(a.maxHosts)")
        }
        if let s = rateLimitService {
            line(0, "rateLimitService: \(s.bucket), latency \(dist(s.latency)), failure probability \(Expectation.number(s.failureProbability))")
        }
        line(0, "real:")
        line(1, "rateScale: \(Expectation.number(real.rateScale))")
        line(1, "duration: \(real.duration.map(d) ?? "the workload's (\(d(duration)))")")
        line(1, "connections: \(real.connections)")
        line(1, "requestTimeout: \(d(real.requestTimeout))")
        line(1, "proxyEventLoops: \(real.proxyEventLoops)")
        if let o = overhead {
            line(0, "overhead:")
            line(1, "protocol: \(o.protocolName)")
            line(1, "sizes: [\(o.sizes.map(ByteSize.describe).joined(separator: ", "))]")
            line(1, "rounds: \(o.rounds) of \(d(o.roundDuration)) per path and size, at \(Expectation.number(o.rate))/s on \(o.connections) connection(s)")
            line(1, "haproxy: \(o.haproxy)")
        } else {
            line(0, "overhead: none")
        }
        if let c = capacity {
            line(0, "capacity:")
            line(1, "objective: p\(Expectation.number(c.percentile)) < \(Expectation.duration(c.bound)), errors <= \(Expectation.number(c.maxErrorShare * 100))%")
            line(1, "driver: \(c.driver.rawValue)")
            line(1, "search: from \(Expectation.number(c.start))/s × \(Expectation.number(c.growth)) while passing, then bisect to \(Expectation.number(c.precision * 100))%, at most \(Expectation.number(c.ceiling))/s")
            line(1, "simulated points: \(c.replications) replications of \(d(c.pointDuration)) (warm-up \(d(c.warmUp)))")
            line(1, "real points: \(c.rounds) rounds of \(d(c.roundDuration))")
            line(1, "concurrency: [\(c.concurrency.map(String.init).joined(separator: ", "))] (simulated levels \(d(c.sweepDuration)) each)")
            line(1, "recommendation: headroom \(Expectation.number(c.headroom)), fillInterval \(d(c.fillInterval)), per \(c.methodAttribute)")
            line(1, "whatIf: [\(c.whatIfMultiples.map(Expectation.number).joined(separator: ", "))]× capacity, flash crowd \(Expectation.number(c.flashCrowd))×, \(d(c.whatIfDuration)) each")
        }
        line(0, "replications: \(replications)")
        line(0, "timeSeriesInterval: \(d(timeSeriesInterval))")
        line(0, "expectations:")
        for e in expectations { line(1, "- \(e.text)") }
        return out.joined(separator: "\n") + "\n"
    }

    static func describe(_ fault: Fault) -> String {
        switch fault {
        case .crash(let h): "crash \(h)"
        case .restart(let h): "restart \(h)"
        case .slowDown(let h, let factor): factor == 1 ? "\(h) back to its speed" : "\(h) \(Expectation.number(factor))× slower"
        case .errorBurst(let h, let p): p.map { "\(h) answers errors with probability \(Expectation.number($0))" } ?? "\(h) back to its own errors"
        case .partition(let h): "partition \(h)"
        case .heal(let h): "heal \(h)"
        case .addedLatency(let s): s == 0 ? "added latency removed" : "\(Expectation.duration(s)) added on every proxy-to-host link"
        }
    }

    private func describe(_ b: HostBehaviour, _ indent: Int, _ out: inout [String], _ dist: (Distribution) -> String) {
        let pad = String(repeating: "  ", count: indent)
        out.append(pad + "workers: \(b.workers.map(String.init) ?? "unlimited")")
        out.append(pad + "queueLimit: \(b.queueLimit.map(String.init) ?? "unlimited")")
        out.append(pad + "serviceTime: \(dist(b.serviceTime))")
        for m in b.serviceTimeByMethod { out.append(pad + "method \(m.method): \(dist(m.serviceTime))") }
        out.append(pad + "secondsPerByte: \(b.secondsPerByte)")
        out.append(pad + "errors: \(b.errors.isEmpty ? "none" : b.errors.map { "\($0.category) \(Expectation.number($0.probability))" }.joined(separator: ", "))")
        switch b.responseSize {
        case .echo: out.append(pad + "response: echo")
        case .sized(let d): out.append(pad + "response: \(d) bytes")
        }
        out.append(pad + "speed: \(Expectation.number(b.speedFactor))")
        for p in b.phases { out.append(pad + "phase at \(Expectation.duration(p.at.seconds)): \(p)") }
    }
}
