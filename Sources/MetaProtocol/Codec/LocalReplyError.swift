/// Why the proxy answers a request itself instead of forwarding the upstream's answer.
/// Each codec maps every kind to its protocol's own error reply.
public struct LocalReplyError: Sendable, Hashable, Error, CustomStringConvertible {
    /// The reason for a local reply.
    public enum Kind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// No route matched the request's attributes.
        case routeNotFound
        /// The route names a cluster (or subset) that does not exist.
        case clusterNotFound
        /// The cluster has no host that can take the request.
        case noHealthyUpstream
        /// The upstream sent something that is not a valid answer.
        case badResponse
        /// A rate limit rejected the request.
        case overLimit
        /// The request (or its last try) timed out.
        case timeout
        /// A circuit breaker rejected the request.
        case overflow
        /// Any other failure (connect failure, reset, injected fault).
        case unspecified

        public var description: String {
            switch self {
            case .routeNotFound: "route_not_found"
            case .clusterNotFound: "cluster_not_found"
            case .noHealthyUpstream: "no_healthy_upstream"
            case .badResponse: "bad_response"
            case .overLimit: "over_limit"
            case .timeout: "timeout"
            case .overflow: "overflow"
            case .unspecified: "unspecified"
            }
        }
    }

    public var kind: Kind
    /// Human-readable detail carried in the reply where the protocol has room for it.
    public var message: String

    public init(_ kind: Kind, message: String = "") {
        self.kind = kind
        self.message = message
    }

    public var description: String { message.isEmpty ? kind.description : "\(kind): \(message)" }
}
