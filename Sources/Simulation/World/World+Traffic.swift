import MetaProtocol
import NIOCore

/// A group of callers and its own random streams.
struct SimClient {
    let model: ClientModel
    let index: Int32
    /// Index of its first call template in the world's list.
    let templateBase: Int
    let cumulativeWeights: [Double]
    let payload: Distribution.Sampler
    var arrivals: SeededRandom
    var choices: SeededRandom
    var network: SeededRandom
    var nextID: UInt64 = 1
    var nextProxy = 0
    /// Calls sent and not yet answered: id → (sent at, template, counts for results).
    var outstanding = IDMap<(sentAt: Int64, template: Int32, measured: Bool)>()
    /// Prebuilt attributes of each template.
    let attributes: [Attributes]

    init(model: ClientModel, index: Int32, templateBase: Int, seed: UInt64) {
        self.model = model
        self.index = index
        self.templateBase = templateBase
        let total = model.mix.reduce(0) { $0 + $1.weight }
        var running = 0.0
        cumulativeWeights = model.mix.map { running += $0.weight / total; return running }
        payload = model.payloadSize.sampler()
        arrivals = SeededRandom(seed: seed, stream: "client:\(model.name):arrivals")
        choices = SeededRandom(seed: seed, stream: "client:\(model.name):choices")
        network = SeededRandom(seed: seed, stream: "network:client:\(model.name)")
        attributes = model.mix.map { t in
            var a = Attributes()
            for kv in t.attributes { a.append(key: kv.key, value: kv.value) }
            return a
        }
    }
}

extension World {
    // MARK: clients

    func scheduleNextArrival(_ c: Int32, after t: Int64) {
        guard let next = clients[Int(c)].model.arrivals.next(after: Double(t) / 1e9, random: &clients[Int(c)].arrivals) else { return }
        let time = Int64(next * 1e9)
        if time < durationNs { schedule(.arrival(client: c), at: time) }
    }

    func arrival(_ c: Int32) {
        scheduleNextArrival(c, after: now)
        var choice = 0
        let u = clients[Int(c)].choices.nextUnit()
        let weights = clients[Int(c)].cumulativeWeights
        while choice < weights.count - 1 && u >= weights[choice] { choice += 1 }
        let template = Int32(clients[Int(c)].templateBase + choice)
        let payload = max(0, Int(clients[Int(c)].payload.sample(&clients[Int(c)].choices)))
        let id = clients[Int(c)].nextID
        clients[Int(c)].nextID += 1
        let oneway = onewayTemplates[Int(template)]
        let measured = now >= warmUpNs
        // The message carries its template in `streamID`: synthetic calls have no streams.
        let message = Message(type: oneway ? .oneway : .request, requestID: id, streamID: UInt64(template), headerSize: 0, bodySize: payload,
                              attributes: clients[Int(c)].attributes[choice], frame: ByteBuffer())
        if measured { collector.sent(oneway: oneway, at: now) }
        if !oneway {
            clients[Int(c)].outstanding.set(id, (now, template, measured))
            outstanding += 1
            if outstanding > peakOutstanding { peakOutstanding = outstanding }
        }
        if config.bypassProxy {
            let host = Int32(clients[Int(c)].choices.nextIndex(hosts.count))
            let job = jobs.insert(Job(proxy: -1, connection: 0, host: host, requestID: id, client: c, template: template, payload: payload,
                                      arrivedAt: 0, startedAt: 0, epoch: 0, status: ResponseStatus(category: .success, code: 0), responseSize: 0))
            schedule(.atHost(job: job), at: now + linkDelay(host: host, bytes: payload))
            return
        }
        let proxy: Int32
        if let fixed = clients[Int(c)].model.proxyInstance {
            proxy = Int32(fixed % proxies.count)
        } else {
            proxy = Int32(clients[Int(c)].nextProxy % proxies.count)
            clients[Int(c)].nextProxy += 1
        }
        let frame = byteCodecs == nil ? nil : synthesizeCall(message, template: templates[Int(template)])
        let size = frame?.readableBytes ?? payload
        wireBytes.clientsToProxies += size
        let m = messages.insert(WireMessage(client: c, proxy: proxy, requestID: id, message: message, localReply: nil))
        storeFrame(frame, message: m)
        schedule(.atProxy(message: m), at: now + clientDelay(client: c, bytes: size))
    }

