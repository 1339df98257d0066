import MetaProtocol

/// Constants of the Dubbo 2.x exchange protocol (dubbo.apache.org, "Dubbo2 protocol spec").
///
/// Frame: a 16-byte big-endian header, then the body in the serialization the header names.
///
///     0       2       3       4                12              16
///     | magic | flags | status| request id (8) | body length (4)| body …
///
/// Flags: 0x80 request, 0x40 two-way, 0x20 event (heartbeat), low 5 bits serialization id.
enum DubboWire {
    static let headerSize = 16
    static let magic: UInt16 = 0xdabb
    static let flagRequest: UInt8 = 0x80
    static let flagTwoWay: UInt8 = 0x40
    static let flagEvent: UInt8 = 0x20
    /// The body of the event a provider sends as it shuts down (Dubbo's `READONLY_EVENT`).
    static let readOnlyEvent = "R"
    static let serializationMask: UInt8 = 0x1f
    /// The only serialization the codec reads: Hessian 2.
    static let hessian2: UInt8 = 2
    /// Bodies above this are refused unless configured otherwise.
    static let defaultMaxBodySize = 16 << 20

    /// Offsets in the header.
    static let flagsOffset = 2
    static let statusOffset = 3
    static let requestIDOffset = 4
    static let bodyLengthOffset = 12

    /// Response type values written first in an OK response body (Dubbo's `DubboCodec`).
    enum ResponseType: UInt8 {
        case exception = 0, value = 1, nullValue = 2
        case exceptionWithAttachments = 3, valueWithAttachments = 4, nullValueWithAttachments = 5

        var hasAttachments: Bool { rawValue >= 3 }
        var withAttachments: ResponseType { ResponseType(rawValue: rawValue < 3 ? rawValue + 3 : rawValue)! }
    }

    /// `FrameLayout.variant` for requests and for replies without a response type.
    static let noResponseType: UInt8 = 0xff

    /// Status byte values.
    enum Status {
        static let ok: UInt8 = 20
        static let clientTimeout: UInt8 = 30
        static let serverTimeout: UInt8 = 31
        static let badRequest: UInt8 = 40
        static let badResponse: UInt8 = 50
        static let serviceNotFound: UInt8 = 60
        static let serviceError: UInt8 = 70
        static let serverError: UInt8 = 80
        static let clientError: UInt8 = 90
        static let threadpoolExhausted: UInt8 = 100
    }

    /// How the core should read a response status byte; `nil` for a value Dubbo does not define.
    static func category(ofStatus status: UInt8) -> ResponseStatus.Category? {
        switch status {
        case Status.ok: .success
        case Status.badRequest, Status.clientError: .applicationError
        case Status.badResponse, Status.serviceError, Status.serverError: .serverError
        case Status.clientTimeout, Status.serverTimeout, Status.serviceNotFound, Status.threadpoolExhausted: .unavailable
        default: nil
        }
    }

    /// The status byte a local reply of this kind carries.
    static func status(for kind: LocalReplyError.Kind) -> UInt8 {
        switch kind {
        case .routeNotFound, .clusterNotFound: Status.serviceNotFound
        case .noHealthyUpstream, .unspecified: Status.serverError
        case .badResponse: Status.badResponse
        case .timeout: Status.serverTimeout
        // Dubbo clients read 100 as "server busy", which is what a limit or a full breaker means.
        case .overLimit, .overflow: Status.threadpoolExhausted
        }
    }
}
