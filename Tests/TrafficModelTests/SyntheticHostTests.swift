import MetaProtocol
import Testing

@testable import TrafficModel

/// The one synthetic host both drivers run, driven by hand with explicit times.
@Suite("TrafficModel: the synthetic host")
struct SyntheticHostTests {
    static func call(_ ticket: UInt64, method: Int = -1, bytes: Int = 100, oneway: Bool = false) -> SyntheticHost.Call {
        SyntheticHost.Call(ticket: ticket, method: method, payloadBytes: bytes, oneway: oneway)
    }

    static func serving(_ arrival: SyntheticHost.Arrival) -> SyntheticHost.Service? {
        if case .serving(let s) = arrival { return s }
        return nil
    }

    @Test func workersServeALineInOrderAndTurnAwayWhatDoesNotFit() {
        var host = SyntheticHost(name: "h", behaviour: HostBehaviour(workers: 2, queueLimit: 2, serviceTime: .constant(1)), seed: 1)
        let first = Self.serving(host.arrive(Self.call(1), at: 0))!
        let second = Self.serving(host.arrive(Self.call(2), at: 0))!
        #expect(first.duration == 1_000_000_000 && first.endsAt == 1_000_000_000)
        guard case .queued = host.arrive(Self.call(3), at: 10) else { Issue.record("3 should wait"); return }
        guard case .queued = host.arrive(Self.call(4), at: 20) else { Issue.record("4 should wait"); return }
        guard case .rejected(let answer) = host.arrive(Self.call(5), at: 30) else { Issue.record("5 should be turned away"); return }
        #expect(answer.status.category == .unavailable)
        #expect(host.busy == 2 && host.waiting == 2)
        // The first worker freed takes the first in line, which waited since t = 10.
        guard case .done(let next?) = host.complete(first, at: first.endsAt) else { Issue.record("3 should start"); return }
        #expect(next.ticket == 3 && next.arrivedAt == 10 && next.startedAt == first.endsAt)
        guard case .done(let after?) = host.complete(second, at: second.endsAt) else { Issue.record("4 should start"); return }
        #expect(after.ticket == 4)
        _ = host.complete(next, at: next.endsAt)
        _ = host.complete(after, at: after.endsAt)
        #expect(host.isIdle)
        let stats = host.stats.closed(at: after.endsAt)
        #expect(stats.arrivals == 5 && stats.completions == 4 && stats.rejected == 1 && stats.waited == 2)
        #expect(stats.maxLine == 2 && stats.peakBusy == 2)
        // Waits: 1 s − 10 ns and 1 s − 20 ns.
        #expect(stats.waitTotal == Double(2_000_000_000 - 30))
    }

    @Test func aCrashLosesWhatTheHostHeldAndItsServicesGoStale() {
        var host = SyntheticHost(name: "h", behaviour: HostBehaviour(workers: 1, serviceTime: .constant(1)), seed: 1)
        let served = Self.serving(host.arrive(Self.call(1), at: 0))!
        _ = host.arrive(Self.call(2), at: 0)
        #expect(host.crash(at: 500) == [2])
        #expect(host.isIdle)
        guard case .stale = host.complete(served, at: served.endsAt) else { Issue.record("a service of before the crash is stale"); return }
        #expect(host.stats.lost == 2 && host.stats.completions == 0)
        // The host serves again afterwards.
        #expect(Self.serving(host.arrive(Self.call(3), at: 600)) != nil)
    }

    @Test func serviceTimesFollowTheMethodThePayloadAndTheFaults() {
        let behaviour = HostBehaviour(workers: nil, serviceTime: .constant(0.001), serviceTimeByMethod: [MethodServiceTime("slow", .constant(0.1))],
                                      secondsPerByte: 1e-6, speedFactor: 2)
        var host = SyntheticHost(name: "h", behaviour: behaviour, seed: 1)
        let slow = host.methodIndex(of: AttributeText("slow"))
        #expect(slow == 0 && host.methodIndex(of: AttributeText("other")) == -1 && host.methodIndex(of: nil) == -1)
        // (0.1 s + 1000 B · 1 µs/B) / 2, and (1 ms + 0) / 2.
        #expect(Self.serving(host.arrive(Self.call(1, method: slow, bytes: 1000), at: 0))!.duration == 50_500_000)
        #expect(Self.serving(host.arrive(Self.call(2, bytes: 0), at: 0))!.duration == 500_000)
        host.slowFactor = 10
        #expect(Self.serving(host.arrive(Self.call(3, bytes: 0), at: 0))!.duration == 5_000_000)
    }

