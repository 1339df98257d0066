import Foundation
import Testing

@testable import MetaProtocol

/// The power-of-two-choices queueing check (Mitzenmacher's supermarket model): N FIFO hosts with
/// exponential service of mean 1, Poisson arrivals at 0.9·N. Joining the shorter of two random
/// queues gives a mean time in system near 2.614 for large N; random assignment gives an M/M/1
/// at ρ = 0.9, mean 10.
@Suite("Least request: queueing behaviour")
struct LeastRequestQueueingTests {
    /// Mean time in system over `arrivals` requests after `warmUp`, with the balancer choosing.
    static func meanTimeInSystem(hosts n: Int, makeBalancer: ([BalancerHost]) -> any LoadBalancer, arrivals: Int, warmUp: Int, seed: UInt64) -> Double {
        var random = SeededRandom(seed: seed)
        var balancer = makeBalancer((0..<n).map { BalancerHost(index: $0, weight: 1, hashKey: "\($0)") })
        let activity = HostActivity(hostCount: n)
        let lambda = 0.9 * Double(n)
        // Each host's FIFO queue holds the departure times of the requests it has; a request's
        // departure = max(arrival, previous departure) + service.
        var lastDeparture = [Double](repeating: 0, count: n)
        var departures = EDFScheduler<Int>()  // pending departures by time, to keep `active` right
        var now = 0.0
        var total = 0.0
        for i in 0..<(warmUp + arrivals) {
            now += -log(1 - random.nextUnit()) / lambda
            while let next = departures.peekDeadline(), next <= now {
                let (host, _) = departures.pop()!
                activity.activeRequests[host] -= 1
            }
            let host = balancer.pick(PickInput(hashKey: nil, activity: activity), random: &random)!
            let service = -log(1 - random.nextUnit())
            let departure = max(now, lastDeparture[host]) + service
            lastDeparture[host] = departure
            activity.activeRequests[host] += 1
            departures.add(host, deadline: departure)
            if i >= warmUp { total += departure - now }
        }
        return total / Double(arrivals)
    }

    @Test func twoChoicesBeatRandomAssignmentByFar() {
        let p2c = Self.meanTimeInSystem(hosts: 100, makeBalancer: { LeastRequestBalancer($0) }, arrivals: 400_000, warmUp: 40_000, seed: 11)
        #expect(p2c >= 2.614 * 0.99)
        #expect(p2c <= 2.614 * 1.05)
        let random = Self.meanTimeInSystem(hosts: 100, makeBalancer: { RandomBalancer($0) }, arrivals: 400_000, warmUp: 40_000, seed: 11)
        #expect(random > 8, "random assignment is an M/M/1 at 0.9 per host: about 10")
        #expect(p2c < random / 3)
    }
}
