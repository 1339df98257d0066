import Testing

@testable import MetaProtocol

/// Outlier detection against Envoy's semantics, at exact simulated timestamps.
@Suite("Outlier detection")
struct OutlierDetectionTests {
    /// Drives a detector on a virtual clock, running every sweep that falls due.
    struct Clock {
        var detector: OutlierDetector
        var now = Timestamp.zero
        var random = SeededRandom(seed: 1)
        /// (time, host, ejected or unejected) for every change.
        var log: [(Double, Int, Bool)] = []
        let hostCount: Int

        init(policy: OutlierDetectionPolicy = .init(), hosts: Int) {
            detector = OutlierDetector(policy: policy, hostCount: hosts, now: .zero)
            hostCount = hosts
        }

        mutating func advance(to seconds: Double) {
            let target = Timestamp(nanoseconds: Int64(seconds * 1e9))
            while detector.nextSweep <= target {
                now = detector.nextSweep
                let before = (0..<hostCount).map { detector.isEjected($0) }
                _ = detector.sweep(now: now, random: &random)
                for h in 0..<hostCount where detector.isEjected(h) != before[h] {
                    log.append((Double(now.nanoseconds) / 1e9, h, detector.isEjected(h)))
                }
            }
            now = target
        }

        mutating func record(_ outcome: UpstreamOutcome, host: Int, at seconds: Double, times: Int = 1) {
            advance(to: seconds)
            for _ in 0..<times where detector.record(outcome, host: host, now: now, random: &random) {
                log.append((seconds, host, true))
            }
        }
    }

    @Test func fiveConsecutiveErrorsEjectInlineForBaseTimesEjections() {
        var c = Clock(hosts: 10)
        for t in 1...5 { c.record(.serverError, host: 3, at: Double(t)) }
        #expect(c.detector.isEjected(3))
        c.advance(to: 39.9)
        #expect(c.detector.isEjected(3), "30 s have not passed at the sweep at 30 s")
        c.advance(to: 40)
        #expect(!c.detector.isEjected(3))
        // Second ejection: 60 s, ended by the first sweep 60 s after it.
        c.record(.gatewayFailure, host: 3, at: 41, times: 5)
        c.advance(to: 200)
        #expect(c.log.map { $0.0 } == [5, 40, 41, 110])
        #expect(c.log.map { $0.2 } == [true, false, true, false])
        #expect(c.detector.enforced[OutlierDetector.EjectionReason.consecutiveErrors.rawValue] == 2)
    }

    @Test func aHugeEjectionTimeSaturatesInsteadOfOverflowing() {
        // 285 years in nanoseconds fits; twice it does not (the validation refuses more than a
        // year, but the detector must not trap on what a Swift caller builds).
        let huge = Duration.seconds(9_000_000_000)
        var c = Clock(policy: OutlierDetectionPolicy(interval: .seconds(1), baseEjectionTime: huge, maxEjectionTime: huge), hosts: 2)
        c.record(.serverError, host: 0, at: 1, times: 5)
        #expect(c.detector.isEjected(0))
        c.advance(to: 5)
        #expect(c.detector.isEjected(0), "ejected for the cap, not for a wrapped-around time")
    }

    @Test func envoysDefaultCapsEjectionsAtFiveMinutes() {
        // Envoy's defaults (base 30 s, max 300 s), sweeping every second: a host ejected again
        // as soon as it is back stays out 30 s, 60 s, … and never more than 300 s.
        let policy = OutlierDetectionPolicy(interval: .seconds(1))
        #expect(policy.baseEjectionTime == .seconds(30) && policy.maxEjectionTime == .seconds(300))
        var c = Clock(policy: policy, hosts: 2)
        var t = 0.5
        var lengths: [Double] = []
        for _ in 1...12 {
            c.record(.serverError, host: 0, at: t, times: 5)
            #expect(c.detector.isEjected(0))
            while c.detector.isEjected(0) { c.advance(to: Double(c.detector.nextSweep.nanoseconds) / 1e9) }
            lengths.append(Double(c.now.nanoseconds) / 1e9 - t)
            t = Double(c.now.nanoseconds) / 1e9 + 0.5
        }
        // Each ends at the first sweep after base × ejections (capped), half a second late.
        #expect(lengths == (1...12).map { Double(min(30 * $0, 300)) + 0.5 })
    }

