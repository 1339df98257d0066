import MetaProtocol

/// How a synthetic host serves calls — the one model of a host that the simulator's hosts and
/// `mplab serve` both run (through ``SyntheticHost``).
///
/// A call takes a worker if one is free, else waits in a first-in-first-out line; a call that
/// finds the line full is answered `unavailable` at once. Its service time is drawn when it
/// starts: the method's distribution (or the default), plus seconds per payload byte, divided
/// by the host's speed. When it ends, the host answers with an error of some category or with a
/// success carrying a response payload. Phases change the behaviour from a given time on.
public struct HostBehaviour: Sendable, Hashable {
    /// Calls served at once; nil serves every call at once (no line ever forms).
    public var workers: Int?
    /// Calls that may wait for a worker; nil for no limit.
    public var queueLimit: Int?
    /// Service time in seconds.
    public var serviceTime: Distribution
    /// Service times of particular methods (the call's `method` attribute), first match wins;
    /// other methods take ``serviceTime``.
    public var serviceTimeByMethod: [MethodServiceTime]
    /// Extra seconds of service per byte of the call's payload.
    public var secondsPerByte: Double
    /// Chances of answering with an error, by category; what is left is the chance of success.
    public var errors: [ErrorRate]
    /// How big a successful answer's payload is.
    public var responseSize: ResponseSize
    /// Service times are divided by this (a faster or slower machine).
    public var speedFactor: Double
    /// Stretches of the host's life that change its behaviour, in the order they start.
    public var phases: [HostPhase]

    public init(workers: Int? = 1, queueLimit: Int? = nil, serviceTime: Distribution = .exponential(mean: 0.001),
                serviceTimeByMethod: [MethodServiceTime] = [], secondsPerByte: Double = 0, errors: [ErrorRate] = [],
                responseSize: ResponseSize = .echo, speedFactor: Double = 1, phases: [HostPhase] = []) {
        self.workers = workers
        self.queueLimit = queueLimit
        self.serviceTime = serviceTime
        self.serviceTimeByMethod = serviceTimeByMethod
        self.secondsPerByte = secondsPerByte
        self.errors = errors
        self.responseSize = responseSize
        self.speedFactor = speedFactor
        self.phases = phases.sorted { $0.at < $1.at }
    }

    /// A host that answers every call at once, successfully, echoing its payload.
    public static let instant = HostBehaviour(workers: nil, serviceTime: .constant(0))

    /// What is wrong with the behaviour, if anything, for a user to read (nil when it is sound).
    public var problem: String? {
        if let w = workers, w < 1 { return "workers must be at least 1 (or left out for no limit), found \(w)" }
        if let q = queueLimit, q < 0 { return "queue limit must be 0 or more, found \(q)" }
        if !(speedFactor > 0 && speedFactor.isFinite) { return "speed factor must be above 0, found \(speedFactor)" }
        if !(secondsPerByte >= 0 && secondsPerByte.isFinite) { return "seconds per byte must be 0 or more, found \(secondsPerByte)" }
        if let p = ErrorRate.problem(errors) { return p }
        for phase in phases {
            if let errors = phase.errors, let p = ErrorRate.problem(errors) { return "phase at \(phase.at): \(p)" }
        }
        return nil
    }
}

/// The service time of one method.
public struct MethodServiceTime: Sendable, Hashable {
    public var method: String
    public var serviceTime: Distribution
    public init(_ method: String, _ serviceTime: Distribution) {
        self.method = method
        self.serviceTime = serviceTime
    }
}

/// The chance that a call is answered with an error of a category.
public struct ErrorRate: Sendable, Hashable {
    public var category: ResponseStatus.Category
    /// 0 to 1.
    public var probability: Double

    public init(_ category: ResponseStatus.Category, _ probability: Double) {
        self.category = category
        self.probability = probability
    }

    /// Server errors with `probability`.
    public static func serverError(_ probability: Double) -> ErrorRate { ErrorRate(.serverError, probability) }

    /// Why a list of error rates cannot be used, if it cannot.
    static func problem(_ rates: [ErrorRate]) -> String? {
        for r in rates where !(r.probability >= 0 && r.probability <= 1) {
            return "\(r.category) probability must be 0 to 1, found \(r.probability)"
        }
        if let c = rates.first(where: { $0.category == .success }) { return "\(c.category) is not an error category" }
        let total = rates.reduce(0) { $0 + $1.probability }
        return total > 1 + 1e-12 ? "error probabilities add up to \(total), more than 1" : nil
    }
}

/// How big a successful answer's payload is.
public enum ResponseSize: Sendable, Hashable {
    /// The call's own payload back: its value where the protocol can (a Dubbo `String` argument
    /// is answered with that `String`), else as many bytes.
    case echo
    /// A payload of this many bytes (drawn per answer).
    case sized(Distribution)
}

/// A stretch of a host's life, from ``at`` after the host started until the next phase: what it
/// sets overrides the host's behaviour.
public struct HostPhase: Sendable, Hashable {
    public var at: Duration
    /// Service time of every method.
    public var serviceTime: Distribution?
    public var errors: [ErrorRate]?
    /// Every call closes its connection instead of being served (a host that crashes on each).
    public var closesConnections: Bool

    public init(at: Duration, serviceTime: Distribution? = nil, errors: [ErrorRate]? = nil, closesConnections: Bool = false) {
        self.at = at
        self.serviceTime = serviceTime
        self.errors = errors
        self.closesConnections = closesConnections
    }
}

/// The hosts of one cluster: a behaviour for all, with overrides for some by address.
public struct ServiceModel: Sendable, Hashable {
    public var cluster: String
    public var behaviour: HostBehaviour
    /// By host address.
    public var overrides: [String: HostBehaviour]

    public init(cluster: String, behaviour: HostBehaviour, overrides: [String: HostBehaviour] = [:]) {
        self.cluster = cluster
        self.behaviour = behaviour
        self.overrides = overrides
    }

    /// How the host at `address` behaves.
    public func behaviour(of address: String) -> HostBehaviour { overrides[address] ?? behaviour }
}
