import MetaProtocol
import NIOCore
import TrafficModel

/// One thread of a load run: its connections, its share of the schedule, its figures. Every
/// method runs on its event loop.
final class LoadWorker {
    let loop: EventLoop
    let plan: LoadPlan
    let index: Int
    /// Its slice of the whole load, over every shard's workers.
    let slice: (index: Int, count: Int)
    var connections: [LoadConnection] = []
    var figures = LoadFigures()

    private let synthesizer: any FrameSynthesizer
    private let templates: [CallTemplate]
    private let mix: CallMixSampler
    private let payload: Distribution.Sampler
    /// This worker's share of the schedule (nil in closed loop), and where it stands.
    private let arrivals: ArrivalProcess?
    private var arrivalRandom: SeededRandom
    private var choices: SeededRandom
    private var nextIntended: Int64?
    /// Intended send times of calls waiting for a free slot.
    private var backlog = RingBuffer<Int64>()
    private var cursor = 0
    private var origin: UInt64 = 0
    private let durationNs: Int64, warmUpNs: Int64, timeoutNs: Int64
    private var sendingEnded = false
    /// Calls this worker may still schedule under the plan's request limit (nil: no limit).
    private var remaining: Int?
    private var tick: (at: Int64, task: Scheduled<Void>)?
    private var done: EventLoopPromise<Void>?

    init(loop: EventLoop, plan: LoadPlan, index: Int, synthesizer: any FrameSynthesizer) {
        self.loop = loop
        self.plan = plan
        self.index = index
        self.synthesizer = synthesizer
        templates = plan.mix
        mix = CallMixSampler(plan.mix)
        payload = plan.payloadSize.sampler()
        slice = plan.slice(ofWorker: index)
        if case .openLoop(let process) = plan.pacing { arrivals = process.scaled(by: 1 / Double(slice.count)) } else { arrivals = nil }
        arrivalRandom = SeededRandom(seed: plan.seed, stream: "load:\(slice.index):arrivals")
        choices = SeededRandom(seed: plan.seed, stream: "load:\(slice.index):choices")
        remaining = plan.requestLimit(ofSlice: slice.index, of: slice.count)
        durationNs = plan.duration.nanoseconds
        warmUpNs = plan.warmUp.nanoseconds
        timeoutNs = plan.requestTimeout.nanoseconds
    }

    /// Nanoseconds since the run's start.
    @inline(__always)
    func now() -> Int64 { Int64(bitPattern: NIODeadline.now().uptimeNanoseconds &- origin) }

    // MARK: the run

    /// Starts sending at `origin` (the run's common start, on the monotonic clock); the future
    /// completes when every call is answered, timed out or lost after the schedule's end.
    func start(at origin: NIODeadline) -> EventLoopFuture<Void> {
        self.origin = origin.uptimeNanoseconds
        let done = loop.makePromise(of: Void.self)
        self.done = done
        if let arrivals {
            // A constant rate starts at once, and the slices' schedules interleave instead of
            // sending in step: slice i of S at i / (S · rate) and every 1 / rate after.
            var after = 0.0
            if case .constant(let rate) = arrivals, rate > 0 { after = Double(slice.index) / Double(slice.count) / rate - 1 / rate }
            nextIntended = following(after)
        }
        schedule(at: 0)
        return done.futureResult
    }

    /// The next intended send time after `t` seconds, in nanoseconds, or nil past the schedule
    /// (or the request limit).
    private func following(_ t: Double) -> Int64? {
        if let remaining {
            guard remaining > 0 else { return nil }
            self.remaining = remaining - 1
        }
        guard let arrivals, let next = arrivals.next(after: t, random: &arrivalRandom) else { return nil }
        let ns = Int64((next * 1e9).rounded())
        return ns < durationNs ? ns : nil
    }

    private func schedule(at time: Int64) {
        if let tick, tick.at <= time { return }
        tick?.task.cancel()
        let deadline = NIODeadline.uptimeNanoseconds(origin &+ UInt64(max(0, time)))
        tick = (time, loop.scheduleTask(deadline: deadline) { [self] in
            tick = nil
            run()
        })
    }

    /// Sends what is due, expires what timed out, and plans the next wake-up.
    private func run() {
        let t = now()
        expire(t)
        if arrivals != nil {
            while let next = nextIntended, next <= t {
                dispatch(intended: next, at: t)
                nextIntended = following(Double(next) / 1e9)
            }
            if nextIntended == nil { sendingEnded = true }
        } else if !sendingEnded {
            if t >= durationNs {
                sendingEnded = true
            } else {
                // Closed loop: every connection full.
                for c in connections where !c.closed {
                    // At most `depth` sends each, so that oneway calls (never in flight) end too.
                    var room = plan.depth - c.inFlight.count
                    while room > 0, send(on: c, intended: t, at: t) { room -= 1 }
                }
            }
        }
        flush()
        if finishIfDone(t) { return }
        var wake = Int64.max
        if let next = nextIntended { wake = next }
        if arrivals == nil && !sendingEnded { wake = min(wake, durationNs) }
        for c in connections {
            if let head = c.order.first, let sent = c.inFlight[head] { wake = min(wake, sent.sent + timeoutNs) }
        }
        if wake == Int64.max { wake = t + timeoutNs }
        schedule(at: wake)
    }

