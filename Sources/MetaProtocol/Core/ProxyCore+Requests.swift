extension ProxyCore {
    // MARK: routing and filters

    /// Matches the request against the routes (first match wins) and starts the filter chain.
    func route(_ key: SlabKey, _ known: RequestRecord? = nil) {
        guard let record = known ?? requests[key] else { return }
        guard let routeIndex = record.configuration.routeTable.firstMatch(record.exchange.request.attributes) else {
            finishLocally(key, LocalReplyError(.routeNotFound, message: "no route for \(record.exchange.request.operationName)"))
            return
        }
        let route = record.configuration.routes[routeIndex]
        record.route = route
        record.hashKey = route.hashPolicy.isEmpty ? nil : Self.hashKey(record.exchange.request.attributes, policy: route.hashPolicy)
        record.exchange.route = route.view
        startDeadline(key, .request, route.timeout, record)
        runFilters(key, record)
    }

    /// xxHash64 over the sorted values of the hash-policy attributes (absent ones skipped).
    static func hashKey(_ attributes: Attributes, policy: [String]) -> UInt64 {
        let values = policy.compactMap { attributes[$0]?.string }.sorted()
        return XXHash64.hash(values.joined(separator: "\u{1f}"))
    }

    /// Runs the filter chain from where it stopped; on reaching its end, dispatches upstream.
    func runFilters(_ key: SlabKey, _ known: RequestRecord? = nil) {
        guard let record = known ?? requests[key] else { return }
        let filters = record.chain.requestFilters
        while record.nextFilter < filters.count {
            let filter = filters[record.nextFilter]
            record.nextFilter += 1
            switch filter.onRequest(&record.exchange, now: now, random: &random) {
            case .proceed:
                continue
            case .reply(let error):
                counters.filterReplies[filter.name, default: 0] += 1
                finishLocally(key, error)
                return
            case .delay(let duration):
                counters.filterDelays[filter.name, default: 0] += 1
                record.phase = .paused
                record.resumeGeneration &+= 1
                schedule(.resumeFilters(key, generation: record.resumeGeneration), at: now + duration)
                return
            case .askRateLimitService(let domain, let descriptors, let timeout, let denyOnFailure):
                record.phase = .paused
                guard let service = rateLimitService else {
                    counters.globalRateLimitErrors += 1
                    rateLimitFailed(key, denyOnFailure: denyOnFailure)
                    return
                }
                let call = RateLimitCallID(nextRateLimitCall)
                nextRateLimitCall += 1
                rateLimitCalls[call] = (key, denyOnFailure)
                schedule(.rateLimitTimeout(call), at: now + timeout)
                service.shouldRateLimit(call, domain: domain, descriptors: descriptors, timeout: timeout)
                return
            }
        }
        dispatch(key, record)
    }

    /// Picks the destination, sends mirrors, takes the request from the circuit breaker and
    /// starts the first try.
    func dispatch(_ key: SlabKey, _ known: RequestRecord? = nil) {
        guard let record = known ?? requests[key], let route = record.route else { return }
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
            sendMirror(record.exchange, requestMutation: record.exchange.requestMutation, to: mirror.target, in: record.configuration, hashKey: record.hashKey)
        }
        guard let (cluster, subset) = resolve(target, in: record.configuration) else {
            let name: String = if case .missing(let n) = target { n } else { "the cluster as configured" }
            finishLocally(key, LocalReplyError(.clusterNotFound, message: "no cluster \(name)"))
            return
        }
        record.cluster = cluster
        record.subset = subset
        record.exchange.clusterStats = cluster.stats
        guard cluster.breaker.tryTake(.requests) else {
            finishLocally(key, LocalReplyError(.overflow, message: "circuit breaker: max requests"))
            return
        }
        record.holds.insert(.request)
        startTry(key, record)
    }

    /// The runtime and subset serving `target` of `configuration`. For the current configuration
    /// that is its own cluster; a request that started before a swap goes on with the current
    /// cluster of the same name, its subset found again by name (nil if it is gone).
    func resolve(_ target: DestinationTarget, in configuration: CompiledConfiguration) -> (ClusterRuntime, Int?)? {
        guard case .cluster(let index, let subset) = target else { return nil }
        if configuration === self.configuration { return (clusters[index], subset) }
        let compiled = configuration.clusters[index]
        guard let runtime = clusters.first(where: { $0.name == compiled.name }) else { return nil }
        guard let subset else { return (runtime, nil) }
        guard let same = runtime.compiled.subsetIndex(compiled.subsets[subset].name) else { return nil }
        return (runtime, same)
    }

    // MARK: answers

    /// Forwards an upstream answer through the response filters to the client.
    func respond(_ key: SlabKey, _ known: RequestRecord? = nil, with response: Message) {
        guard let record = known ?? requests[key] else { return }
        for filter in record.chain.responseFilters {
            if case .reply(let error) = filter.onResponse(&record.exchange, response: response, now: now) {
                finishLocally(key, error, runResponseFilters: false)
                return
            }
        }
        var answer = response
        answer.requestID = record.exchange.request.requestID
        let mutation = record.exchange.responseMutation, client = record.exchange.downstream
        counters.upstreamResponses += 1
        // Bookkeeping first, then the send: a transport may call back into the core from
        // `send` (a client gone), and must find the request finished, not half-way.
        complete(key, record, .response(response.status ?? ResponseStatus(category: .success, code: 0)))
        downstream.send(answer, mutation: mutation, to: client)
    }

    /// The driver could not write an upstream response the core handed it (its codec refused to
    /// encode it): the client got a local reply of `kind` instead, or nothing (nil: its
    /// connection was closed). The answer is counted as what the client got, so that
    /// `accepted = answered + dropped` holds for what clients saw. (The route, cluster and host
    /// figures and the access log, written as the request finished, keep the upstream's outcome;
    /// ``CoreCounters/undeliveredResponses`` says how many differ.)
    public func responseNotDelivered(replacedBy kind: LocalReplyError.Kind?) {
        readClock()
        counters.upstreamResponses -= 1
        if let kind {
            counters.localReplies[Int(kind.rawValue)] += 1
        } else {
            counters.dropped += 1
        }
        counters.undeliveredResponses += 1
    }

    /// Answers the request with a protocol-native error reply. A oneway call has no answer:
    /// nothing is sent, and it is counted under the same reason.
    func finishLocally(_ key: SlabKey, _ error: LocalReplyError, runResponseFilters: Bool = true) {
        guard let record = requests[key] else { return }
        if runResponseFilters {
            for filter in record.chain.responseFilters { _ = filter.onResponse(&record.exchange, response: nil, now: now) }
        }
        let request = record.isOneway ? nil : record.exchange.request
        let client = record.exchange.downstream
        counters.localReplies[Int(error.kind.rawValue)] += 1
        complete(key, record, .localReply(error.kind))
        if let request { downstream.sendLocalReply(error, to: request, downstream: client) }
    }

    /// Ends a request: gives back everything it holds, tells the filters, forgets it.
    func complete(_ key: SlabKey, _ known: RequestRecord? = nil, _ outcome: ExchangeOutcome) {
        stopDeadline(key, .request, known)
        stopDeadline(key, .tryTimeout, known)
        // A stale `known` (its slot already reused) must not finish the slot's new request.
        guard known == nil || requests[key] === known, let record = requests.remove(key) else { return }
        endTry(record)
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
            if record.host >= 0, let route = record.route, let routeStats = record.chain.routeStats[safe: route.index] {
                let method = record.exchange.methodSlot >= 0 ? record.exchange.methodSlot : routeStats.methodSlot(record.exchange.request.attributes[AttributeKey.method])
                if let detail = UpstreamDetailKey(route: routeStats.id, cluster: cluster.stats.id, host: record.host, method: method).packed {
                    let elapsed = now - record.exchange.acceptedAt
                    if upstreamDetail.withValue(detail, { $0.record(outcome, elapsed: elapsed) }) == nil {
                        var stats = RequestStats()
                        stats.record(outcome, elapsed: elapsed)
                        upstreamDetail.set(detail, stats)
                    }
                }
            }
        }
        record.holds = []
        record.exchange.outcome = outcome
        counters.active -= 1
        for filter in record.chain.completionFilters { filter.onComplete(record.exchange, now: now) }
        recycle(record)
    }
}
