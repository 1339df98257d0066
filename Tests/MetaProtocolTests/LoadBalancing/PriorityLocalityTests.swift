import Testing

@testable import MetaProtocol

@Suite("Priorities, panic and localities")
struct PriorityLocalityTests {
    /// `total` hosts at `priority`, the first `healthy` of them healthy, in `locality`.
    private func members(from start: Int, count total: Int, healthy: Int, priority: Int = 0, locality: String = "") -> [HostSetBalancer.Member] {
        (0..<total).map { i in
            HostSetBalancer.Member(host: BalancerHost(index: start + i, weight: 1, hashKey: "h\(start + i)"),
                                   priority: priority, locality: locality, healthy: i < healthy)
        }
    }

    @Test(arguments: [(72, 100), (71, 99), (50, 70), (25, 35), (0, 0)])
    func priorityZeroTakesItsHealthAndTheRestSpills(healthyPercent: Int, expectedLoad: Int) {
        // Exact, integer percent: P1 is fully healthy.
        #expect(HostSetBalancer.priorityLoads([(healthyPercent, 100), (100, 100)]) == [expectedLoad, 100 - expectedLoad])
        let set = HostSetBalancer(members(from: 0, count: 100, healthy: healthyPercent) + members(from: 100, count: 100, healthy: 100, priority: 1),
                                  settings: .init())
        #expect(set.loads == [expectedLoad, 100 - expectedLoad])
    }

    @Test func picksFollowThePriorityLoads() {
        var set = HostSetBalancer(members(from: 0, count: 10, healthy: 5) + members(from: 10, count: 10, healthy: 10, priority: 1),
                                  settings: .init())
        #expect(set.loads == [70, 30])
        let p = picks(&set, count: 100_000, activity: HostActivity(hostCount: 20))
        // 30,000 ± 4·√(10^5·0.21) = ±580 to P1
        #expect(abs(p.filter { $0 >= 10 }.count - 30_000) < 580)
        #expect(p.allSatisfy { $0 >= 10 || $0 < 5 }, "unhealthy P0 hosts are not picked (P0 is at 50%, not in panic)")
    }

    @Test func degradedLevelsAreScaledUpAndTotalPanicGoesByHostCount() {
        // Health 28 + 14 < 100: scaled up (panic off, so host counts do not take over).
        #expect(HostSetBalancer.priorityLoads([(10, 100), (20, 100)], panicThresholdPercent: 0) == [34, 66])
        // Health 70 + 14: P1 is in panic, P0 is not.
        #expect(HostSetBalancer.priorityState([(50, 100), (10, 100)]) == .init(loads: [84, 16], panic: [false, true]))
        // Both levels under the panic threshold: spread by host count, remainder to P0.
        #expect(HostSetBalancer.priorityState([(0, 10), (0, 20)]) == .init(loads: [34, 66], panic: [true, true]))
        #expect(HostSetBalancer.priorityState([(40, 100), (10, 100)]) == .init(loads: [50, 50], panic: [true, true]))
        // With panic off and nothing healthy no level takes traffic.
        #expect(HostSetBalancer.priorityState([(0, 10), (0, 10)], panicThresholdPercent: 0) == .init(loads: [0, 0], panic: [false, false]))
        var none = HostSetBalancer(members(from: 0, count: 5, healthy: 0), settings: .init(panicThresholdPercent: 0))
        var random = SeededRandom(seed: 1)
        #expect((0..<10).allSatisfy { _ in none.pick(PickInput(hashKey: nil, activity: HostActivity(hostCount: 5)), random: &random) == nil })
    }

