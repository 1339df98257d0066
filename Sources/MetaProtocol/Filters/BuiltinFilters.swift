import W3CTraceContext

/// Applies the route's mutations: its request mutation on the way up, its response mutation on
/// the way back (the anchor parses response mutations but never applies them).
public final class MutationFilter: MetaFilter {
    public let name = "mutation"
    public var hooks: FilterHooks { [.request, .response] }
    public init() {}

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
        if let route = exchange.route {
            for e in route.requestMutation { exchange.requestMutation[e.key] = e.value }
        }
        return .proceed
    }

    public func onResponse(_ exchange: inout Exchange, response: Message?, now: Timestamp) -> FilterDecision {
        if let route = exchange.route, response != nil {
            for e in route.responseMutation { exchange.responseMutation[e.key] = e.value }
        }
        return .proceed
    }
}

/// The route's fault injection, first half: holds a percentage of requests for a while. Both
/// halves count under the name `fault`.
public final class FaultDelayFilter: MetaFilter {
    public let name = "fault"
    public var hooks: FilterHooks { .request }
    public init() {}

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
        guard let delay = exchange.route?.fault?.delay, random.chance(percent: delay.percentage) else { return .proceed }
        return .delay(delay.duration)
    }
}

/// The route's fault injection, second half: answers a percentage of requests with a chosen
/// error — after the delay, if they had one, as Envoy's fault filter does.
public final class FaultAbortFilter: MetaFilter {
    public let name = "fault"
    public var hooks: FilterHooks { .request }
    public init() {}

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
        guard let abort = exchange.route?.fault?.abort, random.chance(percent: abort.percentage) else { return .proceed }
        return .reply(LocalReplyError(abort.error, message: "fault injected"))
    }
}

/// MetaRouter's local rate limit, one limiter per proxy instance.
public final class LocalRateLimitFilter: MetaFilter {
    public let name = "local_ratelimit"
    public var hooks: FilterHooks { .request }
    @exclusivity(unchecked) public private(set) var limiter: LocalRateLimiter
    /// The configuration it was made from, so a swap that keeps it can keep the buckets.
    public let source: LocalRateLimitConfiguration?

    public init(_ policy: LocalRateLimitPolicy, source: LocalRateLimitConfiguration? = nil, now: Timestamp) {
        limiter = LocalRateLimiter(policy, now: now)
        self.source = source
    }

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
        let decision = limiter.admit(exchange.request.attributes, now: now)
        return decision.allowed ? .proceed : .reply(LocalReplyError(.overLimit, message: "local rate limit (\(decision.bucket))"))
    }
}

/// MetaRouter's global rate limit: matching requests ask the rate-limit service with
/// descriptors built from their attributes. The core makes the call without blocking and
/// applies the timeout and failure mode.
public final class GlobalRateLimitFilter: MetaFilter {
    public let name = "global_ratelimit"
    public var hooks: FilterHooks { .request }
    private let match: AttributeMatch
    private let configuration: GlobalRateLimitConfiguration

    init(_ compiled: CompiledGlobalRateLimit) {
        match = compiled.match
        configuration = compiled.configuration
    }

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
        guard match.matches(exchange.request.attributes) else { return .proceed }
        var descriptors: [KeyValue] = []
        for d in configuration.descriptors {
            // A request without the attribute has no descriptor to be limited by.
            guard let value = exchange.request.attributes[d.attribute] else { return .proceed }
            descriptors.append(KeyValue(d.key, value.string))
        }
        return .askRateLimitService(domain: configuration.domain, descriptors: descriptors, timeout: configuration.timeout,
                                    denyOnFailure: configuration.denyOnFailure)
    }
}

/// W3C trace-context propagation: continues the client's trace (a new span as its child) or
/// starts one, sampled at the configured percentage, and sends `traceparent` (and the client's
/// `tracestate`) upstream.
public final class TraceContextFilter: MetaFilter {
    public let name = "trace_context"
    public var hooks: FilterHooks { .request }
    private let samplingPercentage: Double
    public static let traceParent = "traceparent"
    public static let traceState = "tracestate"

    public init(_ configuration: TracingConfiguration) {
        samplingPercentage = configuration.samplingPercentage
    }

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
        let attributes = exchange.request.attributes
        let incoming = attributes[Self.traceParent].flatMap { try? TraceContext(traceParentHeaderValue: $0.string, traceStateHeaderValue: attributes[Self.traceState]?.string) }
        let context: TraceContext
        if let incoming {
            context = TraceContext(traceID: incoming.traceID, spanID: SpanID.random(using: &random), flags: incoming.flags, state: incoming.state)
        } else {
            let sampled = random.chance(percent: samplingPercentage)
            context = TraceContext(traceID: TraceID.random(using: &random), spanID: SpanID.random(using: &random),
                                   flags: sampled ? .sampled : [], state: TraceState())
        }
        exchange.requestMutation[Self.traceParent] = context.traceParentHeaderValue
        if let state = context.traceStateHeaderValue { exchange.requestMutation[Self.traceState] = state }
        exchange.trace = TraceInfo(traceID: context.traceID.description, spanID: context.spanID.description,
                                   sampled: context.flags.contains(.sampled), continued: incoming != nil)
        return .proceed
    }
}

/// Request figures per route and per method of a route: requests in progress, then, as each
/// finishes, totals, successes, errors, local replies and request time.
public final class StatsFilter: MetaFilter {
    public let name = "stats"
    public var hooks: FilterHooks { [.request, .complete] }
    /// By route index.
    let routes: [RouteStats]

    init(routes: [RouteStats]) {
        self.routes = routes
    }

    public func onRequest(_ exchange: inout Exchange, now: Timestamp, random: inout SeededRandom) -> FilterDecision {
        guard let i = exchange.route?.index, i < routes.count else { return .proceed }
        routes[i].requests.active += 1
        let slot = routes[i].methodSlot(exchange.request.attributes[AttributeKey.method])
        exchange.methodSlot = slot
        routes[i].updateMethod(slot) { $0.active += 1 }
        return .proceed
    }

    public func onComplete(_ exchange: Exchange, now: Timestamp) {
        guard let i = exchange.route?.index, i < routes.count, let outcome = exchange.outcome else { return }
        let slot = exchange.methodSlot >= 0 ? exchange.methodSlot : routes[i].methodSlot(exchange.request.attributes[AttributeKey.method])
        let elapsed = now - exchange.acceptedAt
        func update(_ s: inout RequestStats) {
            s.active -= 1
            s.record(outcome, elapsed: elapsed)
        }
        update(&routes[i].requests)
        routes[i].updateMethod(slot, update)
    }
}

/// Writes one access-log line per finished request.
public final class AccessLogFilter: MetaFilter {
    public let name = "access_log"
    public var hooks: FilterHooks { .complete }
    private let sink: AccessLogSink

    public init(sink: AccessLogSink) { self.sink = sink }

    public func onComplete(_ exchange: Exchange, now: Timestamp) {
        sink.log(AccessLogEntry(
            start: exchange.acceptedAt, duration: now - exchange.acceptedAt, downstream: exchange.downstream,
            requestID: exchange.request.requestID, operation: exchange.request.operationName, route: exchange.route?.name,
            cluster: exchange.cluster, host: exchange.host, tries: exchange.tries, outcome: exchange.outcome ?? .dropped,
            traceID: exchange.trace?.traceID))
    }
}
