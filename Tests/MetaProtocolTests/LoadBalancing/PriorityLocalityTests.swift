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

    @Test func degradedLevelsAreScaledUpAndNothingHealthyMeansP0() {
        #expect(HostSetBalancer.priorityLoads([(20, 100), (20, 100)]) == [50, 50])
        #expect(HostSetBalancer.priorityLoads([(10, 100), (20, 100)]) == [34, 66])
        #expect(HostSetBalancer.priorityLoads([(0, 10), (0, 10)]) == [100, 0])
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