    func atProxy(_ m: Int32) {
        guard let wire = messages.remove(m) else { return }
        if let frame = takeFrame(message: m) {
            guard let message = proxyDecodesCall(wire, frame: frame) else { return }
            proxies[Int(wire.proxy)].core.receive(message, from: DownstreamID(UInt64(wire.client)))
        } else {
            proxies[Int(wire.proxy)].core.receive(wire.message, from: DownstreamID(UInt64(wire.client)))
        }
    }

    /// A proxy answers a client: an upstream response, or a local reply (already a frame on the
    /// byte path).
    func answerClient(_ c: Int32, from proxy: Int32, response: Message, localReply: LocalReplyError.Kind?, frame: ByteBuffer?) {
        let size = frame?.readableBytes ?? response.bodySize
        wireBytes.proxiesToClients += size
        let m = messages.insert(WireMessage(client: c, proxy: proxy, requestID: response.requestID, message: response, localReply: localReply))
        storeFrame(frame, message: m)
        schedule(.atClient(message: m), at: now + clientDelay(client: c, bytes: size))
    }

    func atClient(_ m: Int32) {
        guard let wire = messages.remove(m) else { return }
        var requestID = wire.requestID
        var status = wire.message.status
        if let frame = takeFrame(message: m) {
            // On the byte path the client learns the id and status from the frame it reads.
            guard let answer = clientDecodesAnswer(wire, frame: frame) else { return }
            requestID = answer.requestID
            status = answer.status
        }
        guard let call = clients[Int(wire.client)].outstanding.remove(requestID) else {
            violations.append("t=\(Double(now) / 1e9)s client \(wire.client): an answer to call \(requestID), which has none pending (answered twice?)")
            return
        }
        outstanding -= 1
        guard call.measured else { return }
        collector.answered(latency: now - call.sentAt, template: call.template, status: status, localReply: wire.localReply, at: now)
    }

    // MARK: hosts

    func sendToHost(proxy: Int32, connection: UInt64, host: Int32, message: Message, mutation: Mutation) {
        let frame = proxyEncodes(message, mutation: mutation)
        let size = frame?.readableBytes ?? message.bodySize
        wireBytes.proxiesToHosts += size
        guard !hosts[Int(host)].partitioned else { return }  // lost on the wire
        let job = jobs.insert(Job(proxy: proxy, connection: connection, host: host, requestID: message.requestID, client: -1,
                                  template: Int32(truncatingIfNeeded: message.streamID), payload: message.bodySize, arrivedAt: 0, startedAt: 0, epoch: 0,
                                  status: ResponseStatus(category: .success, code: 0), responseSize: 0))
        storeFrame(frame, job: job)
        schedule(.atHost(job: job), at: now + linkDelay(host: host, bytes: size))
    }

    func atHost(_ j: Int32) {
        guard let job = jobs[j] else { return }
        let h = Int(job.host)
        guard hosts[h].up, !hosts[h].partitioned, hostDecodesCall(j) else {
            _ = jobs.remove(j)
            forgetBytes(job: j)
            return
        }
        hosts[h].change(now: now, by: 1)
        let epoch = hosts[h].epoch
        jobs.modify(j) {
            $0.arrivedAt = now
            $0.epoch = epoch
        }
        var updated = job
        updated.arrivedAt = now
        updated.epoch = epoch
        let id = j
        if hosts[h].busy < hosts[h].behaviour.workers {
            startService(host: Int32(h), job: id)
        } else if let limit = hosts[h].behaviour.queueLimit, hosts[h].queue.count >= limit {
            // Turned away: answered "unavailable" at once.
            hosts[h].change(now: now, by: -1)
            hosts[h].rejected += 1
            var rejected = updated
            rejected.status = ResponseStatus(category: .unavailable, code: 503)
            _ = jobs.remove(id)
            finishJob(rejected, slot: id)
        } else {
            hosts[h].queue.append(id)
            hosts[h].maxQueue = max(hosts[h].maxQueue, hosts[h].queue.count)
        }
    }

    func startService(host h: Int32, job: Int32) {
        guard let j = jobs[job] else { return }
        let now = self.now
        jobs.modify(job) { $0.startedAt = now }
        hosts[Int(h)].busy += 1
        let seconds = hosts[Int(h)].serviceSeconds(template: j.template, payload: j.payload)
        schedule(.serviceDone(host: h, job: job), at: now + Int64(seconds * 1e9))
    }

