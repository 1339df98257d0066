/// Balances over one set of hosts (a cluster, or one subset of it) as Envoy does, in three steps:
///
/// 1. **Priority** — each level's health is `min(100, 1.4 · 100 · healthy / total)` (integer
///    percent); traffic fills P0 up to its health and spills to P1, P2… in order
///    (``priorityState(_:overprovisioningFactor:panicThresholdPercent:)``).
/// 2. **Panic** — only when the levels together cannot carry all traffic (their health sums to
///    less than 100): a level with fewer healthy hosts than the panic threshold (50 %) balances
///    over all its hosts, healthy or not; if every level is in panic, traffic is spread over
///    the levels by host count.
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
    /// Percent of traffic per level, summing to 100 — or all 0 when no host can be picked
    /// (nothing healthy and panic turned off).
    public private(set) var loads: [Int] = []
    /// Per level, whether it balances over all its hosts.
    public private(set) var panic: [Bool] = []
    private let settings: Settings
    private let consistentHashing: Bool

    public init(_ members: [Member], settings: Settings) {
        self.settings = settings
        consistentHashing = settings.policy.isConsistentHashing
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
        let state = Self.priorityState(levels.map { ($0.healthy, $0.total) }, overprovisioningFactor: settings.overprovisioningFactor,
                                       panicThresholdPercent: settings.panicThresholdPercent)
        loads = state.loads
        panic = state.panic
    }

    /// A level's health: `min(100, factor · healthy / total)`, in integer percent.
    public static func health(healthy: Int, total: Int, overprovisioningFactor: Int = 140) -> Int {
        total == 0 ? 0 : min(100, overprovisioningFactor * healthy / total)
    }

    /// A locality's effective weight: `weight · min(100, factor · healthy / total)`.
    public static func effectiveLocalityWeight(weight: UInt32, healthy: Int, total: Int, overprovisioningFactor: Int = 140) -> Int {
        Int(weight) * health(healthy: healthy, total: total, overprovisioningFactor: overprovisioningFactor)
    }

    /// How traffic divides over priority levels, and which levels are in panic.
    public struct PriorityState: Sendable, Equatable {
        public var loads: [Int]
        public var panic: [Bool]
    }

    /// Percent of traffic per priority level, and which levels are in panic.
    ///
    /// Levels are filled in order up to their health; when the health sums to less than 100
    /// the loads are scaled up to sum to 100 (the remainder going to the first level with any
    /// health). Panic is only possible then: a level is in panic when its healthy share is
    /// under the threshold (an empty level always is). When every level is in panic, loads
    /// follow the levels' host counts instead (remainder to the first non-empty level).
    public static func priorityState(_ levels: [(healthy: Int, total: Int)], overprovisioningFactor: Int = 140,
                                     panicThresholdPercent: Double = 50) -> PriorityState {
        guard !levels.isEmpty else { return PriorityState(loads: [], panic: []) }
        let health = levels.map { Self.health(healthy: $0.healthy, total: $0.total, overprovisioningFactor: overprovisioningFactor) }
        let availability = min(100, health.reduce(0, +))
        var loads = [Int](repeating: 0, count: levels.count)
        if availability > 0 {
            var remaining = 100
            for (i, h) in health.enumerated() {
                let share = min(remaining, h * 100 / availability)
                loads[i] = share
                remaining -= share
            }
            if let first = health.firstIndex(where: { $0 > 0 }) { loads[first] += remaining }
        }
        let panic = levels.map { level in
            availability < 100 && (level.total == 0 ? true : Double(level.healthy) * 100 / Double(level.total) < panicThresholdPercent)
        }
        let hosts = levels.reduce(0) { $0 + $1.total }
        if panic.allSatisfy({ $0 }), hosts > 0 {
            var remaining = 100
            for (i, level) in levels.enumerated() {
                loads[i] = 100 * level.total / hosts
                remaining -= loads[i]
            }
            loads[levels.firstIndex { $0.total > 0 }!] += remaining
        }
        return PriorityState(loads: loads, panic: panic)
    }

    /// Percent of traffic per priority level (see ``priorityState(_:overprovisioningFactor:panicThresholdPercent:)``).
    public static func priorityLoads(_ levels: [(healthy: Int, total: Int)], overprovisioningFactor: Int = 140, panicThresholdPercent: Double = 50) -> [Int] {
        priorityState(levels, overprovisioningFactor: overprovisioningFactor, panicThresholdPercent: panicThresholdPercent).loads
    }

    /// Whether the level at `priority` balances over all its hosts because too few are healthy.
    public func isInPanic(priority: Int) -> Bool { panic[priority] }

    /// Picks a host index, or nil when the set has no host at all.
    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
        guard !levels.isEmpty else { return nil }
        // For consistent hashing the hash key chooses the level, so a key stays put; for the
        // others a key must not pin all its requests to one level.
        let key = consistentHashing ? input.hashKey : nil
        let roll = Int(key.map { $0 % 100 } ?? random.next(below: 100))
        var priority = 0
        var cumulative = loads[0]
        while roll >= cumulative && priority + 1 < loads.count {
            priority += 1
            cumulative += loads[priority]
        }
        guard levels[priority].total > 0 else { return nil }
        if panic[priority] { return levels[priority].panicBalancer.pick(input, random: &random) }
        guard levels[priority].healthyBalancer != nil else { return nil }
        if !levels[priority].localities.isEmpty {
            let (locality, _) = levels[priority].localityScheduler.pop()!
            levels[priority].localityScheduler.add(locality, weight: levels[priority].localityWeights[locality])
            return levels[priority].localities[locality].balancer.pick(input, random: &random)
        }
        return levels[priority].healthyBalancer!.pick(input, random: &random)
    }
}
