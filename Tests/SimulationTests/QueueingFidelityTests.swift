import Foundation
import MetaProtocol
import TrafficModel
import Testing

@testable import Simulation

/// The engine against queueing theory (semantics.md, "Simulator fidelity"). The full-size checks
/// need millions of events and run in optimized builds (`scripts/test` runs them with
/// `swift test -c release`); the debug build runs the same models at a tenth of the size with
/// bounds wide enough for that size.
@Suite("Simulation: fidelity to queueing theory")
struct QueueingFidelityTests {
    /// One host with `workers` workers and `service`, Poisson arrivals at `lambda`, no proxy.
    static func queue(lambda: Double, workers: Int = 1, service: Distribution = .exponential(mean: 1), customers: Double, seed: UInt64,
                      queueLimit: Int? = nil) -> SimulationConfiguration {
        let duration = customers / lambda
        var c = Scenarios.simple(seed: seed, hosts: 1, behaviour: HostBehaviour(workers: workers, queueLimit: queueLimit, serviceTime: service),
                                 duration: .seconds(duration), bypass: true, arrivals: .poisson(rate: lambda))
        c.warmUp = .seconds(duration / 50)
        c.timeSeriesInterval = .seconds(duration / 20)
        c.drainLimit = .seconds(100_000)
        return c
    }

    static let full = isOptimizedBuild

    @Test(.enabled(if: full), arguments: [0.5, 0.8, 0.9])
    func mm1MeanAndP99(rho: Double) throws {
        let expectedMean = 1 / (1 - rho)
        let results = try Simulation.replicate(Self.queue(lambda: rho, customers: 1_000_000, seed: 1000), count: 20)
        let ci = ConfidenceInterval(results.map(\.meanLatencySeconds))
        #expect(ci.contains(expectedMean), "mean \(ci), expected \(expectedMean)")
        #expect(ci.halfWidth <= 0.02 * expectedMean, "half-width \(ci.halfWidth)")
        var pooled = results[0].latency
        for r in results.dropFirst() { pooled.add(r.latency) }
        let p99 = Double(pooled.valueAtPercentile(99)) / 1e9
        let expectedP99 = log(100) / (1 - rho)
        #expect(abs(p99 - expectedP99) <= 0.03 * expectedP99, "p99 \(p99), expected \(expectedP99)")
        #expect(results.allSatisfy { $0.violations.isEmpty })
    }

    @Test(.enabled(if: full))
    func mm1kTurnsAwayTheBlockingProbability() throws {
        // M/M/1/K with K = 10 (one in service, nine waiting), ρ = 0.9:
        // P(K) = (1 − ρ) ρ^K / (1 − ρ^(K+1)) = 0.0508. Twenty replications of 500,000 calls:
        // their spread puts four standard errors of the pooled fraction under 0.0015.
        let rho = 0.9, k = 10.0
        let expected = (1 - rho) * pow(rho, k) / (1 - pow(rho, k + 1))
        let results = try Simulation.replicate(Self.queue(lambda: rho, customers: 500_000, seed: 40, queueLimit: 9), count: 20)
        let perRun = results.map { Double($0.hosts[0].rejected) / Double($0.hosts[0].rejected + $0.hosts[0].completions) }
        let ci = ConfidenceInterval(perRun)
        #expect(abs(ci.mean - expected) <= 0.003, "turned away \(ci), expected \(expected)")
        #expect(ci.halfWidth < 0.0015, "\(ci)")
        // The hosts' window is the clients': their `unavailable` answers give the same fraction.
        let seen = ConfidenceInterval(results.map { Double($0.calls.unavailable) / Double($0.calls.answered) })
        #expect(abs(seen.mean - ci.mean) <= 0.0005, "clients saw \(seen), hosts counted \(ci)")
        #expect(results.allSatisfy { $0.violations.isEmpty })
        print("M/M/1/K (K = 10, rho = 0.9), 20 x 500,000 calls: hosts turned away \(ci), clients saw \(seen), theory \(expected)")
    }

    @Test func mm1AtSmallSize() throws {
        // ρ = 0.5: mean 2, within 5 % over 20 replications of 20,000.
        let results = try Simulation.replicate(Self.queue(lambda: 0.5, customers: 20_000, seed: 77), count: 20)
        let ci = ConfidenceInterval(results.map(\.meanLatencySeconds))
        #expect(abs(ci.mean - 2) < 0.1, "\(ci)")
        #expect(ci.contains(2), "\(ci)")
    }

