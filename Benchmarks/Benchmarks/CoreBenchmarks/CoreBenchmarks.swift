import Benchmark
import MetaProtocol
import NIOCore

/// The proxy core's costs: the decision path (route match among 50 routes, host pick among 1000
/// hosts for each balancer, circuit-breaker admission, token bucket) and the full lifecycle of a
/// request through the core with a transport that does nothing.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .mallocBytesCount],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    for (name, policy) in [("round robin", LoadBalancerPolicy.roundRobin), ("random", .random), ("least request", .leastRequest()),
                           ("ring hash", .ringHash()), ("maglev", .maglev())] {
        Benchmark("Decision: 50 routes, 1000 hosts, \(name)") { benchmark in
            var decision = DecisionPath(policy: policy)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(decision.decide()) }
        }
    }

    Benchmark("Lifecycle: request through the core, null transport") { benchmark in
        // Warm up first: connections to the 100 hosts opened, stats entries made. What is
        // measured is the steady state a proxy spends its life in.
        let driver = NullDriver()
        for _ in 0..<2_000 { driver.roundTrip() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { driver.roundTrip() }
        benchmark.stopMeasurement()
        precondition(driver.core.counters.upstreamResponses == driver.core.counters.accepted, "every request must be answered")
    }
}

/// One routing decision, the way the core makes it, on pre-built state.
struct DecisionPath {
    let configuration: CompiledConfiguration
    var balancer: HostSetBalancer
    let activity = HostActivity(hostCount: 1000)
    var breaker = CircuitBreaker()
    var bucket: TokenBucket
    var random = SeededRandom(seed: 1)
    let attributes: Attributes
    var now = Timestamp.zero

    init(policy: LoadBalancerPolicy) {
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
    mutating func decide() -> Int {
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
final class NullDriver: CoreClock, UpstreamTransport, DownstreamTransport {
    var core: ProxyCore!
    var now = Timestamp.zero
    var connects: [UpstreamConnectionID] = []
    var lastSent: (UInt64, UpstreamConnectionID)?
    let request: Message
    let response: Message
    var nextID: UInt64 = 1

    init() {
        let routes = (0..<10).map { i in
            RouteConfiguration(name: "r\(i)", match: [AttributeCondition("method", .exact("m\(i)"))], destinations: [RouteDestination(cluster: "svc")])
        }
        let cluster = ClusterConfiguration(name: "svc", hosts: (0..<100).map { HostConfiguration(address: "10.0.0.\($0):20880") },
                                           loadBalancer: .leastRequest(), outlierDetection: OutlierDetectionPolicy())
        let configuration = try! CompiledConfiguration.compile(ProxyConfiguration(protocolName: "bench", routes: routes, clusters: [cluster]),
                                                               capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64))
        var a = Attributes()
        a.append(key: "method", value: "m7")
        request = Message(type: .request, requestID: 0, headerSize: 0, bodySize: 0, attributes: a, frame: ByteBuffer())
        response = Message(type: .response, requestID: 0, headerSize: 0, bodySize: 0, attributes: Attributes(),
                           status: ResponseStatus(category: .success, code: 0), frame: ByteBuffer())
        core = ProxyCore(configuration: configuration, clock: self, upstream: self, downstream: self, seed: 1)
    }

    func roundTrip() {
        var r = request
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

    func requestWakeUp(at deadline: Timestamp) {}
    func connect(_ connection: UpstreamConnectionID, to address: String) { connects.append(connection) }
    func send(_ message: Message, mutation: Mutation, on connection: UpstreamConnectionID) { lastSent = (message.requestID, connection) }
    func close(_ connection: UpstreamConnectionID) {}
    func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID) {}
    func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID) {}
    func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID) {}
}
