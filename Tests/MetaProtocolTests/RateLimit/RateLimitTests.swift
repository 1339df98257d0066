import Foundation
import Testing

@testable import MetaProtocol

@Suite("Local rate limit")
struct RateLimitTests {
    func at(_ seconds: Double) -> Timestamp { Timestamp(nanoseconds: Int64((seconds * 1e9).rounded())) }

    @Test func bucketStartsFullAndRefillsByWholeIntervals() {
        var b = TokenBucket(TokenBucketSpec(maxTokens: 5, tokensPerFill: 2, fillInterval: .seconds(1)), now: at(0))
        var taken: [Bool] = []
        for t in [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.999, 1.0, 1.5, 1.9] { taken.append(b.tryTake(now: at(t))) }
        #expect(taken == [true, true, true, true, true, false, false, true, true, false])
        // Ten idle seconds fill it back to max, not beyond.
        taken = []
        for _ in 0..<6 { taken.append(b.tryTake(now: at(12))) }
        #expect(taken == [true, true, true, true, true, false])
    }

    @Test func noWindowAdmitsMoreThanTheBound() {
        // Random arrivals; every window [a, a + T] admits at most max + perFill · ⌈T / interval⌉.
        let spec = TokenBucketSpec(maxTokens: 7, tokensPerFill: 3, fillInterval: .milliseconds(100))
        var b = TokenBucket(spec, now: at(0))
        var random = SeededRandom(seed: 21)
        var admitted: [Double] = []
        var t = 0.0
        for _ in 0..<20_000 {
            t += random.nextUnit() * 0.02
            if b.tryTake(now: at(t)) { admitted.append(t) }
        }
        for window in [0.05, 0.1, 0.25, 1.0, 3.7] {
            var j = 0
            for i in admitted.indices {
                while admitted[i] - admitted[j] > window { j += 1 }
                let bound = spec.maxTokens + spec.tokensPerFill * Int((window / 0.1).rounded(.up))
                #expect(i - j + 1 <= bound, "window \(window) ending at \(admitted[i])")
            }
        }
    }

    @Test func poissonLoadAtTwiceTheFillRateAdmitsTheFillRate() {
        // 100 per second (10 per 100 ms), Poisson offered at 200 per second for 1000 s.
        let spec = TokenBucketSpec(maxTokens: 10, tokensPerFill: 10, fillInterval: .milliseconds(100))
        var b = TokenBucket(spec, now: at(0))
        var random = SeededRandom(seed: 77)
        var t = 0.0
        var admitted = 0
        while true {
            t += -log(1 - random.nextUnit()) / 200
            if t >= 1000 { break }
            if b.tryTake(now: at(t)) { admitted += 1 }
        }
        #expect(abs(Double(admitted) / 1000 - spec.fillRate) <= 0.01 * spec.fillRate)
    }

    private func attributes(_ pairs: [(String, String)]) -> Attributes {
        var a = Attributes()
        for (k, v) in pairs { a.append(key: k, value: v) }
        return a
    }

    @Test func firstMatchingConditionDecidesElseTheServiceBucket() throws {
        let policy = LocalRateLimitPolicy(
            serviceBucket: TokenBucketSpec(maxTokens: 5, tokensPerFill: 5, fillInterval: .seconds(60)),
            conditions: [
                .init(match: AttributeMatch([try AttributeMatcher(name: "method", match: .exact("sayHello"))]),
                      bucket: TokenBucketSpec(maxTokens: 2, tokensPerFill: 2, fillInterval: .seconds(10))),
                .init(match: AttributeMatch([try AttributeMatcher(name: "method", match: .prefix("say"))]),
                      bucket: TokenBucketSpec(maxTokens: 1, tokensPerFill: 1, fillInterval: .seconds(10))),
            ])
        var limiter = LocalRateLimiter(policy, now: at(0))
        let hello = attributes([("method", "sayHello")])
        let bye = attributes([("method", "sayBye")])
        let other = attributes([("method", "ping")])
        func admit(_ a: Attributes, _ times: Int, at t: Double) -> [Bool] {
            (0..<times).map { _ in limiter.admit(a, now: at(t)).allowed }
        }
        #expect(admit(hello, 3, at: 1) == [true, true, false])
        let decided = limiter.admit(hello, now: at(1))
        #expect(decided.bucket == .condition(0))
        #expect(admit(bye, 2, at: 1) == [true, false])
        #expect(admit(other, 6, at: 1) == [true, true, true, true, true, false])
        #expect(admit(hello, 1, at: 10) == [true], "the condition bucket refilled after 10 s")
        #expect(limiter.conditionStats.map(\.admitted) == [3, 1])
        #expect(limiter.conditionStats.map(\.limited) == [2, 1])
        #expect(limiter.serviceStats.admitted == 5 && limiter.serviceStats.limited == 1)
    }

    @Test func withoutABucketEverythingPasses() {
        var limiter = LocalRateLimiter(LocalRateLimitPolicy(serviceBucket: nil), now: at(0))
        var allowed = 0
        for _ in 0..<1000 where limiter.admit(Attributes(), now: at(0)).allowed { allowed += 1 }
        #expect(allowed == 1000)
        #expect(limiter.unlimited == 1000)
    }

    @Test func eachProxyInstanceAdmitsTheLimit() {
        // Three instances (three limiters), one request every 10 ms each for 10 s: each admits
        // 5 + 5·10, so together three times one instance's limit.
        let spec = TokenBucketSpec(maxTokens: 5, tokensPerFill: 5, fillInterval: .seconds(1))
        var instances = (0..<3).map { _ in LocalRateLimiter(LocalRateLimitPolicy(serviceBucket: spec), now: at(0)) }
        var admitted = [0, 0, 0]
        for step in 0..<1000 {
            for i in 0..<3 where instances[i].admit(Attributes(), now: at(Double(step) / 100)).allowed { admitted[i] += 1 }
        }
        #expect(admitted == [50, 50, 50])
    }
}