    @Test func errorsComeByCategoryInTheirShares() {
        // 100,000 answers: each share within 0.005, over four standard errors (0.0012–0.0019).
        var host = SyntheticHost(name: "h", behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0),
                                                                      errors: [ErrorRate(.serverError, 0.1), ErrorRate(.applicationError, 0.05)]), seed: 3)
        var counts: [ResponseStatus.Category: Int] = [:]
        let n = 100_000
        for i in 0..<n {
            let s = Self.serving(host.arrive(Self.call(UInt64(i)), at: Int64(i)))!
            counts[s.answer!.status.category, default: 0] += 1
            _ = host.complete(s, at: Int64(i))
        }
        #expect(abs(Double(counts[.serverError, default: 0]) / Double(n) - 0.1) < 0.005)
        #expect(abs(Double(counts[.applicationError, default: 0]) / Double(n) - 0.05) < 0.005)
        #expect(host.stats.errors == counts[.serverError, default: 0] + counts[.applicationError, default: 0])
        // An error burst replaces the behaviour's errors.
        host.errorBurst = 1
        #expect(Self.serving(host.arrive(Self.call(0), at: 0))!.answer!.status.category == .serverError)
    }

    @Test func answersEchoOrCarryADrawnSizeAndOnewayCallsGetNone() {
        var echo = SyntheticHost(name: "h", behaviour: .instant, seed: 1)
        let e = Self.serving(echo.arrive(Self.call(1, bytes: 321), at: 0))!.answer!
        #expect(e.payload == .echo && e.payloadBytes == 321)
        #expect(Self.serving(echo.arrive(Self.call(2, oneway: true), at: 0))!.answer == nil)
        var sized = SyntheticHost(name: "h", behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0), responseSize: .sized(.constant(2048))), seed: 1)
        #expect(Self.serving(sized.arrive(Self.call(1), at: 0))!.answer! == SyntheticHost.Answer(status: ResponseStatus(category: .success, code: 0),
                                                                                                   payload: .bytes(2048), payloadBytes: 2048))
    }

    @Test func phasesChangeTheBehaviourFromTheirTimeAfterTheStart() {
        let behaviour = HostBehaviour(workers: nil, serviceTime: .constant(0.001),
                                      phases: [HostPhase(at: .seconds(10), serviceTime: .constant(0.5), errors: [.serverError(1)]),
                                               HostPhase(at: .seconds(20), closesConnections: true)])
        // Started at t = 5 s: the phases begin at 15 s and 25 s.
        var host = SyntheticHost(name: "h", behaviour: behaviour, seed: 1, startedAt: 5_000_000_000)
        let before = Self.serving(host.arrive(Self.call(1), at: 14_999_999_999))!
        #expect(before.duration == 1_000_000 && before.answer!.status.isSuccess)
        let during = Self.serving(host.arrive(Self.call(2), at: 15_000_000_000))!
        #expect(during.duration == 500_000_000 && during.answer!.status.category == .serverError)
        guard case .closesConnection = host.arrive(Self.call(3), at: 25_000_000_000) else { Issue.record("the last phase closes"); return }
        #expect(host.stats.closedConnections == 1 && host.stats.arrivals == 2)
    }

    @Test func figuresCoverOnlyTheMeasuredWindow() {
        // Turned away during the warm-up: not counted, like the completions of that time.
        var host = SyntheticHost(name: "h", behaviour: HostBehaviour(workers: 1, queueLimit: 0, serviceTime: .constant(1)), seed: 1, measureFrom: 10_000_000_000)
        let early = Self.serving(host.arrive(Self.call(1), at: 0))!
        guard case .rejected = host.arrive(Self.call(2), at: 1) else { Issue.record("turned away"); return }
        _ = host.complete(early, at: early.endsAt)
        #expect(host.stats.rejected == 0 && host.stats.completions == 0 && host.stats.arrivals == 0)
        let late = Self.serving(host.arrive(Self.call(3), at: 10_000_000_000))!
        guard case .rejected = host.arrive(Self.call(4), at: 10_000_000_001) else { Issue.record("turned away"); return }
        _ = host.complete(late, at: late.endsAt)
        let stats = host.stats.closed(at: 12_000_000_000)
        #expect(stats.rejected == 1 && stats.completions == 1 && stats.arrivals == 2)
        // One call in the host for 1 s of the 2 s window.
        #expect(stats.area == 1e9)
    }

    @Test func theSameSeedAndNameDecideAlikeAndAnotherDoesNot() {
        let behaviour = HostBehaviour(workers: 3, serviceTime: .lognormal(mean: 0.004, standardDeviation: 0.002), errors: [.serverError(0.2)],
                                      responseSize: .sized(.uniform(low: 10, high: 5000)))
        func run(seed: UInt64, name: String) -> (UInt64, [Int64]) {
            var host = SyntheticHost(name: name, behaviour: behaviour, seed: seed)
            var durations: [Int64] = []
            for i in 0..<500 {
                let s = Self.serving(host.arrive(Self.call(UInt64(i)), at: Int64(i) * 10_000_000))!
                durations.append(s.duration)
                _ = host.complete(s, at: s.endsAt)
            }
            return (host.digest, durations)
        }
        let a = run(seed: 7, name: "10.0.0.1:9000"), b = run(seed: 7, name: "10.0.0.1:9000")
        #expect(a.0 == b.0 && a.1 == b.1)
        #expect(run(seed: 8, name: "10.0.0.1:9000").0 != a.0)
        #expect(run(seed: 7, name: "10.0.0.2:9000").0 != a.0)
    }

    @Test func aBehaviourThatCannotWorkIsRefusedWithItsReason() {
        #expect(HostBehaviour(workers: 0).problem?.contains("workers") == true)
        #expect(HostBehaviour(errors: [.serverError(0.7), ErrorRate(.unavailable, 0.5)]).problem?.contains("add up to 1.2") == true)
        #expect(HostBehaviour(errors: [ErrorRate(.success, 0.1)]).problem?.contains("not an error category") == true)
        #expect(HostBehaviour(speedFactor: 0).problem != nil)
        #expect(HostBehaviour().problem == nil)
    }
}
