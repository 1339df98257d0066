import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import MetaProtocol
import Synchronization

/// A client of Envoy's rate-limit service API for a proxy's global rate limits: the one the
/// proxy's listeners share to ask `ShouldRateLimit` of envoyproxy/ratelimit, of
/// `mplab ratelimit-server`, or of any service speaking the API.
///
/// One HTTP/2 connection, kept open and reused by every call (gRPC multiplexes them), and
/// reconnected with a short backoff when the service goes away, so the proxy recovers within
/// about a second of the service's return. A call never blocks the caller: ``ask(domain:entries:timeout:answer:)``
/// starts it and the answer arrives on another thread. Calls in flight are bounded
/// (``maxInFlight``): past the bound a call fails at once, and the proxy applies its failure
/// mode, rather than queueing without limit behind a slow service.
public final class RateLimitServiceClient: Sendable {
    /// What the client saw, by the names the admin endpoint shows.
    public struct Counters: Sendable, Hashable {
        public var calls = 0
        public var ok = 0
        public var overLimit = 0
        /// Calls that failed: the service unreachable, an error status, no answer by the deadline.
        public var failed = 0
        /// Calls refused before being sent, ``maxInFlight`` being in flight already.
        public var refusedBusy = 0

        public var named: [(String, Int)] {
            [("ratelimit_service_calls", calls), ("ratelimit_service_ok", ok), ("ratelimit_service_over_limit", overLimit),
             ("ratelimit_service_failed", failed), ("ratelimit_service_refused_busy", refusedBusy)]
        }
    }

    /// Where the service is, as `host:port`.
    public let address: String
    /// Calls in flight at most.
    public let maxInFlight: Int
    private let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    private let stub: Envoy_Service_Ratelimit_V3_RateLimitService.Client<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>
    private let inFlight = Atomic<Int>(0)
    private let state = Mutex(Counters())

    /// A client of the service at `host:port`; it connects at once and keeps connecting.
    public init(host: String, port: Int, maxInFlight: Int = 1024) throws {
        address = "\(host):\(port)"
        self.maxInFlight = maxInFlight
        let target: any ResolvableTarget = Self.isIPv4(host) ? .ipv4(host: host, port: port) : .dns(host: host, port: port)
        let transport = try HTTP2ClientTransport.Posix(
            target: target, transportSecurity: .plaintext,
            config: .defaults {
                // gRPC's default backoff grows to two minutes; a rate-limit service back from a
                // restart should be used again within about a second.
                $0.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
            })
        let grpc = GRPCClient(transport: transport)
        self.grpc = grpc
        stub = .init(wrapping: grpc)
        connections = Task { try? await grpc.runConnections() }
    }

    /// What the client has counted so far.
    public var counters: Counters { state.withLock { $0 } }

    /// Asks whether a request with one descriptor (`entries`) in `domain` is over its limit.
    /// `answer` is called exactly once, on some other thread, by `timeout` or soon after
    /// (`.error` for every failure).
    public func ask(domain: String, entries: [KeyValue], timeout: Duration, answer: @escaping @Sendable (GlobalRateLimitDecision) -> Void) {
        guard inFlight.add(1, ordering: .relaxed).newValue <= maxInFlight else {
            inFlight.subtract(1, ordering: .relaxed)
            state.withLock { $0.refusedBusy += 1 }
            answer(.error)
            return
        }
        var request = Envoy_Service_Ratelimit_V3_RateLimitRequest()
        request.domain = domain
        request.descriptors = [.with { d in d.entries = entries.map { e in .with { $0.key = e.key; $0.value = e.value } } }]
        var options = CallOptions.defaults
        options.timeout = timeout
        // A service known to be down fails the call at once (the failure mode applies) instead
        // of the call waiting out its deadline for a connection.
        options.waitForReady = false
        Task { [self] in
            let decision: GlobalRateLimitDecision
            do {
                let response = try await stub.shouldRateLimit(request: ClientRequest(message: request), options: options)
                switch response.overallCode {
                case .ok: decision = .ok
                case .overLimit: decision = .overLimit
                default: decision = .error
                }
            } catch {
                decision = .error
            }
            inFlight.subtract(1, ordering: .relaxed)
            state.withLock {
                $0.calls += 1
                switch decision {
                case .ok: $0.ok += 1
                case .overLimit: $0.overLimit += 1
                case .error: $0.failed += 1
                }
            }
            answer(decision)
        }
    }

    /// Closes the connection once the calls in flight have finished.
    public func shutdown() async {
        grpc.beginGracefulShutdown()
        await connections.value
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
