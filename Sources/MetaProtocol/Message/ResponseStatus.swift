/// The outcome a response frame reports in its own bytes (Dubbo status byte, Thrift exception,
/// the sample protocol's status field), reduced to what the core needs to decide on.
///
/// The protocol's native code is kept for stats and access logs; the ``Category`` is what
/// outlier detection, retries and success scoring act on, so every codec maps its codes to it.
public struct ResponseStatus: Sendable, Hashable, CustomStringConvertible {
    /// How the core treats a response.
    public enum Category: UInt8, Sendable, Hashable, CustomStringConvertible {
        /// The call succeeded.
        case success
        /// The service answered with an error of its own (a declared exception, a bad argument).
        /// The host is healthy; this is not a reason to retry or eject.
        case applicationError
        /// The host failed while serving the call (internal error, exhausted thread pool).
        case serverError
        /// The host could not serve the call at all (service missing, timed out, overloaded),
        /// the equivalent of an HTTP 502/503/504 "gateway failure".
        case unavailable

        public var description: String {
            switch self {
            case .success: "success"
            case .applicationError: "application-error"
            case .serverError: "server-error"
            case .unavailable: "unavailable"
            }
        }
    }

    /// The coarse outcome used by the core.
    public var category: Category
    /// The protocol's own status code (Dubbo status byte, Thrift exception type, …).
    public var code: Int32

    public init(category: Category, code: Int32) {
        self.category = category
        self.code = code
    }

    /// Whether the response counts as a success for scoring.
    public var isSuccess: Bool { category == .success }

    public var description: String { "\(category)(\(code))" }
}
