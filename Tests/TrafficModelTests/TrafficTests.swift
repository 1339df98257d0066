import Foundation
import MetaProtocol
import Testing

@testable import TrafficModel

/// Distributions, their written form, arrival processes and the call mix.
@Suite("TrafficModel: distributions, arrivals, mixes")
struct TrafficTests {
    @Test func distributionsAreWrittenTheWayPeopleSayThem() throws {
        #expect(try Distribution(parsing: "2ms") == .constant(0.002))
        #expect(try Distribution(parsing: "exp:2ms") == .exponential(mean: 0.002))
        #expect(try Distribution(parsing: "lognormal:4ms,2ms") == .lognormal(mean: 0.004, standardDeviation: 0.002))
        #expect(try Distribution(parsing: "uniform:1us,3us") == .uniform(low: 1e-6, high: 3e-6))
        #expect(try Distribution(parsing: " constant:0.5 ") == .constant(0.5))
        #expect(throws: SyntaxError.self) { try Distribution(parsing: "gauss:1ms") }
        #expect(throws: SyntaxError.self) { try Distribution(parsing: "lognormal:4ms") }
        #expect(throws: SyntaxError.self) { try Distribution(parsing: "uniform:3ms,1ms") }
        #expect(throws: SyntaxError.self) { try Distribution(parsing: "-1ms") }
        do {
            _ = try Distribution(parsing: "exp:2mss")
            Issue.record("accepted a bad unit")
        } catch {
            #expect(error.description.contains("2mss"))
        }
    }

    @Test(arguments: [Distribution.exponential(mean: 2), .lognormal(mean: 2, standardDeviation: 1), .uniform(low: 1, high: 3),
                      .empirical(bounds: [1, 2, 4], counts: [1, 2, 1])])
    func samplesHaveTheDistributionsMean(_ d: Distribution) {
        // 200,000 samples: the mean within 0.03 of 2, over four standard errors (at most 0.0045).
        let sampler = d.sampler()
        var random = SeededRandom(seed: 5)
        var sum = 0.0
        for _ in 0..<200_000 { sum += sampler.sample(&random) }
        #expect(abs(sum / 200_000 - d.mean) < 0.03, "\(d)")
        #expect(abs(d.mean - (d == .empirical(bounds: [1, 2, 4], counts: [1, 2, 1]) ? 1.625 : 2)) < 1e-12)
    }

    @Test func arrivalsFollowTheirRate() {
        var random = SeededRandom(seed: 9)
        // Constant: evenly spaced.
        #expect(ArrivalProcess.constant(rate: 4).next(after: 1, random: &random) == 1.25)
        // Poisson at 1000/s over 100 s: 100,000 ± 4·316.
        var t = 0.0, n = 0
        while let next = ArrivalProcess.poisson(rate: 1000).next(after: t, random: &random), next < 100 {
            t = next
            n += 1
        }
        #expect(abs(n - 100_000) < 1300)
        // A ramp from 0 to 200/s over 100 s brings 10,000 ± 4·100 calls.
        t = 0
        n = 0
        while let next = ArrivalProcess.ramp(from: 0, to: 200, over: .seconds(100)).next(after: t, random: &random), next < 100 {
            t = next
            n += 1
        }
        #expect(abs(n - 10_000) < 400)
        let crowd = ArrivalProcess.flashCrowd(base: 10, multiplier: 50, at: .seconds(10), rise: .seconds(2), hold: .seconds(5), decay: .seconds(2))
        #expect(crowd.rate(at: 5) == 10 && crowd.rate(at: 11) == 255 && crowd.rate(at: 14) == 500 && crowd.rate(at: 30) == 10)
    }

    @Test func theMixChoosesTemplatesByWeight() {
        // Weights 9:1:0 over 100,000 choices: 0.9 within 0.004 (four standard errors 0.0038).
        let mix = CallMixSampler([CallTemplate(weight: 9, attributes: []), CallTemplate(weight: 1, attributes: []), CallTemplate(weight: 0, attributes: [])])
        var random = SeededRandom(seed: 2)
        var counts = [0, 0, 0]
        for _ in 0..<100_000 { counts[mix.choose(&random)] += 1 }
        #expect(abs(Double(counts[0]) / 100_000 - 0.9) < 0.004)
        #expect(counts[2] == 0)
    }

    @Test func aRateProfileIsReadWithLineNumberedErrors() throws {
        let profile = try ArrivalProcess.profile(csv: "seconds,rate\n0,100\n# a comment\n10,500\n", source: "p.csv")
        #expect(profile == .profile([.init(at: .zero, rate: 100), .init(at: .seconds(10), rate: 500)]))
        #expect(throws: RateProfileError(source: "p.csv", line: 3, message: "times must rise: 5 s comes after 10.0 s")) {
            try ArrivalProcess.profile(csv: "0,1\n10,2\n5,3\n", source: "p.csv")
        }
    }
}
