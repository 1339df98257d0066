/// Balances over one set of hosts (a cluster, or one subset of it) as Envoy does, in three steps:
///
/// 1. **Priority** — each level's health is `min(100, 1.4 · 100 · healthy / total)` (integer
///    percent); traffic fills P0 up to its health and spills to P1, P2… in order
///    (``priorityLoads(_:overprovisioningFactor:)``).
/// 2. **Panic** — if the chosen level has fewer healthy hosts than the panic threshold (50 %),
///    it balances over all its hosts, healthy or not.
/// 3. **Locality** (optional) — localities are picked by EDF on
///    `weight · min(100, 1.4 · 100 · healthy / total)`, then a host within the locality.
///
/// The host pick itself is the cluster's ``LoadBalancer``. A host set is rebuilt when a host's
/// health changes; building is where all the work is, picking is cheap.
public struct HostSetBalancer: LoadBalancer {
    /// A host with what the host set needs to know about it.
    public struct Member: Sendable {
        public var host: BalancerHost
        public var priority: Int
        public var locality: String
        public var healthy: Bool

        public init(host: BalancerHost, priority: Int = 0, locality: String = "", healthy: Bool = true) {
            self.host = host
            self.priority = priority
            self.locality = locality
            self.healthy = healthy
        }
    }

    /// Envoy's knobs for priorities, panic and localities.
    public struct Settings: Sendable, Hashable {
        public var policy: LoadBalancerPolicy
        /// Percent; Envoy's default 140 (an overprovisioning factor of 1.4).
        public var overprovisioningFactor: Int
        /// Percent of healthy hosts below which a priority level balances over all its hosts.
        public var panicThresholdPercent: Double
        /// Locality weights; nil turns locality weighting off. Localities not listed weigh 1.
        public var localityWeights: [String: UInt32]?

        public init(policy: LoadBalancerPolicy = .roundRobin, overprovisioningFactor: Int = 140,
                    panicThresholdPercent: Double = 50, localityWeights: [String: UInt32]? = nil) {
            self.policy = policy
            self.overprovisioningFactor = overprovisioningFactor
            self.panicThresholdPercent = panicThresholdPercent
            self.localityWeights = localityWeights
        }
    }

    private struct Locality: Sendable {
        var balancer: any LoadBalancer
    }

    private struct Level: Sendable {
        var total: Int
        var healthy: Int
        var healthyBalancer: (any LoadBalancer)?
        var panicBalancer: any LoadBalancer
        var localities: [Locality] = []
        var localityScheduler = EDFScheduler<Int>()
        var localityWeights: [Double] = []
    }

    private var levels: [Level] = []
    /// Percent of traffic per level, summing to 100 (all to P0 when nothing is healthy).
    public private(set) var loads: [Int] = []
    private let settings: Settings

    public init(_ members: [Member], settings: Settings) {
        self.settings = settings
        guard let maxPriority = members.map(\.priority).max() else { return }
        let useLocalities = settings.localityWeights != nil && !settings.policy.isConsistentHashing
        for priority in 0...maxPriority {
            let inLevel = members.filter { $0.priority == priority }
            let healthy = inLevel.filter(\.healthy)
            var level = Level(
                total: inLevel.count, healthy: healthy.count,
                healthyBalancer: healthy.isEmpty ? nil : settings.policy.makeBalancer(healthy.map(\.host), reference: inLevel.map(\.host)),
                panicBalancer: settings.policy.makeBalancer(inLevel.map(\.host)))
            if useLocalities {
                // Localities in order of first appearance: deterministic, independent of hashing.
                var names: [String] = []
                for m in inLevel where !names.contains(m.locality) { names.append(m.locality) }
                for name in names {
                    let all = inLevel.filter { $0.locality == name }
                    let up = all.filter(\.healthy)
                    let effective = Self.effectiveLocalityWeight(
                        weight: settings.localityWeights?[name] ?? 1, healthy: up.count, total: all.count,
                        overprovisioningFactor: settings.overprovisioningFactor)
                    guard effective > 0 else { continue }
                    level.localityWeights.append(Double(effective))
                    level.localities.append(Locality(balancer: settings.policy.makeBalancer(up.map(\.host))))
                    level.localityScheduler.add(level.localities.count - 1, weight: Double(effective))
                }
            }
            levels.append(level)
        }
        loads = Self.priorityLoads(levels.map { ($0.healthy, $0.total) }, overprovisioningFactor: settings.overprovisioningFactor)
    }

    /// A level's health: `min(100, factor · healthy / total)`, in integer percent.
    public static func health(healthy: Int, total: Int, overprovisioningFactor: Int = 140) -> Int {
        total == 0 ? 0 : min(100, overprovisioningFactor * healthy / total)
    }

    /// A locality's effective weight: `weight · min(100, factor · healthy / total)`.
    public static func effectiveLocalityWeight(weight: UInt32, healthy: Int, total: Int, overprovisioningFactor: Int = 140) -> Int {
        Int(weight) * health(healthy: healthy, total: total, overprovisioningFactor: overprovisioningFactor)
    }

    /// Percent of traffic per priority level. Levels are filled in order up to their health;
    /// when the levels' health sums to less than 100 the loads are scaled up to sum to 100 (the
    /// remainder going to the first healthy level); when nothing is healthy P0 takes it all.
    public static func priorityLoads(_ levels: [(healthy: Int, total: Int)], overprovisioningFactor: Int = 140) -> [Int] {
        guard !levels.isEmpty else { return [] }
        let health = levels.map { Self.health(healthy: $0.healthy, total: $0.total, overprovisioningFactor: overprovisioningFactor) }
        let sum = health.reduce(0, +)
        var loads = [Int](repeating: 0, count: levels.count)
        if sum == 0 {
            loads[0] = 100
        } else if sum >= 100 {
            var remaining = 100
            for (i, h) in health.enumerated() {
                loads[i] = min(remaining, h)
                remaining -= loads[i]
            }
        } else {
            for (i, h) in health.enumerated() { loads[i] = h * 100 / sum }
            let leftover = 100 - loads.reduce(0, +)
            if let first = health.firstIndex(where: { $0 > 0 }) { loads[first] += leftover }
        }
        return loads
    }

    /// Whether the level at `priority` balances over all its hosts because too few are healthy.
    public func isInPanic(priority: Int) -> Bool {
        let level = levels[priority]
        return level.total > 0 && Double(level.healthy) * 100 / Double(level.total) < settings.panicThresholdPercent
    }

    /// Picks a host index, or nil when the set has no host at all.
    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
        guard !levels.isEmpty else { return nil }
        // The hash key chooses the level for consistent hashing, so a key stays put.
        let roll = Int(input.hashKey.map { $0 % 100 } ?? random.next(below: 100))
        var priority = 0
        var cumulative = loads[0]
        while roll >= cumulative && priority + 1 < loads.count {
            priority += 1
            cumulative += loads[priority]
        }
        guard levels[priority].total > 0 else { return nil }
        if isInPanic(priority: priority) || levels[priority].healthyBalancer == nil {
            return levels[priority].panicBalancer.pick(input, random: &random)
        }
        if !levels[priority].localities.isEmpty {
            let (locality, _) = levels[priority].localityScheduler.pop()!
            levels[priority].localityScheduler.add(locality, weight: levels[priority].localityWeights[locality])
            return levels[priority].localities[locality].balancer.pick(input, random: &random)
        }
        return levels[priority].healthyBalancer!.pick(input, random: &random)
    }
}