    @Test func noLevelPanicsWhileTheLevelsTogetherCarryAllTraffic() {
        // P0 has 4 of 10 healthy (health 56, under the 50 % threshold on its own), P1 is
        // healthy: together they carry 100 %, so P0's 56 % goes to its 4 healthy hosts only.
        #expect(HostSetBalancer.priorityState([(4, 10), (10, 10)]) == .init(loads: [56, 44], panic: [false, false]))
        var set = HostSetBalancer(members(from: 0, count: 10, healthy: 4) + members(from: 10, count: 10, healthy: 10, priority: 1), settings: .init())
        let p = picks(&set, count: 100_000, activity: HostActivity(hostCount: 20))
        #expect(p.allSatisfy { $0 < 4 || $0 >= 10 }, "no unhealthy P0 host is picked")
        // 56,000 ± 4·√(10^5·0.2464) = ±628 to P0
        #expect(abs(p.filter { $0 < 10 }.count - 56_000) < 628)
        // Alone, the same P0 is in panic and uses all its hosts.
        #expect(HostSetBalancer.priorityState([(4, 10)]) == .init(loads: [100], panic: [true]))
    }

    @Test func onlyConsistentHashingLetsTheKeyChooseTheLevel() {
        var roundRobin = HostSetBalancer(members(from: 0, count: 10, healthy: 5) + members(from: 10, count: 10, healthy: 10, priority: 1), settings: .init())
        var random = SeededRandom(seed: 3)
        let activity = HostActivity(hostCount: 20)
        let levels = Set((0..<200).map { _ in roundRobin.pick(PickInput(hashKey: 42, activity: activity), random: &random)! >= 10 })
        #expect(levels == [false, true], "one key still spreads over both levels")
        var ring = HostSetBalancer(members(from: 0, count: 10, healthy: 5) + members(from: 10, count: 10, healthy: 10, priority: 1), settings: .init(policy: .ringHash()))
        let hosts = Set((0..<200).map { _ in ring.pick(PickInput(hashKey: 42, activity: activity), random: &random)! })
        #expect(hosts.count == 1, "a key stays on one host")
    }

    @Test func belowThePanicThresholdALevelUsesAllItsHosts() {
        var panicking = HostSetBalancer(members(from: 0, count: 10, healthy: 4), settings: .init())
        #expect(panicking.isInPanic(priority: 0))
        let p = picks(&panicking, count: 1000, activity: HostActivity(hostCount: 10))
        #expect(Set(p) == Set(0..<10), "unhealthy hosts take traffic in panic")

        var fine = HostSetBalancer(members(from: 0, count: 10, healthy: 5), settings: .init())
        #expect(!fine.isInPanic(priority: 0))
        #expect(Set(picks(&fine, count: 1000, activity: HostActivity(hostCount: 10))) == Set(0..<5))

        var strict = HostSetBalancer(members(from: 0, count: 10, healthy: 4), settings: .init(panicThresholdPercent: 0))
        #expect(Set(picks(&strict, count: 1000, activity: HostActivity(hostCount: 10))) == Set(0..<4))
    }

    @Test(arguments: [(100, 33.0), (70, 33.0), (69, 32.0), (50, 26.0), (25, 15.0)])
    func localityShareFollowsEffectiveWeights(xHealthyPercent: Int, expectedShare: Double) {
        // X weight 1 with 100 hosts, Y weight 2 with 100 healthy hosts; 10^6 picks.
        var set = HostSetBalancer(
            members(from: 0, count: 100, healthy: xHealthyPercent, locality: "X") + members(from: 100, count: 100, healthy: 100, locality: "Y"),
            settings: .init(panicThresholdPercent: 0, localityWeights: ["X": 1, "Y": 2]))
        let activity = HostActivity(hostCount: 200)
        var random = SeededRandom(seed: 5)
        var x = 0
        let n = 1_000_000
        for _ in 0..<n where set.pick(PickInput(hashKey: nil, activity: activity), random: &random)! < 100 { x += 1 }
        #expect(abs(Double(x) * 100 / Double(n) - expectedShare) <= 0.5)
    }

    @Test func effectiveLocalityWeightIsIntegerPercent() {
        #expect(HostSetBalancer.effectiveLocalityWeight(weight: 1, healthy: 69, total: 100) == 96)
        #expect(HostSetBalancer.effectiveLocalityWeight(weight: 2, healthy: 100, total: 100) == 200)
        #expect(HostSetBalancer.effectiveLocalityWeight(weight: 3, healthy: 0, total: 5) == 0)
    }
}
