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

    /// Standard errors of a figure that is a mean over `n` customers (or a time average over
    /// `n` time units) of a correlated sequence: `√(σ² / n)`, with σ² the asymptotic variance
    /// constant (the variance of one value times its integrated autocorrelation). The
    /// constants below were measured by independent replications of the same queues outside
    /// the simulator (Lindley's and Kiefer–Wolfowitz's recursions, and a birth–death loss
    /// system), 100 to 1000 replications each, and rounded up; M/M/1's is exact.
    enum AsymptoticVariance {
        /// M/M/2, λ = 1.5, μ = 1, mean wait per customer: measured 214 (±10 %).
        static let mmcWait = 250.0
        /// The same queue, waited-or-not per customer: measured 2.65.
        static let mmcWaited = 3.0
        /// M/D/1, ρ = 0.9, mean wait per customer: measured 3985 and 4261 (±8 %, ±5 %).
        static let md1WaitHeavy = 4300.0
        /// M/D/1, ρ = 0.5, mean wait per customer: measured 3.87 and 3.74.
        static let md1WaitLight = 4.0
        /// M/M/1, μ = 1, time-average number in system per unit of time: 2ρ(1 + ρ) / (1 − ρ)⁴,
        /// 24 at ρ = 0.5 (measured 23.0 over 200 replications).
        static func mm1InSystem(rho: Double) -> Double { 2 * rho * (1 + rho) / pow(1 - rho, 4) }
        /// Erlang loss, 10 servers, a = 8, turned-away-or-not per arrival: measured 0.41.
        static let erlangBOverflow = 0.5
    }

    static func standardError(_ variance: Double, over n: Int) -> Double { (variance / Double(max(1, n))).squareRoot() }

    /// Erlang C: c = 2, λ = 1.5, μ = 1 gives P(wait) = 0.6429 and mean wait 1.2857. Four
    /// replications of 1.6 million customers (6.27 million measured, in parallel): the standard
    /// error of the mean wait is √(250 / 6.27·10⁶) = 0.0063, so the 2 % band (0.0257) is 4.1 of
    /// them (one run of 2 million was 2.5); P(wait)'s is 0.0007, and ± 0.01 is 14.
    @Test(.enabled(if: full))
    func mmcWaitingProbabilityAndMeanWait() throws {
        let runs = try Simulation.replicate(Self.queue(lambda: 1.5, workers: 2, customers: 1_600_000, seed: 2), count: 4)
        try Self.checkErlangC(runs, waitTolerance: 0.02 * 1.2857, waitedTolerance: 0.01)
    }

    /// The same queue at a size the debug build runs: four replications of 100,000 (392,000
    /// measured). Standard errors 0.0253 (wait) and 0.0028 (P(wait)); the bands, 0.105 and
    /// 0.012, are 4.2 and 4.3 of them, and still tell Erlang C from the nearest wrong model
    /// (one server twice as fast: P(wait) 0.75, mean wait 1.5).
    @Test func mmcAtSmallSize() throws {
        let runs = try Simulation.replicate(Self.queue(lambda: 1.5, workers: 2, customers: 100_000, seed: 62), count: 4)
        try Self.checkErlangC(runs, waitTolerance: 0.105, waitedTolerance: 0.012)
    }

    /// Pooled over `runs` (each customer counts once), P(wait) and the mean wait against
    /// Erlang C, with the bands checked to be at least four standard errors for the customers
    /// actually measured.
    static func checkErlangC(_ runs: [SimulationResult], waitTolerance: Double, waitedTolerance: Double) throws {
        let hosts = runs.map { $0.hosts[0] }
        let n = hosts.map(\.completions).reduce(0, +)
        let meanWait = hosts.reduce(0.0) { $0 + $1.meanWait * Double($1.completions) } / Double(n)
        let waited = hosts.reduce(0.0) { $0 + $1.waitedFraction * Double($1.completions) } / Double(n)
        #expect(waitTolerance >= 4 * standardError(AsymptoticVariance.mmcWait, over: n), "\(n) customers are too few for ± \(waitTolerance)")
        #expect(waitedTolerance >= 4 * standardError(AsymptoticVariance.mmcWaited, over: n), "\(n) customers are too few for ± \(waitedTolerance)")
        #expect(abs(waited - 0.6429) <= waitedTolerance, "P(wait) \(waited) over \(n) customers")
        #expect(abs(meanWait - 1.2857) <= waitTolerance, "mean wait \(meanWait) over \(n) customers")
        #expect(runs.allSatisfy { $0.violations.isEmpty })
    }

    /// Pollaczek–Khinchine: ρ / (2μ(1 − ρ)) = 4.5 at ρ = 0.9. Three replications of 3 million
    /// (8.82 million measured): standard error √(4300 / 8.82·10⁶) = 0.0221, so the 2 % band
    /// (0.09) is 4.1 of them (one run of 3 million was 2.4).
    @Test(.enabled(if: full))
    func md1MeanWait() throws {
        let runs = try Simulation.replicate(Self.queue(lambda: 0.9, service: .constant(1), customers: 3_000_000, seed: 3), count: 3)
        try Self.checkMD1(runs, rho: 0.9, variance: AsymptoticVariance.md1WaitHeavy, tolerance: 0.02 * 4.5)
    }

    /// M/D/1 at a size the debug build runs. At ρ = 0.9 the waits are so correlated that
    /// 200,000 customers leave a standard error of 0.15, so this runs at ρ = 0.5: mean wait
    /// 0.5, four replications of 50,000 (196,000 measured), standard error √(4 / 196,000) =
    /// 0.0045, band 0.02 = 4.4 of them. Exponential service (M/M/1) would wait 1.0, twice as
    /// long: the deterministic service is what is checked.
    @Test func md1AtSmallSize() throws {
        let runs = try Simulation.replicate(Self.queue(lambda: 0.5, service: .constant(1), customers: 50_000, seed: 63), count: 4)
        try Self.checkMD1(runs, rho: 0.5, variance: AsymptoticVariance.md1WaitLight, tolerance: 0.02)
    }

    static func checkMD1(_ runs: [SimulationResult], rho: Double, variance: Double, tolerance: Double) throws {
        let expected = rho / (2 * (1 - rho))
        let hosts = runs.map { $0.hosts[0] }
        let n = hosts.map(\.completions).reduce(0, +)
        let meanWait = hosts.reduce(0.0) { $0 + $1.meanWait * Double($1.completions) } / Double(n)
        #expect(tolerance >= 4 * standardError(variance, over: n), "\(n) customers are too few for ± \(tolerance)")
        #expect(abs(meanWait - expected) <= tolerance, "mean wait \(meanWait) over \(n) customers, expected \(expected)")
        #expect(runs.allSatisfy { $0.violations.isEmpty })
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

    /// Little's law above compares L with λW from the same station's sums, which agree by
    /// construction if both are wrong the same way. Here one station's L is held against its
    /// own closed form: M/M/1 at ρ = 0.5 has L = ρ / (1 − ρ) = 1 (and W = 1 / (μ − λ) = 2,
    /// through Little). The time average over a window of T has standard error
    /// √(2ρ(1 + ρ) / (1 − ρ)⁴ / T) = √(24 / T): 0.0035 over the 1.96 million seconds of the
    /// optimized build's run, 0.011 over the debug build's 196,000; the band is four of them.
    /// Counting only the waiting calls (L_q = 0.5) or the window's time wrongly fails here.
    @Test func littlesLawStationMatchesItsClosedForm() throws {
        let rho = 0.5
        let r = try Simulation.run(Self.queue(lambda: rho, customers: Self.full ? 1_000_000 : 100_000, seed: 21))
        #expect(r.violations == [])
        let host = r.hosts[0]
        let expectedL = rho / (1 - rho)
        let band = 4 * (AsymptoticVariance.mm1InSystem(rho: rho) / host.windowSeconds).squareRoot()
        #expect(band < 0.05, "the window (\(host.windowSeconds) s) is too short for a meaningful band")
        #expect(abs(host.meanInSystem - expectedL) <= band, "L \(host.meanInSystem), expected \(expectedL) ± \(band)")
        let lw = host.throughput * host.meanSojourn
        #expect(abs(host.meanInSystem - lw) / host.meanInSystem <= 0.01, "L \(host.meanInSystem), λW \(lw)")
        #expect(abs(host.throughput - rho) <= 4 * (rho / host.windowSeconds).squareRoot(), "throughput \(host.throughput)")
    }

    /// Max 10 requests in flight, no pending queue, Poisson at 8 per service time: the breaker
    /// turns away B(10, 8) = 0.1217 of the calls — through the real core. 50,000 s is 392,000
    /// measured arrivals: standard error √(0.5 / 392,000) = 0.0011, and ± 0.005 is 4.4 of them.
    @Test(.enabled(if: full))
    func lossSystemOverflowIsErlangB() throws {
        try Self.checkErlangB(seconds: 50_000, seed: 9, tolerance: 0.005)
    }

    /// The loss system at a size the debug build runs: 5000 s, 39,000 arrivals through the
    /// core, standard error √(0.5 / 39,000) = 0.0036; ± 0.015 is 4.2 of them, and still tells
    /// B(10, 8) = 0.1217 from one server more or fewer (B(11, 8) = 0.0813, B(9, 8) = 0.1589)
    /// and from Erlang C (0.41, a queue instead of a refusal).
    @Test func lossSystemAtSmallSize() throws {
        try Self.checkErlangB(seconds: 5000, seed: 19, tolerance: 0.015)
    }

    static func checkErlangB(seconds: Double, seed: UInt64, tolerance: Double) throws {
        var c = Scenarios.simple(seed: seed, hosts: 1, behaviour: HostBehaviour(workers: 10, serviceTime: .exponential(mean: 1)),
                                 duration: .seconds(seconds), breaker: .init(maxPendingRequests: 0, maxRequests: 10), arrivals: .poisson(rate: 8))
        c.warmUp = .seconds(seconds / 50)
        let r = try Simulation.run(c)
        let overflow = Double(r.calls.localReplies(.overflow)) / Double(r.calls.answered)
        #expect(tolerance >= 4 * standardError(AsymptoticVariance.erlangBOverflow, over: r.calls.answered), "\(r.calls.answered) arrivals are too few for ± \(tolerance)")
        #expect(abs(overflow - 0.1217) <= tolerance, "overflow fraction \(overflow) of \(r.calls.answered)")
        #expect(r.violations == [])
    }

    /// 100 single-worker hosts, exponential service of mean 1, Poisson at 90: least request
    /// (two choices) keeps the mean time in system near 2.614; random assignment, near 10.
    static func meanTimeInSystem(_ lb: LoadBalancerPolicy, seconds: Double, warmUp: Double) throws -> Double {
        var c = Scenarios.simple(seed: 11, hosts: 100, behaviour: HostBehaviour(serviceTime: .exponential(mean: 1)), duration: .seconds(seconds),
                                 lb: lb, arrivals: .poisson(rate: 90))
        c.warmUp = .seconds(warmUp)
        let r = try Simulation.run(c)
        #expect(r.violations == [])
        return r.meanLatencySeconds
    }

    @Test(.enabled(if: full))
    func powerOfTwoChoicesThroughTheCore() throws {
        let p2c = try Self.meanTimeInSystem(.leastRequest(), seconds: 6000, warmUp: 300)
        let random = try Self.meanTimeInSystem(.random, seconds: 6000, warmUp: 300)
        #expect(p2c >= 2.614 * 0.98 && p2c <= 2.614 * 1.05, "two choices: \(p2c)")
        #expect(random > 8, "random: \(random)")
        #expect(p2c < random / 3)
    }

    /// Power of two choices at a size the debug build runs: 1200 s (99,000 measured calls per
    /// balancer). Replications of the same 100 queues outside the simulator put the standard
    /// error of the mean time in system at 0.051 for two choices (0.045 at 1500 s, 40
    /// replications) and 0.45 for random assignment, whose mean is still below 10 after a
    /// 100 s warm-up from empty (9.4 at 800 s, 9.8 at 1500 s). The bands are four standard
    /// errors (0.055 taken) past the optimized build's, and still tell two choices from
    /// three (2.0), from random assignment, and random from anything that balances.
    @Test func powerOfTwoChoicesAtSmallSize() throws {
        let se = 0.055
        let p2c = try Self.meanTimeInSystem(.leastRequest(), seconds: 1200, warmUp: 100)
        let random = try Self.meanTimeInSystem(.random, seconds: 1200, warmUp: 100)
        #expect(p2c >= 2.614 - 4 * se && p2c <= 2.614 * 1.05 + 4 * se, "two choices: \(p2c)")
        #expect(random > 7.5, "random: \(random)")
        #expect(p2c < random / 3)
    }
}
