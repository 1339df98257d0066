/// A host a balancer may pick: its index in the cluster's host table, its weight, and the key
/// consistent hashing places it by (its address).
public struct BalancerHost: Sendable, Hashable {
    public var index: Int
    public var weight: UInt32
    public var hashKey: String

    public init(index: Int, weight: UInt32, hashKey: String) {
        self.index = index
        self.weight = max(1, weight)
        self.hashKey = hashKey
    }
}

/// Live per-host figures a balancer may read: active requests, for least request. Owned by the
/// cluster's runtime state and updated as requests start and end.
public final class HostActivity: @unchecked Sendable {
    /// Active (in-flight) requests per host, by host index.
    @exclusivity(unchecked) public var activeRequests: [Int]

    public init(hostCount: Int) { activeRequests = Array(repeating: 0, count: hostCount) }
}

/// What a pick may depend on besides the balancer's own state.
public struct PickInput {
    /// The request's hash (from the route's hash policy), for consistent hashing balancers.
    public var hashKey: UInt64?
    /// Live host figures.
    public var activity: HostActivity

    public init(hashKey: UInt64?, activity: HostActivity) {
        self.hashKey = hashKey
        self.activity = activity
    }
}

/// Picks one host among a fixed list of candidates. One job, as in Envoy: priorities, panic and
/// localities are decided around it (``HostSetBalancer``); a balancer only sees the hosts it
/// was built with, which are all available.
public protocol LoadBalancer: Sendable {
    /// Returns the host index (``BalancerHost/index``) of the pick, or nil if it has no host.
    mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int?
}

/// Which balancer a cluster uses, with its settings (Envoy's names and defaults).
public enum LoadBalancerPolicy: Sendable, Hashable {
    /// Weighted round robin by earliest deadline first.
    case roundRobin
    /// Uniform over available hosts.
    case random
    /// Power of `choiceCount` choices (equal weights), or EDF on weight / (active + 1)^bias.
    case leastRequest(choiceCount: Int = 2, activeRequestBias: Double = 1.0)
    /// Consistent hashing on a ring of between `minimumRingSize` and `maximumRingSize` entries.
    case ringHash(minimumRingSize: Int = 1024, maximumRingSize: Int = 8 * 1024 * 1024)
    /// Consistent hashing with a Maglev lookup table of `tableSize` entries (a prime).
    case maglev(tableSize: Int = 65537)

    /// Whether picks follow the request's hash key.
    public var isConsistentHashing: Bool {
        switch self {
        case .ringHash, .maglev: true
        default: false
        }
    }

    /// A balancer of this policy over `hosts`; `reference` is the full host list the hosts were
    /// chosen from (the ring hash sizes itself on it).
    public func makeBalancer(_ hosts: [BalancerHost], reference: [BalancerHost]? = nil) -> any LoadBalancer {
        switch self {
        case .roundRobin: RoundRobinBalancer(hosts)
        case .random: RandomBalancer(hosts)
        case .leastRequest(let choices, let bias): LeastRequestBalancer(hosts, choiceCount: choices, activeRequestBias: bias)
        case .ringHash(let minimum, let maximum):
            RingHashBalancer(hosts, reference: reference, minimumRingSize: minimum, maximumRingSize: maximum)
        case .maglev(let size): MaglevBalancer(hosts, tableSize: size)
        }
    }
}
