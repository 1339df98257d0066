import MetaProtocol
import NIOCore

/// One routing decision, the way the core makes it, on pre-built state.
public struct DecisionPath {
    let configuration: CompiledConfiguration
    var balancer: HostSetBalancer
    let activity = HostActivity(hostCount: 1000)
    var breaker = CircuitBreaker()
    var bucket: TokenBucket
    var random = SeededRandom(seed: 1)
    let attributes: Attributes
    var now = Timestamp.zero

    public init(policy: LoadBalancerPolicy) {
        // 50 routes matching on method and interface; the request matches the last one.
        let routes = (0..<50).map { i in
            RouteConfiguration(name: "r\(i)", match: [AttributeCondition("interface", .prefix("org.demo.")), AttributeCondition("method", .exact("m\(i)"))],
                               destinations: [RouteDestination(cluster: "svc", subset: "v1", weight: 20), RouteDestination(cluster: "svc", subset: "v2", weight: 80)])
        }
        let hosts = (0..<1000).map { HostConfiguration(address: "10.0.\($0 / 256).\($0 % 256):20880", labels: ["version": $0 % 5 == 0 ? "v1" : "v2"]) }
        let cluster = ClusterConfiguration(name: "svc", hosts: hosts, loadBalancer: policy)
        configuration = try! CompiledConfiguration.compile(ProxyConfiguration(protocolName: "bench", routes: routes, clusters: [cluster]),
                                                           capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64))
        balancer = HostSetBalancer(hosts.indices.map { HostSetBalancer.Member(host: BalancerHost(index: $0, weight: 1, hashKey: hosts[$0].address)) },
                                   settings: .init(policy: policy))
        bucket = TokenBucket(TokenBucketSpec(maxTokens: 1 << 40, tokensPerFill: 1 << 30, fillInterval: .seconds(1)), now: .zero)
        var a = Attributes()
        a.append(key: "interface", value: "org.demo.Greeter")
        a.append(key: "method", value: "m49")
        a.append(key: "uid", value: "42")
        attributes = a
    }

    /// Route match, weighted destination, host pick, breaker admission and release, token.
    public mutating func decide() -> Int {
        let route = configuration.routeIndex(matching: attributes)!
        let subset = random.next(below: 100) < 20 ? 0 : 1
        now.nanoseconds += 1000
        let host = balancer.pick(PickInput(hashKey: random.next(), activity: activity), random: &random)!
        guard breaker.tryTake(.requests) else { return -1 }
        breaker.release(.requests)
        guard bucket.tryTake(now: now) else { return -1 }
        return route &+ host &+ subset
    }
}

/// A driver whose network answers at once: the core's own cost per request.
public final class NullDriver: CoreClock, UpstreamTransport, DownstreamTransport {
    public private(set) var core: ProxyCore!
    public var now = Timestamp.zero
    var connects: [UpstreamConnectionID] = []
    var lastSent: (UInt64, UpstreamConnectionID)?
    let request: Message
    let response: Message
    var nextID: UInt64 = 1

    public init() {
        let routes = (0..<10).map { i in
            RouteConfiguration(name: "r\(i)", match: [AttributeCondition("method", .exact("m\(i)"))], destinations: [RouteDestination(cluster: "svc")])
        }
        let cluster = ClusterConfiguration(name: "svc", hosts: (0..<100).map { HostConfiguration(address: "10.0.0.\($0):20880") },
                                           loadBalancer: .leastRequest(), outlierDetection: OutlierDetectionPolicy())
        let configuration = try! CompiledConfiguration.compile(ProxyConfiguration(protocolName: "bench", routes: routes, clusters: [cluster]),
                                                               capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64))
        var a = Attributes()
        a.append(key: "method", value: "m7")
        request = Message(type: .request, requestID: 0, headerSize: 0, bodySize: 64, attributes: a, frame: ByteBuffer(repeating: 0, count: 64))
        response = Message(type: .response, requestID: 0, headerSize: 0, bodySize: 0, attributes: Attributes(),
                           status: ResponseStatus(category: .success, code: 0), frame: ByteBuffer())
        core = ProxyCore(configuration: configuration, clock: self, upstream: self, downstream: self, seed: 1)
    }

    /// One request and its answer. `copyingFrames` copies the request's frame once more on
    /// the way in (the gate's test-only injected regression).
    public func roundTrip(copyingFrames: Bool = false) {
        var r = request
        if copyingFrames { r.frame = ByteBuffer(bytes: r.frame.readableBytesView) }
        r.requestID = nextID
        nextID &+= 1
        now.nanoseconds += 1000
        core.receive(r, from: DownstreamID(1))
        while let c = connects.popLast() {
            core.upstreamConnected(c)
        }
        guard let (id, connection) = lastSent else { return }
        lastSent = nil
        var answer = response
        answer.requestID = id
        core.upstreamReceived(answer, on: connection)
    }

    public func requestWakeUp(at deadline: Timestamp) {}
    public func connect(_ connection: UpstreamConnectionID, to address: String) { connects.append(connection) }
    public func send(_ message: Message, mutation: Mutation, on connection: UpstreamConnectionID) { lastSent = (message.requestID, connection) }
    public func close(_ connection: UpstreamConnectionID) {}
    public func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID) {}
    public func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID) {}
    public func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID) {}
}
