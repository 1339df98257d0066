/// Weighted round robin by earliest deadline first: host i's k-th deadline is k / weightᵢ, a pick
/// takes the earliest, ties go first-in first-out. Over any Σweights consecutive picks each host
/// appears weightᵢ ± 1 times.
public struct RoundRobinBalancer: LoadBalancer {
    private let hosts: [BalancerHost]
    /// How many times each host (by position) has been picked: its next deadline is
    /// (picks + 1) / weight, computed afresh so deadlines are exact ratios, not running sums.
    private var picks: [UInt64]
    private var scheduler = EDFScheduler<Int>()

    public init(_ hosts: [BalancerHost]) {
        self.hosts = hosts
        self.picks = Array(repeating: 0, count: hosts.count)
        for (position, host) in hosts.enumerated() {
            scheduler.add(position, deadline: 1 / Double(host.weight))
        }
    }

    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
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
