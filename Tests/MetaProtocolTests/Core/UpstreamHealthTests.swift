import Testing

@testable import MetaProtocol

/// Upstreams that die quietly: a host that accepts and never answers is found by the request
/// timeouts it causes (local-origin failures, as Envoy counts them), and a connection whose
/// tries all time out is retired rather than kept in use.
@Suite("Core: upstreams that stop answering")
struct UpstreamHealthTests {
    static let route = RouteConfiguration(name: "all", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(1))

    @Test func requestTimeoutsEjectAHostThatNeverAnswers() throws {
        let d = try TestDriver.make(Configs.single(route: Self.route, cluster: Configs.cluster("svc", hosts: 3, outlier: OutlierDetectionPolicy(maxEjectionPercent: 50))))
        for id in 1...15 { d.request([], id: UInt64(id)) }
        let dead = d.host(of: d.sent[0])
        for i in d.sent.indices where d.host(of: d.sent[i]) != dead { d.answer(i) }
        #expect(d.sent.filter { d.host(of: $0) == dead }.count == 5)
        d.advance(to: 1.5)
        // Five timeouts in a row: five local-origin failures, and so (not split off) five
        // consecutive errors. The third retired the connection; the other two kept their own
        // deadlines rather than failing as resets.
        #expect(d.core.counters.timeouts == 5)
        #expect(d.core.counters.upstreamConnectionsSilent == 1 && d.core.counters.upstreamResets == 0)
        #expect(d.core.outlierDetector("svc")?.enforced[OutlierDetector.EjectionReason.consecutiveErrors.rawValue] == 1)
        let before = d.sent.count
        for id in 16...45 { d.request([], id: UInt64(id)) }
        #expect(d.sent[before...].allSatisfy { d.host(of: $0) != dead })
        #expect(d.core.counters.isConserved)
    }

    @Test func splitOffLocalOriginFailuresEjectByTheirOwnCount() throws {
        let policy = OutlierDetectionPolicy(consecutiveErrors: 100, maxEjectionPercent: 50, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3)
        let d = try TestDriver.make(Configs.single(route: Self.route, cluster: Configs.cluster("svc", hosts: 2, outlier: policy)))
        // Host A: server errors (the host's own), never local-origin; they reset nothing here.
        // Host B: two timeouts, an answer (a local-origin success), then three timeouts.
        var t = 0.0
        func round(answerB: Bool) {
            let first = d.sent.count
            d.request([], id: UInt64(first + 1))
            d.request([], id: UInt64(first + 2))
            for i in first..<d.sent.count {
                let isB = d.host(of: d.sent[i]) == "10.0.3.1:20880"
                if !isB { d.answer(i, .serverError) } else if answerB { d.answer(i) }
            }
            t += 1.5
            d.advance(to: t)
        }
        round(answerB: false)
        round(answerB: false)
        round(answerB: true)
        round(answerB: false)
        round(answerB: false)
        let od = try #require(d.core.outlierDetector("svc"))
        #expect(od.enforced[OutlierDetector.EjectionReason.consecutiveLocalOriginFailures.rawValue] == 0, "the answer broke the streak")
        round(answerB: false)
        #expect(d.core.outlierDetector("svc")!.enforced[OutlierDetector.EjectionReason.consecutiveLocalOriginFailures.rawValue] == 1)
        #expect(d.core.outlierDetector("svc")!.enforced[OutlierDetector.EjectionReason.consecutiveErrors.rawValue] == 0, "six server errors at A are not 100")
        #expect(d.core.counters.isConserved)
    }

    @Test func aConnectionWhoseTriesAllTimeOutIsRetired() throws {
        let d = try TestDriver.make(Configs.single(route: Self.route, cluster: Configs.cluster("svc", hosts: 1)))
        for id in 1...3 { d.request([], id: UInt64(id)) }
        let first = d.sent[0].connection
        #expect(d.sent.allSatisfy { $0.connection == first }, "one multiplexed connection")
        d.advance(to: 1.5)
        #expect(d.closed == [first])
        #expect(d.core.counters.upstreamConnectionsSilent == 1)
        d.request([], id: 4)
        #expect(d.sent.last?.connection != first, "a new connection for the next request")
        #expect(d.core.counters.isConserved)
    }

    @Test func anythingReadInBetweenKeepsTheConnection() throws {
        let d = try TestDriver.make(Configs.single(route: Self.route, cluster: Configs.cluster("svc", hosts: 1)))
        for id in 1...2 { d.request([], id: UInt64(id)) }
        d.advance(to: 1.5)
        // A late answer to a try given up: the host is alive after all.
        d.answer(0)
        #expect(d.core.counters.lateResponsesDropped == 1)
        for id in 3...4 { d.request([], id: UInt64(id)) }
        d.advance(to: 3)
        #expect(d.closed.isEmpty, "four timeouts, never three in a row without an answer")
        #expect(d.core.counters.upstreamConnectionsSilent == 0)
        d.request([], id: 5)
        d.advance(to: 4.5)
        #expect(d.closed.count == 1, "the third in a row since the answer retires it")
        #expect(d.core.counters.isConserved)
    }

    @Test func aConnectionIdleForTheClustersIdleTimeoutIsClosed() throws {
        var cluster = Configs.cluster("svc", hosts: 1)
        cluster.idleTimeout = .seconds(10)
        let route = RouteConfiguration(name: "all", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(60))
        let d = try TestDriver.make(Configs.single(route: route, cluster: cluster))
        d.request([], id: 1)
        d.answer(0)
        let first = d.sent[0].connection
        d.advance(to: 9.9)
        #expect(d.closed.isEmpty)
        // Busy again at 9.9 s: idle from then on, not from the first answer.
        d.request([], id: 2)
        d.advance(to: 12.6)
        #expect(d.closed.isEmpty, "a request in flight keeps it open past the timeout")
        d.answer(1)
        d.advance(to: 12.6 + 12.5)
        #expect(d.closed == [first], "closed between 1 and 1.25 timeouts after its last answer")
        #expect(d.core.counters.upstreamConnectionsIdleClosed == 1)
        d.request([], id: 3)
        #expect(d.sent.last?.connection != first)
        #expect(d.core.counters.isConserved)
    }
}
