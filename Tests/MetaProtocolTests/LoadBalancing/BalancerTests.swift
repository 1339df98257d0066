import Testing

@testable import MetaProtocol

func hosts(_ weights: [UInt32]) -> [BalancerHost] {
    weights.enumerated().map { BalancerHost(index: $0.offset, weight: $0.element, hashKey: "10.0.0.\($0.offset):20880") }
}

func picks(_ balancer: inout some LoadBalancer, count: Int, activity: HostActivity, seed: UInt64 = 1, hashKey: (Int) -> UInt64? = { _ in nil }) -> [Int] {
    var random = SeededRandom(seed: seed)
    return (0..<count).map { i in balancer.pick(PickInput(hashKey: hashKey(i), activity: activity), random: &random)! }
}

@Suite("Load balancers: round robin, random, least request")
struct BalancerTests {
    @Test func weightedRoundRobinSplitsOneToTwoExactly() {
        var rr = RoundRobinBalancer(hosts([1, 2]))
        let p = picks(&rr, count: 300, activity: HostActivity(hostCount: 2))
        for window in stride(from: 0, to: 300, by: 3) {
            let w = p[window..<(window + 3)]
            #expect(w.filter { $0 == 0 }.count == 1)
            #expect(w.filter { $0 == 1 }.count == 2)
        }
        #expect(Array(p.prefix(6)) == [1, 0, 1, 1, 0, 1], "deadlines 0.5, 1(A, added first), 1(B), 1.5, 2(A), 2(B)")
    }

    @Test(arguments: [[1, 2, 3, 5, 7], [1, 1, 1, 1], [10, 1], [3, 3, 4, 100]] as [[UInt32]])
    func everyWindowOfSumWeightsPicksEachHostWeightPlusMinusOne(weights: [UInt32]) {
        var rr = RoundRobinBalancer(hosts(weights))
        let total = Int(weights.reduce(0, +))
        let p = picks(&rr, count: total * 20, activity: HostActivity(hostCount: weights.count))
        for start in 0...(p.count - total) {
            var counts = [Int](repeating: 0, count: weights.count)
            for h in p[start..<(start + total)] { counts[h] += 1 }
            for (h, w) in weights.enumerated() {
                #expect(abs(counts[h] - Int(w)) <= 1, "window at \(start), host \(h)")
            }
        }
    }

    @Test func randomIsUniformOverHosts() {
        // 10^5 picks over 10 hosts: each within 4 standard errors (4·√(10^4·0.9) = 380).
        var random = RandomBalancer(hosts([1, 5, 1, 1, 1, 1, 1, 1, 1, 9]))
        let p = picks(&random, count: 100_000, activity: HostActivity(hostCount: 10))
        for h in 0..<10 { #expect(abs(p.filter { $0 == h }.count - 10_000) < 380) }
    }

    @Test func powerOfTwoChoicesAvoidsTheBusyHost() {
        // Host 0 has 100 active requests, the other three none: it is picked only when both
        // draws land on it, probability 1/16. 16,000 picks: 1000 ± 4·30.6.
        let activity = HostActivity(hostCount: 4)
        activity.activeRequests[0] = 100
        var lr = LeastRequestBalancer(hosts([1, 1, 1, 1]))
        let p = picks(&lr, count: 16_000, activity: activity)
        #expect(abs(p.filter { $0 == 0 }.count - 1000) < 123)
        // With one choice it is plain random: 4000 ± 4·54.8.
        var one = LeastRequestBalancer(hosts([1, 1, 1, 1]), choiceCount: 1)
        #expect(abs(picks(&one, count: 16_000, activity: activity).filter { $0 == 0 }.count - 4000) < 220)
    }

    @Test func effectiveWeightIsWeightOverActivePlusOneToTheBias() {
        #expect(LeastRequestBalancer.effectiveWeight(weight: 2, active: 4, bias: 1.0) == 0.4)
        #expect(LeastRequestBalancer.effectiveWeight(weight: 2, active: 4, bias: 0.0) == 2)
        #expect(LeastRequestBalancer.effectiveWeight(weight: 9, active: 8, bias: 0.5) == 3)
    }

    @Test func unequalWeightsUseEDFOnEffectiveWeights() {
        // Idle hosts of weight 1 and 2 split 1:2; once host 1 has one active request both
        // weigh 1 and split evenly.
        let activity = HostActivity(hostCount: 2)
        var lr = LeastRequestBalancer(hosts([1, 2]))
        let idle = picks(&lr, count: 3000, activity: activity)
        #expect(idle.filter { $0 == 1 }.count == 2000)
        activity.activeRequests[1] = 1
        var busy = LeastRequestBalancer(hosts([1, 2]))
        let p = picks(&busy, count: 3000, activity: activity)
        #expect(p.filter { $0 == 1 }.count == 1500)
    }
}