    @Test func ejectionTimeIsCappedAtTheMaximum() {
        let policy = OutlierDetectionPolicy(interval: .seconds(1), baseEjectionTime: .seconds(30), maxEjectionTime: .seconds(100))
        var c = Clock(policy: policy, hosts: 10)
        var t = 0.5
        for _ in 0..<6 {
            c.record(.serverError, host: 0, at: t, times: 5)
            while c.detector.isEjected(0) { t += 1; c.advance(to: t) }
            // Failing again half a second after the unejection: no sweep in between, so the
            // backoff has no time to relax.
            t = c.log.last!.0 + 0.5
        }
        let ejections = c.log.filter { $0.2 }.map { $0.0 }, unejections = c.log.filter { !$0.2 }.map { $0.0 }
        // Each lasts until the first sweep (every second) after base × n, capped at 100 s.
        #expect(zip(unejections, ejections).map { $0 - $1 } == [30.5, 60.5, 90.5, 100.5, 100.5, 100.5])
    }

    @Test func everySweepAHostIsInRelaxesTheBackoffByOne() {
        var c = Clock(hosts: 10)
        c.record(.serverError, host: 1, at: 5, times: 5)  // backoff 1, out until the sweep at 40
        c.advance(to: 75)  // the sweep at 50 takes the backoff back to 0
        c.record(.serverError, host: 1, at: 75, times: 5)
        c.advance(to: 200)
        #expect(c.log.map { $0.0 } == [5, 40, 75, 110], "the second ejection lasts 30 s again, not 60 s")

        var d = Clock(hosts: 10)
        d.record(.serverError, host: 1, at: 1, times: 5)  // backoff 1: 30 s, back at 40
        d.record(.serverError, host: 1, at: 41, times: 5)  // backoff 2: 60 s, back at 110
        d.advance(to: 120)  // one sweep in: backoff 1
        d.record(.serverError, host: 1, at: 121, times: 5)  // backoff 2 again: 60 s, back at 190
        d.advance(to: 300)
        #expect(d.log.map { $0.0 } == [1, 40, 41, 110, 121, 190], "one sweep relaxes one step, however short")
    }

    @Test func streaksStartAgainAfterADetectionAndAnUnejection() {
        var c = Clock(policy: .init(consecutiveErrors: nil), hosts: 10)
        c.record(.gatewayFailure, host: 4, at: 1, times: 10)
        #expect(c.detector.detected[OutlierDetector.EjectionReason.consecutiveGatewayFailures.rawValue] == 2, "detected at 5 and again at 10")
        var d = Clock(hosts: 10)
        d.record(.serverError, host: 2, at: 1, times: 5)
        d.record(.serverError, host: 2, at: 2, times: 4)  // while out
        d.advance(to: 40)
        #expect(!d.detector.isEjected(2))
        d.record(.serverError, host: 2, at: 41)
        #expect(!d.detector.isEjected(2), "the unejection starts the count again")
        d.record(.serverError, host: 2, at: 42, times: 4)
        #expect(d.detector.isEjected(2))
    }

    @Test func aSuccessBreaksTheStreak() {
        var c = Clock(hosts: 10)
        c.record(.serverError, host: 2, at: 1, times: 4)
        c.record(.success, host: 2, at: 2)
        c.record(.serverError, host: 2, at: 3, times: 4)
        #expect(!c.detector.isEjected(2))
        c.record(.serverError, host: 2, at: 4)
        #expect(c.detector.isEjected(2))
    }

