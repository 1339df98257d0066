extension ProxyCore {
    // MARK: routing and filters

    /// Matches the request against the routes (first match wins) and starts the filter chain.
    func route(_ key: SlabKey) {
        guard let record = requests[key] else { return }
        let attributes = record.exchange.request.attributes
        guard let routeIndex = record.configuration.routeTable.firstMatch(attributes) else {
            finishLocally(key, LocalReplyError(.routeNotFound, message: "no route for \(record.exchange.request.operationName)"))
            return
        }
        let route = record.configuration.routes[routeIndex]
        let hashKey = route.hashPolicy.isEmpty ? nil : Self.hashKey(attributes, policy: route.hashPolicy)
        requests.update(key) {
            $0.route = route.index
            $0.hashKey = hashKey
            $0.exchange.route = RouteView(name: route.name, fault: route.fault, requestMutation: route.requestMutation, responseMutation: route.responseMutation)
        }
        startDeadline(key, .request, route.timeout)
        runFilters(key)
    }

    /// xxHash64 over the sorted values of the hash-policy attributes (absent ones skipped).
    static func hashKey(_ attributes: Attributes, policy: [String]) -> UInt64 {
        let values = policy.compactMap { attributes[$0]?.string }.sorted()
        return XXHash64.hash(values.joined(separator: "\u{1f}"))
    }

    /// Runs the filter chain from where it stopped; on reaching its end, dispatches upstream.
    func runFilters(_ key: SlabKey) {
        guard var record = requests[key] else { return }
        let filters = record.chain.filters
        var i = record.nextFilter
        while i < filters.count {
            let decision = filters[i].onRequest(&record.exchange, now: now, random: &random)
            i += 1
            switch decision {
            case .proceed:
                continue
            case .reply(let error):
                counters.filterReplies[filters[i - 1].name, default: 0] += 1
                requests.update(key) { $0.exchange = record.exchange }
                finishLocally(key, error)
                return
            case .delay(let duration):
                counters.filterDelays[filters[i - 1].name, default: 0] += 1
                record.nextFilter = i
                record.phase = .paused
                record.resumeGeneration &+= 1
                let generation = record.resumeGeneration
                requests.update(key) { $0 = record }
                schedule(.resumeFilters(key, generation: generation), at: now + duration)
                return
            case .askRateLimitService(let domain, let descriptors, let timeout, let denyOnFailure):
                record.nextFilter = i
                record.phase = .paused
                requests.update(key) { $0 = record }
                guard let service = rateLimitService else {
                    counters.globalRateLimitErrors += 1
                    rateLimitFailed(key, denyOnFailure: denyOnFailure)
                    return
                }
                let call = RateLimitCallID(nextRateLimitCall)
                nextRateLimitCall += 1
                rateLimitCalls[call] = key
                schedule(.rateLimitTimeout(call), at: now + timeout)
                service.shouldRateLimit(call, domain: domain, descriptors: descriptors)
                return
            }
        }
        record.nextFilter = filters.count
        requests.update(key) { $0 = record }
        dispatch(key)
    }

    /// Picks the destination, sends mirrors, takes the request from the circuit breaker and
    /// starts the first try.
    func dispatch(_ key: SlabKey) {
        guard let record = requests[key], let routeIndex = record.route else { return }
        let route = record.configuration.routes[routeIndex]
        var target = route.destinations[0].target
        if route.destinations.count > 1 {
            var roll = Int(random.next(below: UInt64(route.totalWeight)))
            for d in route.destinations {
                if roll < d.weight {
                    target = d.target
                    break
                }
                roll -= d.weight
            }
        }
        for mirror in route.mirrors where random.chance(percent: mirror.percentage) {
            sendMirror(record.exchange, requestMutation: record.exchange.requestMutation, to: mirror.target, hashKey: record.hashKey)
        }
        guard case .cluster(let clusterIndex, let subset) = target, let cluster = runtime(for: clusterIndex, in: record.configuration) else {
            let name: String = if case .missing(let n) = target { n } else { "?" }
            finishLocally(key, LocalReplyError(.clusterNotFound, message: "no cluster \(name)"))
            return
        }
        requests.update(key) {
            $0.cluster = cluster
            $0.subset = subset
            $0.exchange.cluster = cluster.name
        }
        guard cluster.breaker.tryTake(.requests) else {
            finishLocally(key, LocalReplyError(.overflow, message: "circuit breaker: max requests"))
            return
        }
        requests.update(key) { $0.holds.insert(.request) }
        startTry(key)
    }

    /// The runtime serving cluster `index` of `configuration`: the current one when the
    /// configuration is current, else the current runtime of the same name (a request that
    /// started before a swap goes on with the cluster as it is now).
    func runtime(for index: Int, in configuration: CompiledConfiguration) -> ClusterRuntime? {
        if configuration === self.configuration { return clusters[index] }
        let name = configuration.clusters[index].name
        return clusters.first { $0.name == name }
    }

    // MARK: answers

    /// Forwards an upstream answer through the response filters to the client.
    func respond(_ key: SlabKey, with response: Message) {
        guard var record = requests[key] else { return }
        for filter in record.chain.filters.reversed() {
            if case .reply(let error) = filter.onResponse(&record.exchange, response: response, now: now) {
                requests.update(key) { $0.exchange = record.exchange }
                finishLocally(key, error, runResponseFilters: false)
                return
            }
        }
        requests.update(key) { $0.exchange = record.exchange }
        var answer = response
        answer.requestID = record.exchange.request.requestID
        downstream.send(answer, mutation: record.exchange.responseMutation, to: record.exchange.downstream)
        counters.upstreamResponses += 1
        complete(key, .response(response.status ?? ResponseStatus(category: .success, code: 0)))
    }

    /// Answers the request with a protocol-native error reply. A oneway call has no answer:
    /// nothing is sent, and it is counted under the same reason.
    func finishLocally(_ key: SlabKey, _ error: LocalReplyError, runResponseFilters: Bool = true) {
        guard var record = requests[key] else { return }
        if runResponseFilters {
            for filter in record.chain.filters.reversed() { _ = filter.onResponse(&record.exchange, response: nil, now: now) }
            requests.update(key) { $0.exchange = record.exchange }
        }
        if !record.isOneway {
            downstream.sendLocalReply(error, to: record.exchange.request, downstream: record.exchange.downstream)
        }
        counters.localReplies[Int(error.kind.rawValue)] += 1
        complete(key, .localReply(error.kind))
    }

    /// Ends a request: gives back everything it holds, tells the filters, forgets it.
    func complete(_ key: SlabKey, _ outcome: ExchangeOutcome) {
        stopDeadline(key, .request)
        stopDeadline(key, .tryTimeout)
        guard var record = requests.remove(key) else { return }
        endTry(&record)
        if let cluster = record.cluster {
            if record.holds.contains(.request) { cluster.breaker.release(.requests) }
            if record.holds.contains(.retry) { cluster.breaker.release(.retries) }
            if record.holds.contains(.pending) {
                cluster.breaker.release(.pendingRequests)
                cluster.pools[record.host].removePending(key)
            }
            switch outcome {
            case .response(let s) where s.isSuccess: cluster.stats.requests.success += 1
            case .oneway: cluster.stats.requests.success += 1
            default: cluster.stats.requests.error += 1
            }
        }
        record.holds = []
        record.exchange.outcome = outcome
        if let cluster = record.cluster, record.host >= 0, let routeName = record.exchange.route?.name, let routeStats = routeStatsNamed(routeName) {
            let method = routeStats.methodSlot(record.exchange.request.attributes[AttributeKey.method])
            let detail = UpstreamDetailKey(route: routeStats.id, cluster: cluster.stats.id, host: record.host, method: method)
            upstreamDetail[detail, default: RequestStats()].record(outcome, elapsed: now - record.exchange.acceptedAt)
        }
        counters.active -= 1
        for filter in record.chain.filters { filter.onComplete(record.exchange, now: now) }
    }
}
