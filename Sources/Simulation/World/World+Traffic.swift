import MetaProtocol
import NIOCore
import TrafficModel

/// A group of callers and its own random streams.
struct SimClient {
    let name: String
    let index: Int32
    let arrivals: ArrivalProcess
    let mix: CallMixSampler
    let payload: Distribution.Sampler
    let proxyInstance: Int?
    /// Callers in a closed loop; nil for an open loop driven by `arrivals`.
    let concurrency: Int?
    /// Index of its first call template in the world's list.
    let templateBase: Int
    var arrivalRandom: SeededRandom
    var choices: SeededRandom
    var network: SeededRandom
    var nextID: UInt64 = 1
    var nextProxy = 0
    /// Calls sent and not yet answered: id → (sent at, template, counts for results).
    var outstanding = IDMap<(sentAt: Int64, template: Int32, measured: Bool)>()
    /// Prebuilt attributes of each template.
    let attributes: [Attributes]

    init(model: ClientModel, index: Int32, templateBase: Int, seed: UInt64) {
        name = model.name
        self.index = index
        arrivals = model.arrivals
        mix = CallMixSampler(model.mix)
        payload = model.payloadSize.sampler()
        proxyInstance = model.proxyInstance
        concurrency = model.concurrency
        self.templateBase = templateBase
        arrivalRandom = model.arrivalRandom(seed: seed)
        choices = model.choiceRandom(seed: seed)
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

    /// The client's first calls: its first arrival, or all its callers at once in a closed loop.
    func startClient(_ c: Int32) {
        guard let callers = clients[Int(c)].concurrency else { return scheduleNextArrival(c, after: 0) }
        for _ in 0..<callers { schedule(.arrival(client: c), at: 0) }
    }

    func scheduleNextArrival(_ c: Int32, after t: Int64) {
        if clients[Int(c)].concurrency != nil { return }
        let process = clients[Int(c)].arrivals
        guard let next = process.next(after: Double(t) / 1e9, random: &clients[Int(c)].arrivalRandom) else { return }
        let time = Int64(next * 1e9)
        if time < durationNs { schedule(.arrival(client: c), at: time) }
    }

    func arrival(_ c: Int32) {
        if let limit = config.callLimit {
            // Past the limit the client stops: its arrival is dropped and no next one drawn.
            guard callsStarted < limit else { return }
            callsStarted += 1
        }
        scheduleNextArrival(c, after: now)
        let choice = clients[Int(c)].mix.choose(&clients[Int(c)].choices)
        let template = Int32(clients[Int(c)].templateBase + choice)
        let payload = max(0, Int(clients[Int(c)].payload.sample(&clients[Int(c)].choices)))
        let id = clients[Int(c)].nextID
        clients[Int(c)].nextID += 1
        let oneway = onewayTemplates[Int(template)]
        let measured = now >= warmUpNs
        if measured { collector.sent(oneway: oneway, at: now) }
        if oneway { nextClosedLoopCall(c) }
        if !oneway {
            clients[Int(c)].outstanding.set(id, (now, template, measured))
            outstanding += 1
            if outstanding > peakOutstanding { peakOutstanding = outstanding }
        }
        if config.bypassProxy {
            // Straight to a host: no message, only the job.
            let host = Int32(clients[Int(c)].choices.nextIndex(hosts.count))
            let method = hosts[Int(host)].machine.distinguishesMethods ? methodIndex(host: host, attributes: clients[Int(c)].attributes[choice]) : -1
            let job = jobs.insert(Job(proxy: -1, connection: 0, host: host, requestID: id, client: c, method: method, oneway: oneway, payload: payload,
                                      service: nil, answer: nil))
            schedule(.atHost(job: job), at: now + linkDelay(host: host, bytes: payload))
            return
        }
        let message = Message(type: oneway ? .oneway : .request, requestID: id, headerSize: 0, bodySize: payload,
                              attributes: clients[Int(c)].attributes[choice], frame: ByteBuffer())
        let proxy: Int32
        if let fixed = clients[Int(c)].proxyInstance {
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
            cores[Int(wire.proxy)].receive(message, from: DownstreamID(UInt64(wire.client)))
        } else {
            cores[Int(wire.proxy)].receive(wire.message, from: DownstreamID(UInt64(wire.client)))
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
        clientReceives(requestID, status: status, localReply: wire.localReply, client: wire.client)
    }

    /// A host's answer to a client that called it directly (no proxy).
    func directAnswerAtClient(_ j: Int32) {
        guard let job = jobs.remove(j), let answer = job.answer else { return }
        clientReceives(job.requestID, status: answer.status, localReply: nil, client: job.client)
    }

    /// Client `c` reads the answer to its call `requestID`.
    func clientReceives(_ requestID: UInt64, status: ResponseStatus?, localReply: LocalReplyError.Kind?, client c: Int32) {
        guard let call = clients[Int(c)].outstanding.remove(requestID) else {
            violations.append("t=\(Double(now) / 1e9)s client \(c): an answer to call \(requestID), which has none pending (answered twice?)")
            return
        }
        outstanding -= 1
        nextClosedLoopCall(c)
        guard call.measured else { return }
        collector.answered(latency: now - call.sentAt, template: call.template, status: status, localReply: localReply, at: now)
    }

    /// In a closed loop, the caller whose call was just answered sends its next one.
    @inline(__always)
    func nextClosedLoopCall(_ c: Int32) {
        if clients[Int(c)].concurrency != nil, now < durationNs { schedule(.arrival(client: c), at: now) }
    }

    // MARK: hosts

    /// Which per-method service time of host `h` a call with `attributes` takes.
    @inline(__always)
    func methodIndex(host h: Int32, attributes: Attributes) -> Int32 {
        guard hosts[Int(h)].machine.distinguishesMethods else { return -1 }
        return Int32(hosts[Int(h)].machine.methodIndex(of: attributes[AttributeKey.method]))
    }

    func sendToHost(proxy: Int32, connection: UInt64, host: Int32, message: Message, mutation: Mutation) {
        let frame = proxyEncodes(message, mutation: mutation)
        let size = frame?.readableBytes ?? message.bodySize
        wireBytes.proxiesToHosts += size
        guard !hosts[Int(host)].partitioned else { return }  // lost on the wire
        let job = jobs.insert(Job(proxy: proxy, connection: connection, host: host, requestID: message.requestID, client: -1,
                                  method: methodIndex(host: host, attributes: message.attributes), oneway: message.type == .oneway,
                                  payload: message.bodySize, service: nil, answer: nil))
        storeFrame(frame, job: job)
        schedule(.atHost(job: job), at: now + linkDelay(host: host, bytes: size))
    }

    /// A call the host never serves: lost with its frames. A client that called the host
    /// directly sees its connection reset, an `unavailable` answer (through a proxy, the
    /// proxy's connection closes or its timers notice).
    func dropJob(_ j: Int32) {
        forgetBytes(job: j)
        guard let job = jobs[j], job.proxy < 0, !job.oneway else {
            _ = jobs.remove(j)
            return
        }
        jobs.modify(j) { $0.answer = .unavailable }
        schedule(.directAnswer(job: j), at: now)
    }

    func atHost(_ j: Int32) {
        guard let job = jobs[j] else { return }
        let h = Int(job.host)
        guard hosts[h].up, !hosts[h].partitioned, hostDecodesCall(j) else {
            dropJob(j)
            return
        }
        let call = SyntheticHost.Call(ticket: UInt64(j), method: Int(job.method), payloadBytes: job.payload, oneway: job.oneway)
        switch hosts[h].machine.arrive(call, at: now) {
        case .serving(let service):
            startService(service, host: job.host)
        case .queued:
            break
        case .rejected(let answer):
            jobs.modify(j) { $0.answer = answer }
            finishJob(j)
        case .closesConnection:
            dropJob(j)
            if job.proxy >= 0 { proxies[Int(job.proxy)].resetConnection(job.connection) }
        }
    }

    /// A call took a worker: its end is an event.
    func startService(_ service: SyntheticHost.Service, host h: Int32) {
        let slot = Int32(truncatingIfNeeded: service.ticket)
        jobs.modify(slot) {
            $0.service = service
            $0.answer = service.answer
        }
        schedule(.serviceDone(host: h, job: slot), at: service.endsAt)
    }

    func serviceDone(host h: Int32, job j: Int32) {
        guard let service = jobs[j]?.service else { return }
        switch hosts[Int(h)].machine.complete(service, at: now) {
        case .stale:  // the host crashed meanwhile
            dropJob(j)
        case .done(let next):
            if let next { startService(next, host: h) }
            finishJob(j)
        }
    }

    /// Sends the host's answer to job `j` (whose slot also keys the byte path's call) back to
    /// the proxy (or the client, without a proxy); the job travels in its slot.
    func finishJob(_ j: Int32) {
        guard let job = jobs[j] else { return }
        // Oneway calls get no answer; a partitioned host's answers are lost.
        guard let answer = job.answer else {
            _ = jobs.remove(j)
            forgetBytes(job: j)
            return
        }
        guard !hosts[Int(job.host)].partitioned else {
            dropJob(j)
            return
        }
        let frame = byteCodecs == nil ? nil : synthesizeAnswer(answer, to: takeRequest(job: j))
        let size = frame?.readableBytes ?? answer.payloadBytes
        wireBytes.hostsToProxies += size
        storeFrame(frame, job: j)
        let delay = linkDelay(host: job.host, bytes: size)
        schedule(job.proxy < 0 ? .directAnswer(job: j) : .answerAtProxy(job: j), at: now + delay)
    }

    /// A host's answer as a message (off the byte path).
    func response(_ requestID: UInt64, _ answer: SyntheticHost.Answer) -> Message {
        var response = responsePrototype
        response.requestID = requestID
        response.status = answer.status
        response.type = answer.status.isSuccess || answer.status.category == .applicationError ? .response : .error
        response.bodySize = answer.payloadBytes
        return response
    }

    func answerAtProxy(_ j: Int32) {
        guard let job = jobs.remove(j) else { return }
        let frame = takeFrame(job: j)
        let proxy = proxies[Int(job.proxy)]
        guard proxy.connections[job.connection] != nil else { return }  // the connection is gone
        if let frame {
            guard let response = proxyDecodesAnswer(frame, proxy: job.proxy, connection: job.connection) else { return }
            cores[Int(job.proxy)].upstreamReceived(response, on: UpstreamConnectionID(job.connection))
            return
        }
        cores[Int(job.proxy)].upstreamReceived(response(job.requestID, job.answer!), on: UpstreamConnectionID(job.connection))
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
