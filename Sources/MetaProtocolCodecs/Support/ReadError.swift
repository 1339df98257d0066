import MetaProtocol

/// Why a codec's body reader (Hessian 2, Thrift) stopped; `at` is relative to the frame start.
/// Codecs turn it into a ``CodecError`` with the connection-wide offset.
enum ReadError: Error {
    /// A length or count runs past the end of the bytes.
    case truncated(StaticString, at: Int)
    /// A type tag the format does not define.
    case unknownType(String, code: Int, at: Int)
    /// A value the format does not allow.
    case invalid(String, at: Int)
    /// Values nest deeper than the reader's limit.
    case tooDeep(limit: Int, at: Int)

    /// The error as a codec reports it, for a frame that starts `frameStart` bytes into the
    /// connection's stream.
    func codecError(protocolName: String, frameStart: Int) -> CodecError {
        let (reason, at): (CodecError.Reason, Int) =
            switch self {
            case .truncated(let what, let at): (.truncated("\(what)"), at)
            case .unknownType(let what, let code, let at): (.unknownType(what, code: code), at)
            case .invalid(let what, let at): (.invalidValue(what), at)
            case .tooDeep(let limit, let at): (.nestingTooDeep(limit: limit), at)
            }
        return CodecError(protocolName: protocolName, offset: frameStart + at, reason: reason)
    }
}
