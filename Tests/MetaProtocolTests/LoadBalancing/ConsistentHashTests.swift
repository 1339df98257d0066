import Testing

@testable import MetaProtocol

@Suite("Consistent hashing: ring hash and Maglev")
struct ConsistentHashTests {
    /// Fraction of `keys` whose host changes when host `removed` leaves.
    private func movedFraction(_ make: ([BalancerHost]) -> any LoadBalancer, hostCount: Int, removed: Int, keys: Int) -> Double {
        let all = hosts([UInt32](repeating: 1, count: hostCount))
        var before = make(all)
        var after = make(all.filter { $0.index != removed })
        let activity = HostActivity(hostCount: hostCount)
        var random = SeededRandom(seed: 99)
        var moved = 0
        for _ in 0..<keys {
            let key = random.next()
            let input = PickInput(hashKey: key, activity: activity)
            if before.pick(input, random: &random) != after.pick(input, random: &random) { moved += 1 }
        }
        return Double(moved) / Double(keys)
    }

    @Test func ringEntriesAreProportionalToWeight() {
        let ring = RingHashBalancer(hosts([1, 2]))
        #expect(ring.entriesPerHost == [0: 342, 1: 684], "lightest host gets ⌈1024/3⌉ entries, the other twice that")
        let ten = RingHashBalancer(hosts([UInt32](repeating: 1, count: 10)))
        #expect(ten.ringSize == 1030)
    }

    /// The maximum ring size must bind when the sizing asks for more. Weights 1 : 10 000 ask for
    /// ⌈1024 / 10 001⌉ / (1 / 10 001) = 10 001 entries (the lightest host needs one whole entry);
    /// capped at 5000 the scale is 5000, so the light host keeps its one entry (target 0.49995,
    /// rounded up by the running sum) and the heavy one gets the remaining 4999. With the cap
    /// removed the ring has 10 001 entries (1 and 10 000) and both expectations fail. (The old
    /// check, weights 1 : 1000 under a cap of 5000, asked for only 2002 entries, so the cap never
    /// took part.)
    @Test func maximumRingSizeCapsARingThatAsksForMore() {
        let capped = RingHashBalancer(hosts([1, 10_000]), maximumRingSize: 5000)
        #expect(capped.ringSize == 5000)
        #expect(capped.entriesPerHost == [0: 1, 1: 4999])
        let uncapped = RingHashBalancer(hosts([1, 10_000]))
        #expect(uncapped.ringSize == 10_001, "the same hosts under the default 8M cap size the ring as asked")
    }

    /// A cap below the minimum wins over the minimum (Envoy clamps to the maximum last): two equal
    /// hosts asking for 1024 entries under a cap of 100 get exactly 50 each. Without the cap they
    /// would get 512 each. The policy path (`LoadBalancerPolicy.ringHash`) must pass the cap on.
    @Test func maximumRingSizeWinsOverTheMinimum() throws {
        let direct = RingHashBalancer(hosts([1, 1]), minimumRingSize: 1024, maximumRingSize: 100)
        #expect(direct.ringSize == 100)
        #expect(direct.entriesPerHost == [0: 50, 1: 50])
        let viaPolicy = LoadBalancerPolicy.ringHash(minimumRingSize: 1024, maximumRingSize: 100).makeBalancer(hosts([1, 1]))
        let ring = try #require(viaPolicy as? RingHashBalancer)
        #expect(ring.ringSize == 100)
    }

    @Test(arguments: [10, 20, 50])
    func removingOneOfNHostsMovesAboutOneNthOfTheKeys(n: Int) {
        // The ring over the remaining hosts keeps the configured hosts' sizing, as the host set
        // builds it when a host is ejected.
        let configured = hosts([UInt32](repeating: 1, count: n))
        let moved = movedFraction({ RingHashBalancer($0, reference: configured) }, hostCount: n, removed: n / 2, keys: 100_000)
        #expect(moved <= 1.3 / Double(n))
        #expect(moved > 0.5 / Double(n), "the removed host's keys must move")
    }

    @Test func sizingTheRingOnItsOwnHostsMovesMoreKeys() {
        // Envoy's sizing: the nine remaining hosts each gain entries, which take keys from one
        // another. This is why the host set passes the configured hosts as the reference.
        let moved = movedFraction({ RingHashBalancer($0) }, hostCount: 10, removed: 5, keys: 100_000)
        #expect(moved > 0.15)
    }

    @Test func anEjectedHostMovesOnlyItsKeysThroughTheHostSet() {
        let members = (0..<10).map { HostSetBalancer.Member(host: BalancerHost(index: $0, weight: 1, hashKey: "10.0.0.\($0):20880"), healthy: true) }
        var ejected = members
        ejected[4].healthy = false
        var before = HostSetBalancer(members, settings: .init(policy: .ringHash()))
        var after = HostSetBalancer(ejected, settings: .init(policy: .ringHash()))
        let activity = HostActivity(hostCount: 10)
        var random = SeededRandom(seed: 3)
        var moved = 0
        for _ in 0..<100_000 {
            let input = PickInput(hashKey: random.next(), activity: activity)
            if before.pick(input, random: &random) != after.pick(input, random: &random) { moved += 1 }
        }
        #expect(Double(moved) / 100_000 <= 0.13)
    }

    @Test func ringKeysAreStableAndSpread() {
        var ring = RingHashBalancer(hosts([1, 1, 1, 1]))
        let activity = HostActivity(hostCount: 4)
        let p1 = picks(&ring, count: 20_000, activity: activity, hashKey: { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 })
        let p2 = picks(&ring, count: 20_000, activity: activity, seed: 2, hashKey: { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 })
        #expect(p1 == p2, "the same key always lands on the same host")
        for h in 0..<4 { #expect(p1.filter { $0 == h }.count > 3000) }
    }

    @Test func maglevFillsOneToTwoExactly() {
        let maglev = MaglevBalancer(hosts([1, 2]))
        #expect(maglev.entriesPerHost == [0: 21_846, 1: 43_691])
    }

    @Test(arguments: [10, 20, 50])
    func maglevRemovingOneOfNHostsMovesAboutTwoNthsOfTheKeys(n: Int) {
        let moved = movedFraction({ MaglevBalancer($0) }, hostCount: n, removed: 3, keys: 100_000)
        #expect(moved <= 2.5 / Double(n))
        #expect(moved > 0.5 / Double(n))
    }
}
