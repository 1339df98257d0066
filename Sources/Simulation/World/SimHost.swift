import MetaProtocol

/// A synthetic host: workers, a FIFO queue, service times by method, errors, faults.
struct SimHost {
    let address: String
    /// Index of its cluster in the configuration.
    let cluster: Int
    let behaviour: HostBehaviour
    /// Service-time samplers by call template; a host of another cluster never sees a call it
    /// was not configured for, and uses the default then.
    let serviceTimes: [Distribution.Sampler]
    let responseSize: Distribution.Sampler?
    var random: SeededRandom
    var network: SeededRandom

    var up = true
    var partitioned = false
    var slowFactor = 1.0
    var errorProbability: Double
    /// Incremented by a crash: work of an earlier life is forgotten.
    var epoch: Int32 = 0
    var busy = 0
    var queue = RingBuffer<Int32>()

    // For Little's law and queueing checks, from the end of the warm-up: time-integral of the
    // requests in the host, completions, their time in the host and their wait for a worker.
    var inSystem = 0
    var lastChange: Int64 = 0
    var measureFrom: Int64 = 0
    var area: Double = 0
    var completions = 0
    var sojournTotal: Double = 0
    var waited = 0
    var waitTotal: Double = 0
    var errors = 0
    var rejected = 0
    var maxQueue = 0

    init(address: String, cluster: Int, behaviour: HostBehaviour, templates: [CallTemplate], seed: UInt64) {
        self.address = address
        self.cluster = cluster
        self.behaviour = behaviour
        let fallback = behaviour.serviceTime.sampler()
        serviceTimes = templates.map { t in t.method.flatMap { behaviour.serviceTimeByMethod[$0]?.sampler() } ?? fallback }
        responseSize = behaviour.responseSize?.sampler()
        random = SeededRandom(seed: seed, stream: "host:\(address)")
        network = SeededRandom(seed: seed, stream: "network:\(address)")
        errorProbability = behaviour.errorProbability
    }

    /// Accounts the time since the last change before the number in the host changes.
    mutating func change(now: Int64, by delta: Int) {
        if now > measureFrom { area += Double(inSystem) * Double(now - max(lastChange, measureFrom)) }
        lastChange = now
        inSystem += delta
    }

    /// Seconds to serve a call of `template` with `payload` bytes.
    mutating func serviceSeconds(template: Int32, payload: Int) -> Double {
        let sampler = template >= 0 && Int(template) < serviceTimes.count ? serviceTimes[Int(template)] : serviceTimes.first ?? behaviour.serviceTime.sampler()
        let base = sampler.sample(&random) + Double(payload) * behaviour.secondsPerByte
        return base * slowFactor / behaviour.speedFactor
    }
}

/// A FIFO of fixed-size values in a growable ring: no allocation once grown.
struct RingBuffer<Element> {
    private var storage: [Element?] = Array(repeating: nil, count: 16)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ e: Element) {
        if count == storage.count {
            let old = (0..<count).map { storage[(head + $0) % storage.count] }
            storage = old + Array(repeating: nil, count: old.count)
            head = 0
        }
        storage[(head + count) % storage.count] = e
        count += 1
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let e = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return e
    }

    mutating func removeAll() {
        while popFirst() != nil {}
    }
}
