import MetaProtocol

/// The LivePacket wire format, version 1. The full specification, with a worked example, is in
/// `Docs/protocols/livepacket.md`; this file is its constants.
///
///     offset size  field
///      0     2     magic 0x4C56 ("LV")
///      2     1     version (1)
///      3     1     kind: 0 request, 1 response, 2 oneway, 3 heartbeat, 4 heartbeat reply
///      4     4     frame length: every byte of the frame, this header included
///      8     8     request id
///     16     2     cmd
///     18     2     sub_cmd
///     20     2     status (responses; 0 OK)
///     22     2     key/value block length
///     24     …     key/value block: entries of (u8 key length ≥ 1, key, u16 value length, value)
///      …     …     payload (opaque to the proxy)
///
/// All integers are big-endian; keys and values are UTF-8.
public enum LivePacketWire {
    public static let magic: UInt16 = 0x4C56
    public static let version: UInt8 = 1
    public static let headerSize = 24
    /// Key/value entries one frame may carry (each costs an attribute entry).
    public static let maxEntries = 1024
    /// Frames above this are refused unless configured otherwise.
    public static let defaultMaxFrameSize = 16 << 20

    static let versionOffset = 2
    static let kindOffset = 3
    static let lengthOffset = 4
    static let requestIDOffset = 8
    static let cmdOffset = 16
    static let subCmdOffset = 18
    static let statusOffset = 20
    static let keyValueLengthOffset = 22

    /// Frame kinds.
    public enum Kind: UInt8, Sendable {
        case request = 0, response = 1, oneway = 2, heartbeat = 3, heartbeatReply = 4

        var messageType: MessageType {
            switch self {
            case .request: .request
            case .response: .response
            case .oneway: .oneway
            case .heartbeat: .heartbeat
            case .heartbeatReply: .heartbeatReply
            }
        }
    }

    /// Status codes a response carries.
    public enum Status: UInt16, Sendable, CaseIterable {
        case ok = 0
        /// The service rejected the call (its own error).
        case applicationError = 1
        /// No route or service for this cmd.
        case notFound = 2
        /// No host could take the call (none healthy, breaker open).
        case unavailable = 3
        case timeout = 4
        /// Rejected by a rate limit.
        case overLimit = 5
        case serverError = 6
        /// The proxy received an invalid answer from upstream.
        case badResponse = 7

        var category: ResponseStatus.Category {
            switch self {
            case .ok: .success
            case .applicationError: .applicationError
            case .serverError: .serverError
            case .notFound, .unavailable, .timeout, .overLimit, .badResponse: .unavailable
            }
        }

        init(_ kind: LocalReplyError.Kind) {
            switch kind {
            case .routeNotFound, .clusterNotFound: self = .notFound
            case .noHealthyUpstream, .overflow: self = .unavailable
            case .timeout: self = .timeout
            case .overLimit: self = .overLimit
            case .badResponse: self = .badResponse
            case .unspecified: self = .serverError
            }
        }
    }

    /// Attribute keys the codec adds besides the key/value entries.
    public enum Attribute {
        public static let cmd = "cmd"
        public static let subCmd = "sub_cmd"
    }
}