    @Test func gatewayFailuresAreDetectedButByDefaultEjectAsErrors() {
        var c = Clock(hosts: 10)
        c.record(.gatewayFailure, host: 4, at: 1, times: 5)
        #expect(c.detector.detected[OutlierDetector.EjectionReason.consecutiveGatewayFailures.rawValue] == 1)
        #expect(c.detector.enforced[OutlierDetector.EjectionReason.consecutiveGatewayFailures.rawValue] == 0)
        #expect(c.detector.enforced[OutlierDetector.EjectionReason.consecutiveErrors.rawValue] == 1)

        var enforcing = Clock(policy: .init(consecutiveErrors: nil, consecutiveGatewayFailures: 3, enforcingConsecutiveGatewayFailures: 100), hosts: 10)
        enforcing.record(.gatewayFailure, host: 4, at: 1, times: 2)
        enforcing.record(.serverError, host: 4, at: 1)  // a server error is not a gateway failure: streak broken
        enforcing.record(.gatewayFailure, host: 4, at: 1, times: 2)
        #expect(!enforcing.detector.isEjected(4))
        enforcing.record(.gatewayFailure, host: 4, at: 1)
        #expect(enforcing.detector.isEjected(4))
    }

    @Test func atMostMaxEjectionPercentButAlwaysOne() {
        var c = Clock(hosts: 20)  // 10 % of 20: two hosts
        for h in 0..<4 { c.record(.serverError, host: h, at: 1, times: 5) }
        #expect((0..<20).filter { c.detector.isEjected($0) } == [0, 1])
        #expect(c.detector.overflow == 2)
        var small = Clock(hosts: 5)  // 10 % of 5 is less than one host, but one may be ejected
        for h in 0..<3 { small.record(.serverError, host: h, at: 1, times: 5) }
        #expect((0..<5).filter { small.detector.isEjected($0) } == [0])
    }

    @Test func successRateOutliersAreEjectedAtTheSweep() {
        var c = Clock(hosts: 10)
        for h in 0..<10 where h != 7 { c.record(.success, host: h, at: 1, times: 200) }
        for _ in 0..<100 {  // alternating, so never five errors in a row
            c.record(.serverError, host: 7, at: 1)
            c.record(.success, host: 7, at: 1)
        }
        // Nine hosts at 100 %, host 7 at 50 %: mean 95, stdev 15, threshold 66.5.
        #expect(!c.detector.isEjected(7))
        c.advance(to: 10)
        #expect(c.detector.isEjected(7))
        #expect(c.log.map { $0.0 } == [10])
        #expect(c.detector.enforced[OutlierDetector.EjectionReason.successRate.rawValue] == 1)
    }

    /// One interval of traffic on a 10-host cluster, then the sweep at 10 s: host `i` answers
    /// `requests[i]` tries of which `failures[i]` are server errors. Consecutive-error ejection
    /// is off so that only the sweep can eject.
    private func sweptOnce(requests: [Int], failures: [Int], policy: OutlierDetectionPolicy) -> Clock {
        var c = Clock(policy: policy, hosts: 10)
        for (host, (total, failed)) in zip(requests, failures).enumerated() {
            c.record(.serverError, host: host, at: 1, times: failed)
            c.record(.success, host: host, at: 1, times: total - failed)
        }
        c.advance(to: 10)
        return c
    }

