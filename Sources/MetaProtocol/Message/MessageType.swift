/// What a decoded frame is, as far as the proxy core is concerned.
///
/// The core routes `request` and `oneway`, matches `response` and `error` to the request they
/// answer, answers `heartbeat` locally, and passes stream frames along the stream they belong to.
public enum MessageType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A call that expects exactly one answer.
    case request
    /// A successful or application-level answer to a request.
    case response
    /// A call that expects no answer; forwarded and counted.
    case oneway
    /// A keep-alive probe; the proxy answers it itself and never forwards it.
    case heartbeat
    /// The answer to a heartbeat.
    case heartbeatReply
    /// A response that carries an exception or a non-success status.
    case error
    /// Opens a stream identified by ``Message/streamID``.
    case streamInit
    /// Carries data on an open stream.
    case streamData
    /// Closes a stream.
    case streamClose

    /// Whether a frame of this type answers an earlier frame (and so is matched by request id).
    public var isReply: Bool {
        switch self {
        case .response, .error, .heartbeatReply: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .request: "request"
        case .response: "response"
        case .oneway: "oneway"
        case .heartbeat: "heartbeat"
        case .heartbeatReply: "heartbeat-reply"
        case .error: "error"
        case .streamInit: "stream-init"
        case .streamData: "stream-data"
        case .streamClose: "stream-close"
        }
    }
}
