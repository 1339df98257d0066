import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MetaProtocol
import Synchronization
import Workload

/// Envoy's rate-limit service (`envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit`)
/// over gRPC, answering from a ``RateLimitTable``: what `mplab ratelimit-server` runs, so the
/// proxy's global limits can be exercised end to end on one machine against the same API the
/// proxy uses in production (envoyproxy/ratelimit's).
public final class RateLimitServer: Envoy_Service_Ratelimit_V3_RateLimitService.SimpleServiceProtocol, Sendable {
    private let table: Mutex<RateLimitTable>
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    /// Test-only: each answer waits this long first (a slow service).
    private let delay: Mutex<Duration>
    /// Test-only: while holding, answers wait here until ``release()``.
    private let held = Mutex<(holding: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    private let arrivals = Atomic<Int>(0)

    public init(rules: RateLimitRules, delay: Duration = .zero) {
        table = Mutex(RateLimitTable(rules: rules))
        origin = clock.now
        self.delay = Mutex(delay)
    }

    /// What the table has counted so far.
    public var counters: RateLimitTable.Counters { table.withLock { $0.counters } }

    /// Makes every later answer wait `delay` first (a slow service, for tests).
    public func setDelay(_ delay: Duration) { self.delay.withLock { $0 = delay } }

    /// Requests received so far, answered or not.
    public var received: Int { arrivals.load(ordering: .relaxed) }

    /// Makes requests wait unanswered until ``release()`` (a stalled service, for tests).
    public func hold() { held.withLock { $0.holding = true } }

    /// Answers the requests held, and stops holding.
    public func release() {
        let waiting = held.withLock { state in
            state.holding = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for w in waiting { w.resume() }
    }

    public func shouldRateLimit(request: Envoy_Service_Ratelimit_V3_RateLimitRequest,
                                context: ServerContext) async throws -> Envoy_Service_Ratelimit_V3_RateLimitResponse {
        arrivals.add(1, ordering: .relaxed)
        let wait = delay.withLock { $0 }
        if wait > .zero { try await Task.sleep(for: wait) }
        await withCheckedContinuation { continuation in
            let holding = held.withLock { state in
                if state.holding { state.waiting.append(continuation) }
                return state.holding
            }
            if !holding { continuation.resume() }
        }
        let descriptors = request.descriptors.map { $0.entries.map { KeyValue($0.key, $0.value) } }
        let now = Timestamp(nanoseconds: (clock.now - origin).nanoseconds)
        let statuses = table.withLock {
            $0.decide(domain: request.domain, descriptors: descriptors, hits: Int(request.hitsAddend), now: now)
        }
        var response = Envoy_Service_Ratelimit_V3_RateLimitResponse()
        response.overallCode = statuses.contains(where: \.overLimit) ? .overLimit : .ok
        response.statuses = statuses.map(Self.wire)
        return response
    }

    static func wire(_ s: RateLimitTable.Status) -> Envoy_Service_Ratelimit_V3_RateLimitResponse.DescriptorStatus {
        var status = Envoy_Service_Ratelimit_V3_RateLimitResponse.DescriptorStatus()
        status.code = s.overLimit ? .overLimit : .ok
        if let limit = s.limit {
            var current = Envoy_Service_Ratelimit_V3_RateLimitResponse.RateLimit()
            current.requestsPerUnit = UInt32(clamping: limit.requestsPerUnit)
            current.unit = wire(limit.unit)
            if let name = limit.name { current.name = name }
            status.currentLimit = current
            status.limitRemaining = UInt32(clamping: s.remaining)
        }
        if let wait = s.untilNextToken {
            let ns = wait.nanoseconds
            status.durationUntilReset = .with {
                $0.seconds = ns / 1_000_000_000
                $0.nanos = Int32(ns % 1_000_000_000)
            }
        }
        return status
    }

    static func wire(_ unit: RateLimitRules.Unit) -> Envoy_Service_Ratelimit_V3_RateLimitResponse.RateLimit.Unit {
        switch unit {
        case .second: .second
        case .minute: .minute
        case .hour: .hour
        case .day: .day
        case .week: .week
        case .month: .month
        case .year: .year
        }
    }

    /// Serves on `host:port` until the task is cancelled; `onListening` gets the bound port
    /// (port 0 picks one).
    public func serve(host: String, port: Int, onListening: @Sendable (Int) -> Void = { _ in }) async throws {
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [self])
        try await withThrowingDiscardingTaskGroup { group in
            // Cancelling the caller's task cancels `serve()`, which closes the listener.
            group.addTask { try await server.serve() }
            let address = try await transport.listeningAddress
            onListening(address.ipv4?.port ?? port)
        }
    }
}