    /// The minimum-hosts and request-volume guards. Under the population standard deviation no
    /// one of N values can lie more than √(N − 1) deviations below the mean, so with four hosts
    /// (√3 ≈ 1.73) the default factor 1.9 could never eject anyway and a test at the default
    /// factor cannot see the guard. Factor 1.0 can: hosts at 100, 100, 100, 100 and 50 % put the
    /// bad host exactly √(N − 1) deviations down, 1.73 with four qualifying hosts and 2 with five.
    /// Host 3 with 99 requests leaves four qualifying hosts: nothing ejected (with the guard
    /// deleted host 4 is ejected, 1.73 > 1.0). With 100 requests it qualifies (the volume is
    /// "at least"), five hosts qualify and host 4 is ejected. Lowering the minimum to four makes
    /// the 99-request case eject, so the guard is the policy's setting, not a constant.
    @Test func successRateNeedsFiveHostsWithEnoughRequests() {
        let policy = OutlierDetectionPolicy(consecutiveErrors: nil, successRateStdevFactor: 1.0)
        let failures = [0, 0, 0, 0, 100]

        let fourQualify = sweptOnce(requests: [200, 200, 200, 99, 200], failures: failures, policy: policy)
        #expect((0..<10).allSatisfy { !fourQualify.detector.isEjected($0) }, "only four hosts have 100 requests")
        #expect(fourQualify.detector.detected[OutlierDetector.EjectionReason.successRate.rawValue] == 0)

        let fiveQualify = sweptOnce(requests: [200, 200, 200, 100, 200], failures: failures, policy: policy)
        #expect((0..<10).filter { fiveQualify.detector.isEjected($0) } == [4], "100 requests is enough volume")
        #expect(fiveQualify.log.map { $0.0 } == [10])

        var fourAllowed = policy
        fourAllowed.successRateMinimumHosts = 4
        let lowered = sweptOnce(requests: [200, 200, 200, 99, 200], failures: failures, policy: fourAllowed)
        #expect((0..<10).filter { lowered.detector.isEjected($0) } == [4])
    }

    /// The stdev factor, checked to two decimals. Six hosts answer 1000 tries each; five fail
    /// 0, 10, 20, 30 and 40 of them (100 … 96 %), host 5 fails 75 or 76:
    ///
    /// - 75 failures (92.5 %): mean 97.0833, population stdev 2.4224, so host 5 is 1.8921
    ///   deviations down; threshold 97.0833 − 1.9 × 2.4224 = 92.4808 < 92.5: not ejected.
    /// - 76 failures (92.4 %): mean 97.0667, stdev 2.4540, 1.9016 deviations down; threshold
    ///   92.4040 > 92.4: ejected.
    ///
    /// So the test passes only for a factor in [1.8921, 1.9016): a factor of 1.5 (or anything
    /// below 1.89) ejects the 75-failure host, 2.5 (anything from 1.91) spares the 76-failure one,
    /// and so does a sample (n − 1) standard deviation, which Envoy does not use. The other
    /// hosts stay well above the threshold (at most 0.45 deviations below the mean).
    @Test func successRateEjectsBelowMeanMinusOnePointNineStdevs() {
        let policy = OutlierDetectionPolicy(consecutiveErrors: nil)
        #expect(policy.successRateStdevFactor == 1.9)
        let requests = [Int](repeating: 1000, count: 6)

        let justAbove = sweptOnce(requests: requests, failures: [0, 10, 20, 30, 40, 75], policy: policy)
        #expect((0..<10).allSatisfy { !justAbove.detector.isEjected($0) }, "1.892 stdevs below the mean is not below 1.9")
        #expect(justAbove.detector.detected[OutlierDetector.EjectionReason.successRate.rawValue] == 0)

        let justBelow = sweptOnce(requests: requests, failures: [0, 10, 20, 30, 40, 76], policy: policy)
        #expect((0..<10).filter { justBelow.detector.isEjected($0) } == [5], "1.902 stdevs below the mean is")
        #expect(justBelow.detector.enforced[OutlierDetector.EjectionReason.successRate.rawValue] == 1)
    }

    @Test func failurePercentageIsDetectedAndEnforcedWhenAskedTo() {
        for enforcing in [0, 100] {
            var c = Clock(policy: .init(consecutiveErrors: nil, enforcingSuccessRate: 0, enforcingFailurePercentage: enforcing), hosts: 10)
            for h in 0..<5 { c.record(.success, host: h, at: 1, times: 60) }
            c.record(.gatewayFailure, host: 9, at: 1, times: 54)
            c.record(.success, host: 9, at: 1, times: 6)  // 90 % failures
            c.advance(to: 10)
            #expect(c.detector.detected[OutlierDetector.EjectionReason.failurePercentage.rawValue] == 1)
            #expect(c.detector.isEjected(9) == (enforcing == 100))
        }
    }
}
