import NIOCore
import Testing

@testable import MetaProtocol

/// A driver that does everything at once, from inside the core's calls: connects inside
/// `connect`, answers (or resets the connection) inside `send`, and has clients send their next
/// request — or hang up — from inside the reply they get. The core must stay consistent when
/// called back mid-step.
final class EagerDriver: CoreClock, UpstreamTransport, DownstreamTransport {
    var now = Timestamp.zero
    var wakeUp: Timestamp?
    var core: ProxyCore!
    var random = SeededRandom(seed: 99)
    var answers: [UInt64: Int] = [:]
    var openConnections: Set<UpstreamConnectionID> = []
    var nextRequestID: UInt64 = 1
    var toSend = 0
    var depth = 0
    /// Requests the clients still want to send, once the current call unwinds (bounds recursion).
    var backlog: [DownstreamID] = []

    func requestWakeUp(at deadline: Timestamp) {
        if wakeUp == nil || deadline < wakeUp! { wakeUp = deadline }
    }

    func connect(_ connection: UpstreamConnectionID, to address: String) {
        if random.chance(percent: 5) {
            core.upstreamConnectFailed(connection)
        } else {
            openConnections.insert(connection)
            core.upstreamConnected(connection)
        }
    }

    func send(_ message: Message, mutation: Mutation, on connection: UpstreamConnectionID) {
        guard message.type == .request else { return }
        let roll = random.next(below: 100)
        if roll < 5 {
            openConnections.remove(connection)
            core.upstreamClosed(connection)
        } else if roll < 15 {
            // Left unanswered: a timeout will end it.
        } else {
            let category: ResponseStatus.Category = roll < 25 ? .unavailable : .success
            let reply = TestDriver.message([], id: message.requestID, type: category == .success ? .response : .error,
                                           status: ResponseStatus(category: category, code: 0))
            core.upstreamReceived(reply, on: connection)
        }
    }

    func close(_ connection: UpstreamConnectionID) { openConnections.remove(connection) }

    func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID) { answered(response.requestID, downstream) }

    func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID) { answered(request.requestID, downstream) }

    func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID) {}

    private func answered(_ id: UInt64, _ client: DownstreamID) {
        answers[id, default: 0] += 1
        if random.chance(percent: 3) { core.downstreamClosed(client) }
        backlog.append(client)
        if depth < 8 { sendNext() }
    }

    /// One request from the backlog, sent from wherever this is called.
    func sendNext() {
        guard toSend > 0, let client = backlog.popLast() else { return }
        toSend -= 1
        depth += 1
        let id = nextRequestID
        nextRequestID += 1
        core.receive(TestDriver.message([("method", "m\(id % 3)")], id: id), from: client)
        depth -= 1
    }
}

@Suite("Proxy core: drivers that call back at once")
struct ReentrancyTests {
    @Test(arguments: [false, true]) func everyRequestIsAnsweredOnceWhenTheDriverCallsBackMidStep(multiplexing: Bool) throws {
        let cluster = Configs.cluster("svc", hosts: 4, breaker: .init(maxConnections: 6, maxPendingRequests: 20, maxRequests: 40, maxRetries: 10),
                                      outlier: OutlierDetectionPolicy(maxEjectionPercent: 50), multiplexing: multiplexing)
        let route = RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], timeout: .milliseconds(500),
                                       retry: RetryPolicy(numRetries: 2, retryOn: [.reset, .connectFailure, .unavailable, .perTryTimeout], perTryTimeout: .milliseconds(100)))
        let d = EagerDriver()
        d.core = ProxyCore(configuration: try CompiledConfiguration.compile(Configs.single(route: route, cluster: cluster), capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)),
                           clock: d, upstream: d, downstream: d, seed: 5)
        d.toSend = 3000
        d.backlog = (1...16).map { DownstreamID($0) }
        var rounds = 0
        while d.toSend > 0 || d.wakeUp != nil {
            rounds += 1
            while d.toSend > 0, !d.backlog.isEmpty { d.sendNext() }
            if d.backlog.isEmpty, d.toSend > 0 { d.backlog = (1...16).map { DownstreamID($0) } }
            if let w = d.wakeUp {
                d.now = max(d.now, w)
                d.wakeUp = nil
                d.core.processTimers()
            }
            #expect(d.core.invariantViolations().isEmpty)
            if rounds > 1_000_000 { break }
        }
        let c = d.core.counters
        #expect(c.accepted == 3000)
        #expect(d.core.isIdle, "nothing is left in flight or waiting")
        #expect(c.isConserved)
        #expect(d.answers.values.allSatisfy { $0 == 1 }, "no request is answered twice")
        #expect(d.answers.count + c.dropped == 3000, "each is answered or counted dropped")
        #expect(c.retries > 0 && c.timeouts + c.perTryTimeouts > 0 && c.dropped > 0 && c.upstreamResets > 0, "the run went through the paths it is for")
    }
}
