import MetaProtocol

/// One synthetic host as a sans-IO state machine: told that a call arrived at a time, it says
/// whether the call starts now, waits, is turned away or closes its connection — and for a call
/// that starts, when it ends and what the answer is. Told that a service ended, it starts the
/// next call in line.
///
/// The simulator's hosts and `mplab serve`'s servers are this same machine under two clocks
/// (virtual time, the monotonic clock), so a simulated and a real run of a workload model the
/// same hosts: given the same seed, name and calls in the same order, both draw the same service
/// times, errors and response sizes (``digest`` proves it).
///
/// Every random draw for a call happens when its service starts, in a fixed order: its service
/// time, then (for a call that expects an answer and a host that has errors) one uniform for the
/// outcome, then (for a success of a drawn size) its response size.
///
/// Times are integer nanoseconds on the driver's clock.
public struct SyntheticHost: Sendable {
    /// What the driver knows of an arriving call.
    public struct Call: Sendable {
        /// The driver's handle for the call, handed back in ``Service/ticket``.
        public var ticket: UInt64
        /// Which of the behaviour's per-method service times the call takes (``methodIndex(of:)``);
        /// -1 for the default.
        public var method: Int
        public var payloadBytes: Int
        /// A oneway call is served but not answered.
        public var oneway: Bool

        public init(ticket: UInt64, method: Int = -1, payloadBytes: Int, oneway: Bool) {
            self.ticket = ticket
            self.method = method
            self.payloadBytes = payloadBytes
            self.oneway = oneway
        }
    }

    /// What the host answers.
    public struct Answer: Sendable, Hashable {
        public var status: ResponseStatus
        /// What a synthesizer writes as the answer's payload.
        public var payload: ResponsePayload
        /// Payload bytes of the answer (the call's, for an echo).
        public var payloadBytes: Int

        public init(status: ResponseStatus, payload: ResponsePayload, payloadBytes: Int) {
            self.status = status
            self.payload = payload
            self.payloadBytes = payloadBytes
        }

        /// What a call gets that the host cannot take: `unavailable`, nothing else.
        public static let unavailable = Answer(status: ResponseStatus(category: .unavailable, code: 0), payload: .bytes(0), payloadBytes: 0)
    }

    /// A call in service: the driver holds it, and hands it back to ``complete(_:at:)`` when
    /// ``duration`` has passed.
    public struct Service: Sendable {
        public var ticket: UInt64
        /// The host's life it belongs to: a crash starts a new one, and older services are stale.
        public var epoch: UInt32
        public var arrivedAt: Int64
        public var startedAt: Int64
        public var duration: Int64
        /// Nil for a oneway call.
        public var answer: Answer?
        public var endsAt: Int64 { startedAt + duration }
    }

    /// What happens to an arriving call.
    public enum Arrival: Sendable {
        /// It took a worker.
        case serving(Service)
        /// It waits in line.
        case queued
        /// The line is full: answered at once (`unavailable`).
        case rejected(Answer)
        /// A phase closes every call's connection.
        case closesConnection
    }

    /// What a service's end leads to.
    public enum Completion: Sendable {
        /// The service belonged to a life of the host before a crash: nothing to answer.
        case stale
        /// Answer the call; `next` is the call that took the freed worker, if one waited.
        case done(next: Service?)
    }

    /// Names the host's random stream (``stream(seed:name:)``) and its figures.
    public let name: String
    public let behaviour: HostBehaviour
    /// When the host started on the driver's clock: phases count from here.
    public let startedAt: Int64
    /// The host's own generator, named by the host.
    private var random: SeededRandom
    private let serviceTime: Distribution.Sampler
    private let methodServiceTimes: [Distribution.Sampler]
    private let responseSize: Distribution.Sampler?
    private let phaseStarts: [Int64]
    private let phaseServiceTimes: [Distribution.Sampler?]

    /// Service times are multiplied by this (a slow-down fault; 1 for none).
    public var slowFactor = 1.0
    /// When set, the chance of a server error that replaces the behaviour's errors (an error
    /// burst fault).
    public var errorBurst: Double?

    public private(set) var epoch: UInt32 = 0
    /// Calls in service now.
    public private(set) var busy = 0
    private var line = RingBuffer<Waiting>()
    /// Figures from ``HostStats/measureFrom`` on.
    public private(set) var stats: HostStats
    /// A hash over every decision the host made, in order (service time, outcome, response
    /// size): two hosts that decided the same things have the same digest.
    public private(set) var digest: UInt64 = 0x9E37_79B9_7F4A_7C15
    /// Decisions made (calls started).
    public private(set) var decisions = 0

    private struct Waiting: Sendable {
        var ticket: UInt64
        var method: Int
        var payloadBytes: Int
        var oneway: Bool
        var arrivedAt: Int64
    }

