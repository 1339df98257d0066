import Foundation

/// Least request, as Envoy defines it.
///
/// - Equal weights: draw `choiceCount` hosts at random (with replacement) and take the one with
///   the fewest active requests, the first drawn on a tie ("power of two choices").
/// - Unequal weights: earliest deadline first where a host's weight, each time it is scheduled,
///   is `weight / (active + 1)^bias`.
public struct LeastRequestBalancer: LoadBalancer {
    private let hosts: [BalancerHost]
    private let choiceCount: Int
    private let activeRequestBias: Double
    private let equalWeights: Bool
    private var scheduler = EDFScheduler<Int>()
    private var schedulerStarted = false

    public init(_ hosts: [BalancerHost], choiceCount: Int = 2, activeRequestBias: Double = 1.0) {
        self.hosts = hosts
        self.choiceCount = max(1, choiceCount)
        self.activeRequestBias = activeRequestBias
        self.equalWeights = Set(hosts.map(\.weight)).count <= 1
    }

    /// `weight / (active + 1)^bias`: the weight EDF schedules a host with.
    public static func effectiveWeight(weight: UInt32, active: Int, bias: Double) -> Double {
        if bias == 1 { return Double(weight) / Double(active + 1) }
        if bias == 0 { return Double(weight) }
        return Double(weight) / pow(Double(active + 1), bias)
    }

    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
        guard !hosts.isEmpty else { return nil }
        if equalWeights {
            var best = hosts[random.nextIndex(hosts.count)].index
            var bestActive = input.activity.activeRequests[best]
            for _ in 1..<choiceCount {
                let candidate = hosts[random.nextIndex(hosts.count)].index
                let active = input.activity.activeRequests[candidate]
                if active < bestActive {
                    best = candidate
                    bestActive = active
                }
            }
            return best
        }
        if !schedulerStarted {
            for (position, host) in hosts.enumerated() {
                scheduler.add(position, weight: weight(host, input))
            }
            schedulerStarted = true
        }
        let (position, _) = scheduler.pop()!
        let host = hosts[position]
        scheduler.add(position, weight: weight(host, input))
        return host.index
    }

    private func weight(_ host: BalancerHost, _ input: PickInput) -> Double {
        Self.effectiveWeight(weight: host.weight, active: input.activity.activeRequests[host.index], bias: activeRequestBias)
    }
}
