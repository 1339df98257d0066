import MetaProtocol

/// One kind of call in a client's mix: the attributes it carries (a method, a service, headers)
/// and whether it expects an answer.
public struct CallTemplate: Sendable, Hashable {
    /// Relative weight in the mix; the chance of this template is its weight over the sum.
    public var weight: Double
    public var attributes: [KeyValue]
    /// A oneway call expects no answer.
    public var oneway: Bool

    public init(weight: Double = 1, attributes: [KeyValue], oneway: Bool = false) {
        self.weight = weight
        self.attributes = attributes
        self.oneway = oneway
    }

    /// The call's `method` attribute, if it has one.
    public var method: String? { attributes.first { $0.key == AttributeKey.method }?.value }
}

/// Chooses templates of a mix by weight, with the cumulative weights worked out once.
public struct CallMixSampler: Sendable {
    private let cumulative: [Double]

    /// A sampler over `mix`; templates of weight zero are never chosen.
    public init(_ mix: [CallTemplate]) {
        let total = mix.reduce(0) { $0 + max(0, $1.weight) }
        var running = 0.0
        cumulative = mix.map { t in
            running += max(0, t.weight) / total
            return running
        }
    }

    /// The index of the next template, from one uniform draw of `random`.
    @inline(__always)
    public func choose(_ random: inout SeededRandom) -> Int {
        let u = random.nextUnit()
        var i = 0
        while i < cumulative.count - 1 && u >= cumulative[i] { i += 1 }
        return i
    }
}

/// A group of callers: when they call (``arrivals``), what (``mix``), and how big (``payloadSize``).
/// The simulator's clients and the load generator's both read it.
public struct ClientModel: Sendable, Hashable {
    /// Names the client's random streams and its figures.
    public var name: String
    public var arrivals: ArrivalProcess
    /// What the calls look like, chosen by weight.
    public var mix: [CallTemplate]
    /// Payload bytes of each call.
    public var payloadSize: Distribution
    /// The proxy instance this client uses; nil spreads its calls over all instances in turn.
    public var proxyInstance: Int?
    /// A closed loop instead of ``arrivals``: this many callers, each sending its next call the
    /// moment its previous one is answered (a oneway call counts as answered when sent). The
    /// capacity sweep of the Universal Scalability Law runs clients like this.
    public var concurrency: Int?

    public init(name: String, arrivals: ArrivalProcess, mix: [CallTemplate], payloadSize: Distribution = .constant(1024), proxyInstance: Int? = nil,
                concurrency: Int? = nil) {
        self.name = name
        self.arrivals = arrivals
        self.mix = mix
        self.payloadSize = payloadSize
        self.proxyInstance = proxyInstance
        self.concurrency = concurrency
    }

    /// The stream the client's arrival times are drawn from.
    public func arrivalRandom(seed: UInt64) -> SeededRandom { SeededRandom(seed: seed, stream: "client:\(name):arrivals") }

    /// The stream the client's template choices and payload sizes are drawn from.
    public func choiceRandom(seed: UInt64) -> SeededRandom { SeededRandom(seed: seed, stream: "client:\(name):choices") }
}