    /// The stream a host named `name` draws from under the run seed `seed`.
    public static func stream(seed: UInt64, name: String) -> SeededRandom { SeededRandom(seed: seed, stream: "host:\(name)") }

    /// A host named `name` behaving as `behaviour`, started at `startedAt`, measuring from
    /// `measureFrom` (the end of a warm-up; figures before it are left out).
    public init(name: String, behaviour: HostBehaviour, seed: UInt64, startedAt: Int64 = 0, measureFrom: Int64 = 0) {
        self.name = name
        self.behaviour = behaviour
        self.startedAt = startedAt
        random = Self.stream(seed: seed, name: name)
        serviceTime = behaviour.serviceTime.sampler()
        methodServiceTimes = behaviour.serviceTimeByMethod.map { $0.serviceTime.sampler() }
        if case .sized(let d) = behaviour.responseSize { responseSize = d.sampler() } else { responseSize = nil }
        phaseStarts = behaviour.phases.map { startedAt &+ $0.at.nanoseconds }
        phaseServiceTimes = behaviour.phases.map { $0.serviceTime?.sampler() }
        stats = HostStats(measureFrom: max(startedAt, measureFrom), at: startedAt)
    }

    /// Whether the host has work (in service or in line).
    public var isIdle: Bool { busy == 0 && line.isEmpty }

    /// Calls waiting in line now.
    public var waiting: Int { line.count }

    /// The index of the phase in force at `now`, if any.
    public func phase(at now: Int64) -> Int? {
        guard !phaseStarts.isEmpty else { return nil }
        var found: Int?
        for (i, start) in phaseStarts.enumerated() where start <= now { found = i }
        return found
    }

    // MARK: events

    /// A call arrives at `now`.
    public mutating func arrive(_ call: Call, at now: Int64) -> Arrival {
        let measured = now >= stats.measureFrom
        let phase = phase(at: now)
        if let phase, behaviour.phases[phase].closesConnections {
            if measured { stats.closedConnections += 1 }
            return .closesConnection
        }
        if measured { stats.arrivals += 1 }
        precondition(call.method < methodServiceTimes.count, "a method index of another behaviour")
        let method = call.method
        if let workers = behaviour.workers, busy >= workers {
            if let limit = behaviour.queueLimit, line.count >= limit {
                if measured { stats.rejected += 1 }
                return .rejected(.unavailable)
            }
            stats.change(now: now, by: 1, measured: measured)
            line.append(Waiting(ticket: call.ticket, method: method, payloadBytes: call.payloadBytes, oneway: call.oneway, arrivedAt: now))
            if measured { stats.maxLine = max(stats.maxLine, line.count) }
            return .queued
        }
        stats.change(now: now, by: 1, measured: measured)
        return .serving(start(ticket: call.ticket, method: method, payloadBytes: call.payloadBytes, oneway: call.oneway, arrivedAt: now, at: now, phase: phase))
    }

    /// `service` (handed out by this host) ended at `now`.
    public mutating func complete(_ service: Service, at now: Int64) -> Completion {
        guard service.epoch == epoch else { return .stale }
        busy -= 1
        stats.change(now: now, by: -1, measured: service.arrivedAt >= stats.measureFrom)
        if service.arrivedAt >= stats.measureFrom {
            stats.completions += 1
            stats.sojournTotal += Double(now - service.arrivedAt)
            stats.busyTotal += Double(service.duration)
            if service.startedAt > service.arrivedAt { stats.waited += 1 }
            stats.waitTotal += Double(service.startedAt - service.arrivedAt)
            if let answer = service.answer, !answer.status.isSuccess { stats.errors += 1 }
        }
        guard let next = line.popFirst() else { return .done(next: nil) }
        return .done(next: start(ticket: next.ticket, method: next.method, payloadBytes: next.payloadBytes, oneway: next.oneway,
                                 arrivedAt: next.arrivedAt, at: now, phase: phase(at: now)))
    }

    /// The host crashes at `now`: calls in service and in line are lost (their services become
    /// stale); the tickets of those in line are returned for the driver to forget.
    public mutating func crash(at now: Int64) -> [UInt64] {
        epoch &+= 1
        stats.lost += stats.inWindow
        stats.change(now: now, by: -stats.inSystem, measured: false)
        stats.inWindow = 0
        busy = 0
        var tickets: [UInt64] = []
        while let w = line.popFirst() { tickets.append(w.ticket) }
        return tickets
    }

    /// Moves the start of the measured window to `time` (figures before it are forgotten).
    public mutating func measure(from time: Int64, now: Int64) {
        stats.change(now: now, by: 0)
        stats = HostStats(measureFrom: time, at: now, inSystem: stats.inSystem)
    }

    // MARK: decisions

    /// Whether calls' methods matter (the behaviour has per-method service times): when not,
    /// a driver need not look their methods up.
    public var distinguishesMethods: Bool { !methodServiceTimes.isEmpty }

