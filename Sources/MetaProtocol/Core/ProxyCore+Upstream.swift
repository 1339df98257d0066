extension ProxyCore {
    // MARK: tries

    /// Picks a host and sends a try there, or queues it for a connection.
    func startTry(_ key: SlabKey, _ known: RequestRecord? = nil) {
        guard let record = known ?? requests[key], let cluster = record.cluster else { return }
        guard let host = cluster.pick(subset: record.subset, hashKey: record.hashKey, avoid: record.failedHosts, random: &random) else {
            finishLocally(key, LocalReplyError(.noHealthyUpstream, message: "no host in \(cluster.name)"))
            return
        }
        record.attempt += 1
        record.host = host
        record.exchange.tries = record.attempt
        record.exchange.hostIndex = host
        cluster.stats.requests.total += 1
        cluster.stats.hosts[host].total += 1
        if let connection = readyConnection(cluster, host) {
            send(key, record, on: connection)
            return
        }
        // No connection can take it now: queue it, and open a connection if the pool may grow.
        // Queued before the connect is asked for: a transport may connect at once, from inside
        // `connect`, and the new connection must find the request waiting.
        let pool = cluster.pools[host]
        var open = false
        if poolMayGrow(cluster, host, waiting: pool.pendingCount + 1) {
            if cluster.breaker.tryTake(.connections) {
                open = true
            } else if pool.connections.isEmpty {
                tryFailed(key, .overflow("circuit breaker: max connections"))
                return
            }
        }
        guard cluster.breaker.tryTake(.pendingRequests) else {
            if open { openConnection(cluster, host) }
            tryFailed(key, .overflow("circuit breaker: max pending requests"))
            return
        }
        cluster.stats.pendingTotal += 1
        cluster.pools[host].enqueue(key)
        record.phase = .pending
        record.holds.insert(.pending)
        if open { openConnection(cluster, host) }
    }

    /// Whether `host`'s pool may open another connection with `waiting` requests queued: a
    /// multiplexed pool up to its connections per host; a pool of one-request connections
    /// while fewer connections are opening than requests wait (as an HTTP/1 pool does).
    func poolMayGrow(_ cluster: ClusterRuntime, _ host: Int, waiting: Int) -> Bool {
        let connections = cluster.pools[host].connections
        if cluster.compiled.configuration.multiplexing { return connections.count < cluster.compiled.configuration.connectionsPerHost }
        let opening = connections.count { self.connections[$0.rawValue]?.state == .connecting }
        return opening < waiting
    }

    /// A connection to `host` that can take a request now: the least busy ready one.
    func readyConnection(_ cluster: ClusterRuntime, _ host: Int) -> UpstreamConnectionID? {
        var best: UpstreamConnectionID?
        var bestLoad = Int.max
        for id in cluster.pools[host].connections {
            // Read in place: a copy of the connection would retain its in-flight table.
            let load = connections.withValue(id.rawValue) { $0.canTakeRequest ? $0.inFlight.count : Int.max } ?? Int.max
            if load < bestLoad {
                best = id
                bestLoad = load
            }
        }
        return best
    }

    func openConnection(_ cluster: ClusterRuntime, _ host: Int) {
        let id = UpstreamConnectionID(nextConnectionID)
        nextConnectionID += 1
        connections.set(id.rawValue, UpstreamConnection(cluster: cluster, host: host, state: .connecting, multiplexed: cluster.compiled.configuration.multiplexing))
        cluster.pools[host].connections.append(id)
        cluster.stats.connectionsOpened += 1
        counters.upstreamConnects += 1
        schedule(.connectTimeout(id), at: now + cluster.compiled.configuration.connectTimeout)
        upstream.connect(id, to: cluster.hosts[host].address)
    }

    /// Puts the current try on the wire.
    func send(_ key: SlabKey, _ known: RequestRecord? = nil, on id: UpstreamConnectionID) {
        guard let record = known ?? requests[key] else { return }
        let bits = record.configuration.capabilities.requestIDBits
        guard let cluster = record.cluster,
            let upstreamID = connections.withValue(id.rawValue, { $0.allocateRequestID(bits: bits) })
        else { return }
        var message = record.exchange.request
        message.requestID = upstreamID
        connections.withValue(id.rawValue) { $0.lastActiveAt = now }
        if record.holds.contains(.pending) {
            record.holds.remove(.pending)
            cluster.breaker.release(.pendingRequests)
        }
        record.connection = id
        record.upstreamID = upstreamID
        record.tryStartedAt = now
        if record.isOneway {
            // No answer will come: the call is done once it is written.
            let mutation = record.exchange.requestMutation
            counters.onewayForwarded += 1
            complete(key, record, .oneway)
            upstream.send(message, mutation: mutation, on: id)
            return
        }
        let attempt = record.attempt
        connections.withValue(id.rawValue) { $0.inFlight.set(upstreamID, .request(key, attempt: attempt)) }
        record.phase = .inFlight
        record.countedActive = true
        cluster.activity.activeRequests[record.host] += 1
        cluster.stats.hosts[record.host].active += 1
        if let perTry = record.route?.retry?.perTryTimeout {
            startDeadline(key, .tryTimeout, perTry, record)
        }
        upstream.send(message, mutation: record.exchange.requestMutation, on: id)
    }

    /// Takes the current try off the wire or out of the queue, without answering: its answer,
    /// if one comes, is dropped.
    func endTry(_ record: RequestRecord) {
        guard let cluster = record.cluster else { return }
        if record.countedActive {
            cluster.activity.activeRequests[record.host] -= 1
            cluster.stats.hosts[record.host].active -= 1
            record.countedActive = false
        }
        let upstreamID = record.upstreamID
        // Read what is needed, then mutate: holding a copy of the connection while changing
        // the stored one would copy its in-flight table.
        if let id = record.connection,
            let multiplexed = connections.withValue(id.rawValue, { $0.inFlight[upstreamID] != nil ? $0.multiplexed : nil }) ?? nil
        {
            if multiplexed {
                connections.withValue(id.rawValue) {
                    $0.inFlight.set(upstreamID, .abandoned)
                    $0.unanswered += 1
                }
                closeIfDone(id)
            } else {
                // A connection that carries one request at a time would stay busy until the
                // abandoned answer came, if ever: close it instead.
                connections.withValue(id.rawValue) { $0.inFlight.remove(upstreamID) }
                upstream.close(id)
                connectionGone(id, failure: .reset)
            }
        }
        record.connection = nil
    }

    // MARK: upstream entry points

    /// Connection `id` is up: it serves the requests waiting for its host.
    public func upstreamConnected(_ id: UpstreamConnectionID) {
        readClock()
        guard let (cluster, host, state) = connections[id.rawValue].map({ ($0.cluster, $0.host, $0.state) }), state == .connecting else { return }
        connections.withValue(id.rawValue) {
            $0.state = .ready
            $0.lastActiveAt = now
        }
        drainPending(cluster, host)
    }

    /// Sends waiting requests of `host` on its connections while they can take them; with
    /// one-request connections, opens more while requests still wait.
    func drainPending(_ cluster: ClusterRuntime, _ host: Int) {
        while cluster.pools[host].pendingCount > 0, let id = readyConnection(cluster, host), let key = cluster.pools[host].dequeue() {
            send(key, on: id)
        }
        // One-request connections: one opening per request still waiting, as the breaker
        // allows (without counting an overflow: no request is refused here).
        while !cluster.compiled.configuration.multiplexing, cluster.pools[host].pendingCount > 0,
            poolMayGrow(cluster, host, waiting: cluster.pools[host].pendingCount), cluster.breaker.canTake(.connections)
        {
            _ = cluster.breaker.tryTake(.connections)
            openConnection(cluster, host)
        }
    }

    /// Connection `id` could not be made.
    public func upstreamConnectFailed(_ id: UpstreamConnectionID) {
        readClock()
        guard let connection = connections[id.rawValue], connection.state == .connecting else { return }
        counters.upstreamConnectFailures += 1
        connection.cluster.stats.connectFailures += 1
        connectionGone(id, failure: .connectFailure)
    }

    /// Connection `id` closed or broke; tries in flight on it failed.
    public func upstreamClosed(_ id: UpstreamConnectionID) {
        readClock()
        guard let connection = connections[id.rawValue] else { return }
        if connection.state == .connecting {
            upstreamConnectFailed(id)
            return
        }
        if !connection.inFlight.isEmpty { counters.upstreamResets += 1 }
        connectionGone(id, failure: .reset)
    }

    /// Forgets a connection; fails what was riding on it and, if its host has no connection
    /// left, what was waiting for one.
    func connectionGone(_ id: UpstreamConnectionID, failure: TryFailure) {
        guard let connection = connections.remove(id.rawValue) else { return }
        let cluster = connection.cluster
        cluster.breaker.release(.connections)
        cluster.pools[connection.host].connections.removeAll { $0 == id }
        // Tries in flight, in upstream-id order so the outcome never depends on hash order.
        for (_, entry) in connection.inFlight.sortedEntries {
            if case .request(let key, let attempt) = entry, let record = requests[key], record.attempt == attempt, record.connection == id {
                tryFailed(key, failure)
            }
        }
        if case .connectFailure = failure { recordOutcome(cluster, connection.host, .localOriginFailure) }
        let host = connection.host
        guard cluster.pools[host].pendingCount > 0 else { return }
        // Requests still wait for this host. After a close, connections are opened for them as
        // the pool allows; after a failed connect, only the connections already opening may
        // serve them.
        if case .reset = failure {
            if cluster.compiled.configuration.multiplexing {
                if cluster.pools[host].connections.isEmpty, cluster.breaker.tryTake(.connections) { openConnection(cluster, host) }
            } else {
                drainPending(cluster, host)
            }
        }
        guard cluster.pools[host].connections.isEmpty else { return }
        // None is left: they fail (a retry may take them elsewhere). The queue is emptied
        // before any fails, so a request arriving from inside a reply is not failed with them.
        var waiting: [SlabKey] = []
        while let key = cluster.pools[host].dequeue() { waiting.append(key) }
        for key in waiting {
            requests[key]?.holds.remove(.pending)
            cluster.breaker.release(.pendingRequests)
            tryFailed(key, failure)
        }
    }

    /// A frame from connection `id`: an answer to one of its requests (matched by request id),
    /// to a mirror, or to a try already given up.
    public func upstreamReceived(_ message: Message, on id: UpstreamConnectionID) {
        readClock()
        guard let (cluster, host, multiplexed) = connections.withValue(id.rawValue, { ($0.cluster, $0.host, $0.multiplexed) }) else { return }
        guard message.type.isReply, message.type != .heartbeatReply else {
            counters.unexpectedUpstreamFrames += 1
            return
        }
        guard let entry = connections.withValue(id.rawValue, { connection in
            connection.timeoutsSinceAnswer = 0
            connection.lastActiveAt = now
            return connection.inFlight.remove(message.requestID)
        }) ?? nil else {
            counters.unknownResponses += 1
            return
        }
        switch entry {
        case .mirror:
            counters.mirrorResponsesDropped += 1
            connections.withValue(id.rawValue) { $0.unanswered -= 1 }
        case .abandoned:
            counters.lateResponsesDropped += 1
            connections.withValue(id.rawValue) { $0.unanswered -= 1 }
        case .request(let key, let attempt):
            if let record = requests[key], record.attempt == attempt, record.connection == id {
                tryAnswered(key, record, message)
            } else {
                counters.lateResponsesDropped += 1
            }
        }
        if cluster.retired {
            closeIfIdle(id)
        } else if !multiplexed {
            drainPending(cluster, host)
        } else {
            closeIfDone(id)
        }
    }

    /// Closes connection `id` once it is clogged or retired and every entry left on it is
    /// unanswered: nothing on it is awaited any more.
    func closeIfDone(_ id: UpstreamConnectionID) {
        guard let retiring = connections.withValue(id.rawValue, { c in
            (c.isClogged || c.retiring) && c.inFlight.count == c.unanswered ? c.retiring : nil
        }) ?? nil else { return }
        if !retiring { counters.upstreamConnectionsClogged += 1 }
        upstream.close(id)
        connectionGone(id, failure: .reset)
    }

    /// Closes connection `id` if nothing rides on it and nothing waits for its host: how a
    /// runtime retired by a swap lets its connections go once its last try is answered.
    func closeIfIdle(_ id: UpstreamConnectionID) {
        guard let connection = connections[id.rawValue], connection.inFlight.isEmpty, connection.state == .ready,
            connection.cluster.pools[connection.host].pendingCount == 0
        else { return }
        upstream.close(id)
        connectionGone(id, failure: .reset)
    }

    /// The current try got an answer: outlier bookkeeping, then retry or forward.
    func tryAnswered(_ key: SlabKey, _ known: RequestRecord? = nil, _ response: Message) {
        stopDeadline(key, .tryTimeout, known)
        guard let record = known ?? requests[key], let cluster = record.cluster else { return }
        let status = response.status ?? ResponseStatus(category: .success, code: 0)
        let host = record.host
        endTry(record)
        if record.holds.contains(.retry) {
            record.holds.remove(.retry)
            cluster.breaker.release(.retries)
        }
        if status.isSuccess { cluster.stats.hosts[host].success += 1 } else { cluster.stats.hosts[host].error += 1 }
        recordOutcome(cluster, host, UpstreamOutcome(status))
        let condition: RetryPolicy.Conditions? = switch status.category {
        case .unavailable: .unavailable
        case .serverError: .serverError
        default: nil
        }
        if let condition, retryIfAllowed(key, condition) { return }
        respond(key, record, with: response)
    }

    /// The current try ended without an answer: retry if the policy allows, else answer.
    func tryFailed(_ key: SlabKey, _ failure: TryFailure) {
        stopDeadline(key, .tryTimeout)
        guard let record = requests[key], let cluster = record.cluster else { return }
        let connection = record.connection
        endTry(record)
        if record.holds.contains(.retry) {
            record.holds.remove(.retry)
            cluster.breaker.release(.retries)
        }
        if connection != nil {
            cluster.stats.hosts[record.host].error += 1
            if case .perTryTimeout = failure { recordOutcome(cluster, record.host, .localOriginFailure) }
            if case .reset = failure { recordOutcome(cluster, record.host, .localOriginFailure) }
        }
        if let condition = failure.retryCondition, retryIfAllowed(key, condition) { return }
        finishLocally(key, failure.localReply)
    }

    /// A try on the wire ran out of the request's time: the host's local-origin failure (as
    /// Envoy counts an upstream timeout), and one more request its connection never answered.
    /// Returns the connection, for ``retireIfSilent(_:)`` once the request is finished.
    func requestTimedOutOnTheWire(_ key: SlabKey) -> UpstreamConnectionID? {
        guard let record = requests[key], record.phase == .inFlight, let cluster = record.cluster, let id = record.connection else { return nil }
        recordOutcome(cluster, record.host, .localOriginFailure)
        connections.withValue(id.rawValue) { $0.timeoutsSinceAnswer += 1 }
        return id
    }

    /// Retires connection `id` once ``UpstreamConnection/maxTimeoutsWithoutAnswer`` requests on
    /// it in a row ran out of their route timeout with nothing at all read from it in between: a
    /// connection that died quietly (a host gone without a FIN, a middlebox that dropped it)
    /// would otherwise keep taking requests, each waiting out its whole timeout. (Per-try
    /// timeouts do not count: a slow host that answers late is not a dead connection.)
    ///
    /// Retired, it takes no new request — the next ones get a fresh connection — and closes
    /// once nothing on it is awaited any more: the tries still riding on it keep their own
    /// deadlines and retries, rather than failing as a reset the host never sent.
    func retireIfSilent(_ id: UpstreamConnectionID) {
        guard let (cluster, host) = connections.withValue(id.rawValue, { c in
            c.timeoutsSinceAnswer >= UpstreamConnection.maxTimeoutsWithoutAnswer && !c.retiring ? (c.cluster, c.host) : nil
        }) ?? nil else { return }
        counters.upstreamConnectionsSilent += 1
        connections.withValue(id.rawValue) { $0.retiring = true }
        cluster.pools[host].connections.removeAll { $0 == id }
        if cluster.pools[host].pendingCount > 0, poolMayGrow(cluster, host, waiting: cluster.pools[host].pendingCount), cluster.breaker.tryTake(.connections) {
            openConnection(cluster, host)
        }
        closeIfDone(id)
    }

    /// Schedules a retry if the route's policy covers `condition`, retries remain, and the
    /// circuit breaker grants one.
    func retryIfAllowed(_ key: SlabKey, _ condition: RetryPolicy.Conditions) -> Bool {
        guard let record = requests[key], !record.isOneway, let cluster = record.cluster, let policy = record.route?.retry,
            policy.retryOn.contains(condition), record.attempt <= policy.numRetries
        else { return false }
        guard cluster.breaker.tryTake(.retries) else { return false }
        counters.retries += 1
        cluster.stats.retries += 1
        record.holds.insert(.retry)
        record.phase = .backoff
        if policy.retryOtherHost { record.failedHosts.append(record.host) }
        schedule(.retry(key, attempt: record.attempt), at: now + policy.backoff(retry: record.attempt, random: &random))
        return true
    }

    func recordOutcome(_ cluster: ClusterRuntime, _ host: Int, _ outcome: UpstreamOutcome) {
        guard cluster.outlier != nil else { return }
        if cluster.outlier!.record(outcome, host: host, now: now, random: &random) { cluster.healthChanged() }
    }

    // MARK: mirrors

    /// Sends a copy of a request to `target`, fire-and-forget: only on a multiplexed connection
    /// ready now (a missing one is opened for later mirrors) — a mirror never waits and never
    /// holds a connection to itself; its answer is dropped.
    func sendMirror(_ exchange: Exchange, requestMutation: Mutation, to target: DestinationTarget, in configuration: CompiledConfiguration, hashKey: UInt64?) {
        guard let (cluster, subset) = resolve(target, in: configuration), cluster.compiled.configuration.multiplexing,
            let host = cluster.pick(subset: subset, hashKey: hashKey, avoid: [], random: &random)
        else {
            counters.mirrorsFailed += 1
            return
        }
        guard let id = readyConnection(cluster, host) else {
            counters.mirrorsFailed += 1
            if cluster.pools[host].connections.isEmpty, cluster.breaker.tryTake(.connections) { openConnection(cluster, host) }
            return
        }
        let bits = configuration.capabilities.requestIDBits
        guard let upstreamID = connections.withValue(id.rawValue, { $0.allocateRequestID(bits: bits) }) else { return }
        var message = exchange.request
        message.requestID = upstreamID
        connections.withValue(id.rawValue) { $0.lastActiveAt = now }
        if message.type != .oneway {
            connections.withValue(id.rawValue) {
                $0.inFlight.set(upstreamID, .mirror)
                $0.unanswered += 1
            }
        }
        counters.mirrorsSent += 1
        upstream.send(message, mutation: requestMutation, on: id)
        closeIfDone(id)
    }
}
