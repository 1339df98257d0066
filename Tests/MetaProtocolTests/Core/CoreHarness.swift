import NIOCore

@testable import MetaProtocol

/// A scripted driver for the core: a manual clock, and upstream and downstream transports that
/// record what the core asks of them. Tests play the network by calling the core's entry
/// points; nothing sleeps.
final class TestDriver: CoreClock, UpstreamTransport, DownstreamTransport, GlobalRateLimitService, AccessLogSink {
    var now = Timestamp.zero
    private(set) var wakeUp: Timestamp?
    var core: ProxyCore!

    struct Sent {
        var message: Message
        var mutation: Mutation
        var connection: UpstreamConnectionID
    }

    var connects: [(id: UpstreamConnectionID, address: String)] = []
    var sent: [Sent] = []
    var closed: [UpstreamConnectionID] = []
    var responses: [(message: Message, mutation: Mutation, downstream: DownstreamID)] = []
    var localReplies: [(error: LocalReplyError, request: Message, downstream: DownstreamID)] = []
    var heartbeatReplies: [Message] = []
    var rateLimitCalls: [(call: RateLimitCallID, domain: String, descriptors: [KeyValue])] = []
    var accessLog: [AccessLogEntry] = []
    /// Connect at once when asked (else the test answers connects itself).
    var autoConnect = true
    /// Where each connection goes.
    var addressOf: [UpstreamConnectionID: String] = [:]

    init() {}

    /// A core over `configuration` driven by this driver.
    static func make(_ configuration: ProxyConfiguration, capabilities: CodecCapabilities = .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64),
                     seed: UInt64 = 1, rateLimitService: Bool = false, accessLog: Bool = false) throws -> TestDriver {
        let driver = TestDriver()
        let compiled = try CompiledConfiguration.compile(configuration, capabilities: capabilities)
        driver.core = ProxyCore(configuration: compiled, clock: driver, upstream: driver, downstream: driver,
                                rateLimitService: rateLimitService ? driver : nil, accessLog: accessLog ? driver : nil, seed: seed)
        return driver
    }

    // MARK: seams

    func requestWakeUp(at deadline: Timestamp) {
        if wakeUp == nil || deadline < wakeUp! { wakeUp = deadline }
    }

    func connect(_ connection: UpstreamConnectionID, to address: String) {
        connects.append((connection, address))
        addressOf[connection] = address
        if autoConnect { pendingConnects.append(connection) }
    }

    /// Connects reported back after the current core call returns (as a real driver would).
    private var pendingConnects: [UpstreamConnectionID] = []

    func send(_ message: Message, mutation: Mutation, on connection: UpstreamConnectionID) {
        sent.append(Sent(message: message, mutation: mutation, connection: connection))
    }

    func close(_ connection: UpstreamConnectionID) { closed.append(connection) }

    func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID) {
        responses.append((response, mutation, downstream))
    }

    func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID) {
        localReplies.append((error, request, downstream))
    }

    func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID) { heartbeatReplies.append(heartbeat) }

    func shouldRateLimit(_ call: RateLimitCallID, domain: String, descriptors: [KeyValue], timeout: Duration) {
        rateLimitCalls.append((call, domain, descriptors))
    }

    func log(_ entry: AccessLogEntry) { accessLog.append(entry) }

    // MARK: playing the world

    /// Delivers the connects the core asked for.
    func settle() {
        while !pendingConnects.isEmpty {
            let batch = pendingConnects
            pendingConnects = []
            for c in batch { core.upstreamConnected(c) }
        }
    }

    /// A client request.
    func request(_ attributes: [(String, String)], id: UInt64, from client: UInt64 = 1, type: MessageType = .request) {
        core.receive(Self.message(attributes, id: id, type: type), from: DownstreamID(client))
        settle()
    }

    static func message(_ attributes: [(String, String)], id: UInt64, type: MessageType = .request, status: ResponseStatus? = nil) -> Message {
        var a = Attributes()
        for (k, v) in attributes { a.append(key: k, value: v) }
        return Message(type: type, requestID: id, headerSize: 0, bodySize: 0, attributes: a, status: status, frame: ByteBuffer())
    }

    /// Answers the `index`-th message sent upstream.
    func answer(_ index: Int, _ category: ResponseStatus.Category = .success, code: Int32 = 0) {
        let s = sent[index]
        let type: MessageType = category == .success ? .response : .error
        core.upstreamReceived(Self.message([], id: s.message.requestID, type: type, status: ResponseStatus(category: category, code: code)), on: s.connection)
        settle()
    }

    /// Moves the clock to `seconds`, firing every wake-up on the way.
    func advance(to seconds: Double) {
        let target = Timestamp(nanoseconds: Int64((seconds * 1e9).rounded()))
        while let w = wakeUp, w <= target {
            now = max(now, w)
            wakeUp = nil
            core.processTimers()
            settle()
        }
        now = max(now, target)
    }

    /// The host (address) a sent message went to.
    func host(of s: Sent) -> String { addressOf[s.connection]! }
}

/// Small configuration builders.
enum Configs {
    static func cluster(_ name: String, hosts: Int, labels: (Int) -> [String: String] = { _ in [:] }, subsets: [SubsetConfiguration] = [],
                        lb: LoadBalancerPolicy = .roundRobin, breaker: CircuitBreakerThresholds = .init(), outlier: OutlierDetectionPolicy? = nil,
                        multiplexing: Bool = true) -> ClusterConfiguration {
        ClusterConfiguration(name: name, hosts: (0..<hosts).map { HostConfiguration(address: "10.0.\(name.count).\($0):20880", labels: labels($0)) },
                             subsets: subsets, loadBalancer: lb, circuitBreaker: breaker, multiplexing: multiplexing, outlierDetection: outlier)
    }

    static func single(route: RouteConfiguration? = nil, cluster: ClusterConfiguration = cluster("svc", hosts: 3),
                       local: LocalRateLimitConfiguration? = nil, global: GlobalRateLimitConfiguration? = nil, tracing: TracingConfiguration? = nil) -> ProxyConfiguration {
        ProxyConfiguration(protocolName: "test", routes: [route ?? RouteConfiguration(name: "all", destinations: [RouteDestination(cluster: cluster.name)])],
                           clusters: [cluster], localRateLimit: local, globalRateLimit: global, tracing: tracing)
    }
}