    /// Whether the run is over for this worker (and if so, ends it).
    private func finishIfDone(_ t: Int64) -> Bool {
        guard sendingEnded, backlog.isEmpty, connections.allSatisfy({ $0.inFlight.isEmpty }) else { return false }
        tick?.task.cancel()
        tick = nil
        done?.succeed(())
        done = nil
        return true
    }

    // MARK: sending

    /// A call is due: it leaves on a free connection, or waits for one.
    private func dispatch(intended: Int64, at t: Int64) {
        let measured = intended >= warmUpNs
        if measured { figures.attempted += 1 }
        if let c = freeConnection() {
            _ = send(on: c, intended: intended, at: t)
        } else if backlog.count < plan.backlogLimit {
            backlog.append(intended)
        } else if measured {
            figures.notSent += 1
        }
    }

    private func freeConnection() -> LoadConnection? {
        for step in 0..<connections.count {
            let c = connections[(cursor + step) % connections.count]
            if !c.closed, c.channel != nil, c.inFlight.count < plan.depth {
                cursor = (cursor + step + 1) % connections.count
                return c
            }
        }
        return nil
    }

    /// Writes one call on `c`; false if it could not (the connection is gone, the synthesizer
    /// refused).
    @discardableResult
    private func send(on c: LoadConnection, intended: Int64, at t: Int64) -> Bool {
        guard let channel = c.channel, !c.closed else { return false }
        if arrivals == nil, let left = remaining {
            // Closed loop: every send counts against the limit (open loop counts as it schedules).
            guard left > 0 else {
                sendingEnded = true
                return false
            }
            remaining = left - 1
        }
        let measured = intended >= warmUpNs
        let template = templates[mix.choose(&choices)]
        let size = max(0, Int(payload.sample(&choices)))
        let id = c.takeID()
        let frame: ByteBuffer
        do {
            frame = try synthesizer.request(id: id, attributes: template.attributes, payloadSize: size, oneway: template.oneway)
        } catch {
            if measured { figures.unwritable += 1 }
            return false
        }
        channel.write(frame, promise: nil)
        c.unflushed = true
        figures.lastScheduled = max(figures.lastScheduled, intended)
        if measured {
            figures.calls.sent += 1
            figures.scheduleLag.record(nanoseconds: UInt64(max(0, t - intended)))
        }
        if template.oneway {
            if measured { figures.calls.oneway += 1 }
            return true
        }
        c.inFlight.set(id, LoadConnection.Sent(intended: intended, sent: t, measured: measured))
        c.order.append(id)
        return true
    }

    /// A slot of `c` is free: the oldest waiting call takes it (late), or in closed loop a new one.
    private func refill(_ c: LoadConnection, at t: Int64) {
        if let intended = backlog.popFirst() {
            if intended >= warmUpNs { figures.late += 1 }
            send(on: c, intended: intended, at: t)
        } else if arrivals == nil, !sendingEnded, t < durationNs {
            send(on: c, intended: t, at: t)
        }
    }

    func flush() {
        for c in connections where c.unflushed {
            c.unflushed = false
            c.channel?.flush()
        }
    }

    // MARK: answers

    /// An answer came on `c`.
    func answered(_ answer: Message, on c: LoadConnection) {
        guard answer.type == .response || answer.type == .error else { return }
        let t = now()
        guard let call = c.inFlight.remove(answer.requestID) else {
            if c.timedOut.remove(answer.requestID) != nil { figures.lateAnswers += 1 } else { figures.unmatched += 1 }
            return
        }
        if call.measured {
            figures.latency.record(nanoseconds: UInt64(max(0, t - call.intended)))
            figures.serviceTime.record(nanoseconds: UInt64(max(0, t - call.sent)))
            figures.calls.answered += 1
            figures.calls.addAnswer(answer.status?.category ?? .success)
        }
        refill(c, at: t)
        if sendingEnded { _ = finishIfDone(t) }
    }

    /// Calls on their connections longer than the request timeout are counted and forgotten.
    private func expire(_ t: Int64) {
        for c in connections {
            while let head = c.order.first {
                guard let call = c.inFlight[head] else {
                    _ = c.order.popFirst()
                    continue
                }
                guard t - call.sent >= timeoutNs else { break }
                c.inFlight.remove(head)
                _ = c.order.popFirst()
                c.timedOut.set(head, true)
                if call.measured { figures.timeouts += 1 }
                refill(c, at: t)
            }
        }
    }

    /// `c` closed: its calls in flight are lost.
    func connectionClosed(_ c: LoadConnection) {
        guard done != nil else { return }
        figures.connectionsLost += 1
        for (_, call) in c.inFlight.sortedEntries where call.measured { figures.dropped += 1 }
        c.inFlight = IDMap()
        if sendingEnded { _ = finishIfDone(now()) }
    }
}

extension LoadWorker: @unchecked Sendable {}