    func serviceDone(host h: Int32, job j: Int32) {
        guard var job = jobs.remove(j) else { return }
        guard job.epoch == hosts[Int(h)].epoch else {  // the host crashed meanwhile
            forgetBytes(job: j)
            return
        }
        hosts[Int(h)].busy -= 1
        hosts[Int(h)].change(now: now, by: -1)
        if job.arrivedAt >= hosts[Int(h)].measureFrom {
            hosts[Int(h)].completions += 1
            hosts[Int(h)].sojournTotal += Double(now - job.arrivedAt)
            if job.startedAt > job.arrivedAt { hosts[Int(h)].waited += 1 }
            hosts[Int(h)].waitTotal += Double(job.startedAt - job.arrivedAt)
        }
        if hosts[Int(h)].errorProbability > 0, hosts[Int(h)].random.chance(percent: hosts[Int(h)].errorProbability * 100) {
            hosts[Int(h)].errors += 1
            job.status = ResponseStatus(category: hosts[Int(h)].behaviour.errorCategory, code: 500)
        }
        if let size = hosts[Int(h)].responseSize { job.responseSize = max(0, Int(size.sample(&hosts[Int(h)].random))) } else { job.responseSize = job.payload }
        if let next = hosts[Int(h)].queue.popFirst() { startService(host: h, job: next) }
        finishJob(job, slot: j)
    }

    /// Sends a host's answer back to the proxy (or the client, without a proxy).
    /// Sends a host's answer to the job that was in `slot` (where the byte path keeps its call).
    func finishJob(_ job: Job, slot: Int32) {
        let frame = byteCodecs == nil ? nil : synthesizeAnswer(job, to: takeRequest(job: slot))
        // Oneway calls get no answer; a partitioned host's answers are lost.
        guard !onewayTemplates[Int(job.template)], !hosts[Int(job.host)].partitioned else { return }
        let size = frame?.readableBytes ?? job.responseSize
        wireBytes.hostsToProxies += size
        let id = jobs.insert(job)
        storeFrame(frame, job: id)
        let delay = linkDelay(host: job.host, bytes: size)
        if job.proxy < 0 {
            var response = responsePrototype
            response.requestID = job.requestID
            response.status = job.status
            response.type = job.status.isSuccess ? .response : .error
            response.bodySize = job.responseSize
            _ = jobs.remove(id)
            let m = messages.insert(WireMessage(client: job.client, proxy: -1, requestID: job.requestID, message: response, localReply: nil))
            schedule(.atClient(message: m), at: now + delay)
        } else {
            schedule(.answerAtProxy(job: id), at: now + delay)
        }
    }

    func answerAtProxy(_ j: Int32) {
        guard let job = jobs.remove(j) else { return }
        let frame = takeFrame(job: j)
        let proxy = proxies[Int(job.proxy)]
        guard proxy.connections[job.connection] != nil else { return }  // the connection is gone
        if let frame {
            guard let response = proxyDecodesAnswer(frame, proxy: job.proxy, connection: job.connection) else { return }
            proxy.core.upstreamReceived(response, on: UpstreamConnectionID(job.connection))
            return
        }
        var response = responsePrototype
        response.requestID = job.requestID
        response.status = job.status
        response.type = job.status.isSuccess || job.status.category == .applicationError ? .response : .error
        response.bodySize = job.responseSize
        proxy.core.upstreamReceived(response, on: UpstreamConnectionID(job.connection))
    }

    // MARK: the rate-limit service

    func askRateLimitService(proxy: Int32, call: UInt64, domain: String, descriptors: [KeyValue]) {
        guard let model = config.rateLimitService else { return }
        let key = domain + "|" + descriptors.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        var decision: UInt8 = 2
        if !rateLimitRandom.chance(percent: model.failureProbability * 100) {
            if rateLimitBuckets[key] == nil { rateLimitBuckets[key] = TokenBucket(model.bucket, now: Timestamp(nanoseconds: now)) }
            decision = rateLimitBuckets[key]!.tryTake(now: Timestamp(nanoseconds: now)) ? 0 : 1
        }
        let delay = Int64(rateLimitLatency!.sample(&rateLimitRandom) * 1e9)
        schedule(.rateLimitAnswer(proxy: proxy, call: call, decision: decision), at: now + delay)
    }
}