    /// Which per-method service time a call with this `method` attribute takes (for
    /// ``Call/method``); -1 for the default.
    public func methodIndex(of method: AttributeText?) -> Int {
        guard let method, !methodServiceTimes.isEmpty else { return -1 }
        return behaviour.serviceTimeByMethod.firstIndex { method.equals($0.method) } ?? -1
    }

    /// Starts a call: draws its service time, its outcome and its response size, in that order.
    private mutating func start(ticket: UInt64, method: Int, payloadBytes: Int, oneway: Bool, arrivedAt: Int64, at now: Int64, phase: Int?) -> Service {
        busy += 1
        if now >= stats.measureFrom { stats.peakBusy = max(stats.peakBusy, busy) }
        let sampler = phase.flatMap { phaseServiceTimes[$0] } ?? (method >= 0 ? methodServiceTimes[method] : serviceTime)
        let seconds = (max(0, sampler.sample(&random)) + Double(payloadBytes) * behaviour.secondsPerByte) * slowFactor / behaviour.speedFactor
        let duration = Int64((seconds * 1e9).rounded())
        var answer: Answer?
        if !oneway {
            var category = ResponseStatus.Category.success
            let errors = errorBurst.map { [ErrorRate.serverError($0)] } ?? phase.flatMap { behaviour.phases[$0].errors } ?? behaviour.errors
            if !errors.isEmpty {
                var u = random.nextUnit()
                for e in errors {
                    if u < e.probability {
                        category = e.category
                        break
                    }
                    u -= e.probability
                }
            }
            if category != .success {
                answer = Answer(status: ResponseStatus(category: category, code: 0), payload: .bytes(0), payloadBytes: 0)
            } else if let responseSize {
                let n = max(0, Int(responseSize.sample(&random)))
                answer = Answer(status: ResponseStatus(category: .success, code: 0), payload: .bytes(n), payloadBytes: n)
            } else {
                answer = Answer(status: ResponseStatus(category: .success, code: 0), payload: .echo, payloadBytes: payloadBytes)
            }
        }
        decisions += 1
        mix(UInt64(bitPattern: duration))
        mix(UInt64(answer.map { $0.status.category.rawValue + 1 } ?? 0) << 56 ^ UInt64(answer?.payloadBytes ?? 0))
        return Service(ticket: ticket, epoch: epoch, arrivedAt: arrivedAt, startedAt: now, duration: duration, answer: answer)
    }

    @inline(__always)
    private mutating func mix(_ v: UInt64) {
        digest = (digest ^ v) &* 0x0000_0100_0000_01B3
        digest ^= digest >> 29
    }
}

/// A host's figures over its measured window, for utilization, Little's law and the queueing
/// checks. Times are nanoseconds on the driver's clock.
public struct HostStats: Sendable, Hashable {
    /// Where the window starts: calls that arrived earlier are left out of every figure.
    public var measureFrom: Int64
    /// Calls that arrived (served, queued or turned away; not those a closing phase met).
    public var arrivals = 0
    /// Calls served to the end.
    public var completions = 0
    /// Of those, answered with an error.
    public var errors = 0
    /// Turned away because the line was full.
    public var rejected = 0
    /// Calls met by a phase that closes connections.
    public var closedConnections = 0
    /// Calls in the host when it crashed.
    public var lost = 0
    /// Calls in the host now that arrived in the window.
    public internal(set) var inWindow = 0
    /// Completions that waited for a worker.
    public var waited = 0
    /// Sums over completions: time waiting, time in the host, time in service.
    public var waitTotal: Double = 0
    public var sojournTotal: Double = 0
    public var busyTotal: Double = 0
    /// The longest line and the most calls in service at once, while the window is open.
    public var maxLine = 0
    public var peakBusy = 0
    /// The time integral of calls in the host (waiting or in service) over the window.
    public private(set) var area: Double = 0
    /// Calls in the host now.
    public private(set) var inSystem: Int
    /// When ``area`` was last brought up to date.
    public private(set) var lastChange: Int64

    /// Figures of a host that has not run.
    public static let empty = HostStats(measureFrom: 0, at: 0)

    init(measureFrom: Int64, at now: Int64, inSystem: Int = 0) {
        self.measureFrom = measureFrom
        lastChange = now
        self.inSystem = inSystem
    }

    /// Accounts the time since the last change, then changes the number in the host (and the
    /// number of those that arrived in the window, when `measured`).
    mutating func change(now: Int64, by delta: Int, measured: Bool = false) {
        if now > measureFrom { area += Double(inSystem) * Double(now - max(lastChange, measureFrom)) }
        lastChange = now
        inSystem += delta
        if measured { inWindow += delta }
    }

    /// The figures with the time integral brought up to `now` (the end of the window).
    public func closed(at now: Int64) -> HostStats {
        var s = self
        s.change(now: now, by: 0)
        return s
    }
}
