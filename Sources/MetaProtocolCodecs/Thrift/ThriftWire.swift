import MetaProtocol

/// Constants of Apache Thrift's transports and protocols (thrift/doc/specs:
/// thrift-binary-protocol.md, thrift-compact-protocol.md).
enum ThriftWire {
    /// Framed transport: frames larger than this are refused (Apache Thrift's default).
    static let defaultMaxFrameSize = 16_384_000
    /// Strict binary protocol: the version word's high half.
    static let binaryVersion1: UInt32 = 0x8001_0000
    static let binaryVersionMask: UInt32 = 0xffff_0000
    /// Compact protocol: first byte, then version (low 5 bits) and type (high 3 bits).
    static let compactProtocolID: UInt8 = 0x82
    static let compactVersion: UInt8 = 1
    static let compactVersionMask: UInt8 = 0x1f
    static let compactTypeShift: UInt8 = 5

    /// Message types in the header.
    enum MessageKind: UInt8 {
        case call = 1, reply = 2, exception = 3, oneway = 4
    }

    /// Field types of the binary protocol.
    enum BinaryType {
        static let stop: UInt8 = 0, bool: UInt8 = 2, byte: UInt8 = 3, double: UInt8 = 4, i16: UInt8 = 6
        static let i32: UInt8 = 8, i64: UInt8 = 10, string: UInt8 = 11, structure: UInt8 = 12
        static let map: UInt8 = 13, set: UInt8 = 14, list: UInt8 = 15, uuid: UInt8 = 16
    }

    /// Field types of the compact protocol.
    enum CompactType {
        static let stop: UInt8 = 0, boolTrue: UInt8 = 1, boolFalse: UInt8 = 2, byte: UInt8 = 3, i16: UInt8 = 4
        static let i32: UInt8 = 5, i64: UInt8 = 6, double: UInt8 = 7, binary: UInt8 = 8, list: UInt8 = 9
        static let set: UInt8 = 10, map: UInt8 = 11, structure: UInt8 = 12, uuid: UInt8 = 13
    }

    /// `TApplicationException` types (Apache Thrift's TApplicationException.ExceptionType).
    enum ApplicationExceptionType {
        static let unknown: Int32 = 0
        static let unknownMethod: Int32 = 1
        static let invalidMessageType: Int32 = 2
        static let wrongMethodName: Int32 = 3
        static let badSequenceID: Int32 = 4
        static let missingResult: Int32 = 5
        static let internalError: Int32 = 6
        static let protocolError: Int32 = 7
    }

    /// How the core reads a `TApplicationException` of this type: failures inside the server
    /// are server errors, the rest (unknown method, bad message) are the caller's problem.
    static func category(ofApplicationException type: Int32) -> ResponseStatus.Category {
        switch type {
        case ApplicationExceptionType.unknown, ApplicationExceptionType.missingResult, ApplicationExceptionType.internalError:
            .serverError
        default:
            .applicationError
        }
    }

    /// The exception type a local reply of this kind carries.
    static func applicationExceptionType(for kind: LocalReplyError.Kind) -> Int32 {
        kind == .routeNotFound ? ApplicationExceptionType.unknownMethod : ApplicationExceptionType.internalError
    }
}

/// Transport and protocol of a connection, detected from its first bytes.
public struct ThriftFraming: Sendable, Hashable, CustomStringConvertible {
    /// `true` for the framed transport (4-byte size before each message).
    public var framed: Bool
    /// `true` for the compact protocol, `false` for strict binary.
    public var compact: Bool

    public init(framed: Bool, compact: Bool) {
        self.framed = framed
        self.compact = compact
    }

    init(variant: UInt8) {
        framed = variant & 1 != 0
        compact = variant & 2 != 0
    }

    var variant: UInt8 { (framed ? 1 : 0) | (compact ? 2 : 0) }

    public var description: String { "\(framed ? "framed" : "unframed") \(compact ? "compact" : "binary")" }
}
