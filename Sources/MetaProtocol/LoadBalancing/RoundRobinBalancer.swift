/// Weighted round robin by earliest deadline first: host i's k-th deadline is k / weightᵢ, a pick
/// takes the earliest, ties go first-in first-out. Over any Σweights consecutive picks each host
/// appears weightᵢ ± 1 times.
public struct RoundRobinBalancer: LoadBalancer {
    private let hosts: [BalancerHost]
    /// With equal weights EDF visits hosts in a plain cycle; it is kept as an index.
    private let equalWeights: Bool
    private var next = 0
    /// How many times each host (by position) has been picked: its next deadline is
    /// (picks + 1) / weight, computed afresh so deadlines are exact ratios, not running sums.
    private var picks: [UInt64]
    private var scheduler = EDFScheduler<Int>()

    public init(_ hosts: [BalancerHost]) {
        self.hosts = hosts
        self.equalWeights = Set(hosts.map(\.weight)).count <= 1
        self.picks = Array(repeating: 0, count: equalWeights ? 0 : hosts.count)
        if equalWeights { return }
        for (position, host) in hosts.enumerated() {
            scheduler.add(position, deadline: 1 / Double(host.weight))
        }
    }

    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
        if equalWeights {
            guard !hosts.isEmpty else { return nil }
            defer { next = next + 1 == hosts.count ? 0 : next + 1 }
            return hosts[next].index
        }
        guard let (position, _) = scheduler.pop() else { return nil }
        picks[position] += 1
        let host = hosts[position]
        scheduler.add(position, deadline: Double(picks[position] + 1) / Double(host.weight))
        return host.index
    }
}

/// Uniform over the hosts, weights ignored (Envoy's random balancer).
public struct RandomBalancer: LoadBalancer {
    private let hosts: [BalancerHost]

    public init(_ hosts: [BalancerHost]) { self.hosts = hosts }

    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
        hosts.isEmpty ? nil : hosts[random.nextIndex(hosts.count)].index
    }
}