    @Test(.enabled(if: full))
    func mmcWaitingProbabilityAndMeanWait() throws {
        // c = 2, λ = 1.5, μ = 1: Erlang C gives P(wait) = 0.6429, mean wait 1.2857.
        let r = try Simulation.run(Self.queue(lambda: 1.5, workers: 2, customers: 2_000_000, seed: 2))
        let host = r.hosts[0]
        #expect(abs(host.waitedFraction - 0.6429) <= 0.01, "P(wait) \(host.waitedFraction)")
        #expect(abs(host.meanWait - 1.2857) <= 0.02 * 1.2857, "mean wait \(host.meanWait)")
    }

    @Test(.enabled(if: full))
    func md1MeanWait() throws {
        // Pollaczek–Khinchine: ρ / (2μ(1 − ρ)) = 4.5 at ρ = 0.9.
        let r = try Simulation.run(Self.queue(lambda: 0.9, service: .constant(1), customers: 3_000_000, seed: 3))
        #expect(abs(r.hosts[0].meanWait - 4.5) <= 0.02 * 4.5, "mean wait \(r.hosts[0].meanWait)")
    }

    @Test func littlesLawHoldsPerStation() throws {
        // Three hosts behind the real core, a million completions in the optimized build.
        let customers = Self.full ? 1_000_000.0 : 60_000.0
        var c = Scenarios.simple(seed: 5, hosts: 3, behaviour: HostBehaviour(workers: 2, serviceTime: .lognormal(mean: 0.01, standardDeviation: 0.02)),
                                 duration: .seconds(customers / 450), lb: .leastRequest(), arrivals: .poisson(rate: 450))
        c.warmUp = .seconds(customers / 450 / 20)
        let r = try Simulation.run(c)
        #expect(r.violations == [])
        for host in r.hosts {
            let l = host.meanInSystem, lw = host.throughput * host.meanSojourn
            #expect(abs(l - lw) / l <= 0.01, "host \(host.address): L \(l), λW \(lw)")
        }
        #expect(r.hosts.map(\.completions).reduce(0, +) >= Int(customers * 0.9))
    }

    @Test(.enabled(if: full))
    func lossSystemOverflowIsErlangB() throws {
        // Max 10 requests in flight, no pending queue, Poisson at 8 per service time: the breaker
        // turns away B(10, 8) = 0.1217 of the calls — through the real core.
        var c = Scenarios.simple(seed: 9, hosts: 1, behaviour: HostBehaviour(workers: 10, serviceTime: .exponential(mean: 1)),
                                 duration: .seconds(50_000), breaker: .init(maxPendingRequests: 0, maxRequests: 10), arrivals: .poisson(rate: 8))
        c.warmUp = .seconds(1000)
        let r = try Simulation.run(c)
        let overflow = Double(r.calls.localReplies(.overflow)) / Double(r.calls.answered)
        #expect(abs(overflow - 0.1217) <= 0.005, "overflow fraction \(overflow)")
        #expect(r.violations == [])
    }

    @Test(.enabled(if: full))
    func powerOfTwoChoicesThroughTheCore() throws {
        // 100 single-worker hosts, exponential service of mean 1, Poisson at 90: least request
        // (two choices) keeps the mean time in system near 2.614; random assignment, near 10.
        func meanTime(_ lb: LoadBalancerPolicy) throws -> Double {
            var c = Scenarios.simple(seed: 11, hosts: 100, behaviour: HostBehaviour(serviceTime: .exponential(mean: 1)), duration: .seconds(6000),
                                     lb: lb, arrivals: .poisson(rate: 90))
            c.warmUp = .seconds(300)
            let r = try Simulation.run(c)
            #expect(r.violations == [])
            return r.meanLatencySeconds
        }
        let p2c = try meanTime(.leastRequest())
        let random = try meanTime(.random)
        #expect(p2c >= 2.614 * 0.98 && p2c <= 2.614 * 1.05, "two choices: \(p2c)")
        #expect(random > 8, "random: \(random)")
        #expect(p2c < random / 3)
    }
}
