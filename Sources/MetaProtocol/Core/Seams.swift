/// The seams through which the sans-IO core touches the world. A driver — the real proxy on
/// SwiftNIO, or the simulator — implements them; the core never owns a socket, a thread, a
/// clock or a random generator of its own (it is handed a seed).
///
/// All calls into the core and out of it happen on one thread of the driver's choosing. A
/// driver may call back into the core from inside a seam call (connect at once, answer from
/// inside `send`, close a client from inside its reply): the core makes every seam call with
/// its own state settled, as its last step.

/// Identifies a downstream connection (a client) to the driver.
public struct DownstreamID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "downstream#\(rawValue)" }
}

/// Identifies an upstream connection; the core assigns these when it asks for a connection.
public struct UpstreamConnectionID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "upstream#\(rawValue)" }
}

/// Identifies one call to the global rate-limit service.
public struct RateLimitCallID: Hashable, Sendable {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
}

/// Time: what time it is, and a request to be woken.
public protocol CoreClock: AnyObject {
    /// The current time on the driver's clock.
    var now: Timestamp { get }
    /// Asks the driver to call ``ProxyCore/processTimers()`` at `deadline` or soon after. A new
    /// request replaces an earlier one only if it is sooner; the core asks again as needed.
    func requestWakeUp(at deadline: Timestamp)
}

/// The upstream side: connections to hosts, frames to them. Results come back through
/// ``ProxyCore/upstreamConnected(_:)``, ``ProxyCore/upstreamConnectFailed(_:)``,
/// ``ProxyCore/upstreamReceived(_:on:)`` and ``ProxyCore/upstreamClosed(_:)``.
public protocol UpstreamTransport: AnyObject {
    /// Opens `connection` to the host at `address` (`host:port`).
    func connect(_ connection: UpstreamConnectionID, to address: String)
    /// Sends `message` (whose ``Message/requestID`` is already the upstream id) with
    /// `mutation` applied.
    func send(_ message: Message, mutation: Mutation, on connection: UpstreamConnectionID)
    /// Closes `connection`; the core expects no more callbacks for it.
    func close(_ connection: UpstreamConnectionID)
}

/// The downstream side: answers to clients.
public protocol DownstreamTransport: AnyObject {
    /// Forwards an upstream response (its ``Message/requestID`` already the client's) with
    /// `mutation` applied.
    func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID)
    /// Answers `request` with a protocol-native error reply.
    func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID)
    /// Answers a heartbeat.
    func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID)
}

/// The global rate-limit service (Envoy's rate-limit service protocol, in spirit): the core
/// asks and goes on with other work; the answer comes back through
/// ``ProxyCore/globalRateLimitAnswered(_:_:)``. A call not answered by its timeout is failed by
/// the core, and a late answer is ignored.
public protocol GlobalRateLimitService: AnyObject {
    /// Asks about `call`, one descriptor of `descriptors` in `domain`. The answer is awaited
    /// for `timeout` (a service can pass it on as the call's deadline). Answering from inside
    /// this call is not allowed: the answer must come later.
    func shouldRateLimit(_ call: RateLimitCallID, domain: String, descriptors: [KeyValue], timeout: Duration)
}

/// What the global rate-limit service said.
public enum GlobalRateLimitDecision: Sendable, Hashable {
    case ok
    case overLimit
    /// The service failed; the configured failure mode decides.
    case error
}

/// Receives one line of access log per finished request.
public protocol AccessLogSink: AnyObject {
    func log(_ entry: AccessLogEntry)
}
