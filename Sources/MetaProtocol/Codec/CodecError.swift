/// Invalid bytes, named precisely: which protocol, where in the connection's byte stream, and
/// what was wrong. A proxy closes the one connection that sent them and counts the reason.
public struct CodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong with the bytes.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// The frame does not start with the protocol's magic number.
        case badMagic(found: UInt64)
        /// The frame announces more bytes than the configured cap.
        case frameTooLarge(size: Int, limit: Int)
        /// A length or count inside the frame runs past the frame's end.
        case truncated(String)
        /// A type tag the protocol does not define.
        case unknownType(String, code: Int)
        /// A field holds a value the protocol does not allow.
        case invalidValue(String)
        /// Valid bytes using a feature this codec does not implement.
        case unsupported(String)
        /// Values nest deeper than the codec's limit (protects the decoder's stack).
        case nestingTooDeep(limit: Int)

        public var description: String {
            switch self {
            case .badMagic(let found): "bad magic 0x\(String(found, radix: 16))"
            case .frameTooLarge(let size, let limit): "frame of \(size) bytes is over the \(limit)-byte limit"
            case .truncated(let what): "truncated \(what)"
            case .unknownType(let what, let code): "unknown \(what) 0x\(String(code, radix: 16))"
            case .invalidValue(let what): "invalid \(what)"
            case .unsupported(let what): "unsupported \(what)"
            case .nestingTooDeep(let limit): "values nested deeper than \(limit) levels"
            }
        }
    }

    /// The codec's protocol name (`dubbo`, `thrift`, `livepacket`).
    public var protocolName: String
    /// Byte offset of the offending byte from the start of the connection's stream (for encode
    /// errors, from the start of the frame being encoded).
    public var offset: Int
    public var reason: Reason

    public init(protocolName: String, offset: Int, reason: Reason) {
        self.protocolName = protocolName
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(protocolName): invalid bytes at offset \(offset): \(reason)" }
}
