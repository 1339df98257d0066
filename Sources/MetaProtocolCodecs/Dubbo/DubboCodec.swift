import MetaProtocol
import NIOCore

/// Apache Dubbo 2.x with Hessian 2 bodies.
///
/// Requests are read for their service path, version, method and parameter types; the arguments
/// are skipped (never built) to reach the attachments, which become attributes along with
/// `interface`, `method`, `version` and `group`. Responses are read for their status and
/// attachments. Heartbeats are events with a `null` body.
public struct DubboCodec: MetaCodec {
    public static let protocolName = "dubbo"
    public static let capabilities = CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)

    /// Largest body accepted; a header announcing more is an error.
    public var maxBodySize: Int
    /// Bytes of the connection's stream consumed so far, for error offsets.
    private var streamOffset = 0

    /// The default body size cap: 16 MiB.
    public static let defaultMaxBodySize = DubboWire.defaultMaxBodySize

    public init() { self.init(maxBodySize: Self.defaultMaxBodySize) }

    public init(maxBodySize: Int) {
        self.maxBodySize = maxBodySize
    }

    public mutating func decode(_ buffer: inout ByteBuffer) throws(CodecError) -> Message? {
        let available = buffer.readableBytes
        let r = buffer.readerIndex
        // Check the magic as soon as its bytes arrive, so garbage is refused without waiting.
        if available >= 1, buffer.getInteger(at: r, as: UInt8.self)! != 0xda {
            throw error(at: 0, .badMagic(found: UInt64(buffer.getInteger(at: r, as: UInt8.self)!)))
        }
        if available >= 2, buffer.getInteger(at: r, as: UInt16.self)! != DubboWire.magic {
            throw error(at: 0, .badMagic(found: UInt64(buffer.getInteger(at: r, as: UInt16.self)!)))
        }
        guard available >= DubboWire.headerSize else { return nil }

        let flags = buffer.getInteger(at: r + DubboWire.flagsOffset, as: UInt8.self)!
        let serialization = flags & DubboWire.serializationMask
        guard serialization == DubboWire.hessian2 else {
            throw error(at: DubboWire.flagsOffset, .unsupported("serialization id \(serialization) (only Hessian 2, id 2)"))
        }
        let bodyLength = Int(buffer.getInteger(at: r + DubboWire.bodyLengthOffset, as: Int32.self)!)
        guard bodyLength >= 0, bodyLength <= maxBodySize else {
            throw error(at: DubboWire.bodyLengthOffset, .frameTooLarge(size: bodyLength < 0 ? Int(UInt32(bitPattern: Int32(bodyLength))) : bodyLength, limit: maxBodySize))
        }
        let frameLength = DubboWire.headerSize + bodyLength
        guard available >= frameLength else { return nil }

        let frame = buffer.getSlice(at: r, length: frameLength)!
        let message = try parse(frame: frame, flags: flags, bodyLength: bodyLength)
        buffer.moveReaderIndex(forwardBy: frameLength)
        streamOffset += frameLength
        return message
    }

    private func parse(frame: ByteBuffer, flags: UInt8, bodyLength: Int) throws(CodecError) -> Message {
        let status = frame.getInteger(at: DubboWire.statusOffset, as: UInt8.self)!
        let requestID = frame.getInteger(at: DubboWire.requestIDOffset, as: UInt64.self)!
        let isRequest = flags & DubboWire.flagRequest != 0
        let isEvent = flags & DubboWire.flagEvent != 0

        var message = Message(
            type: .request, requestID: requestID, headerSize: DubboWire.headerSize, bodySize: bodyLength,
            attributes: Attributes(frame: frame), frame: frame,
            layout: FrameLayout(variant: DubboWire.noResponseType))

        if isEvent {
            // A two-way event is a heartbeat; a one-way event (the server's read-only notice)
            // expects no answer. Event bodies carry nothing to route on and are left unread.
            if isRequest {
                message.type = flags & DubboWire.flagTwoWay != 0 ? .heartbeat : .oneway
            } else {
                guard let category = DubboWire.category(ofStatus: status) else {
                    throw CodecError(protocolName: Self.protocolName, offset: streamOffset + DubboWire.statusOffset, reason: .invalidValue("response status \(status)"))
                }
                message.type = .heartbeatReply
                message.status = ResponseStatus(category: category, code: Int32(status))
            }
            return message
        }
        let result: Result<Void, ReadError> = frame.withUnsafeReadableBytes { bytes in
            var reader = Hessian2Reader(bytes: bytes, from: DubboWire.headerSize, to: frame.readableBytes)
            do throws(ReadError) {
                if isRequest {
                    message.type = flags & DubboWire.flagTwoWay != 0 ? .request : .oneway
                    try Self.readRequestBody(&reader, into: &message)
                } else {
                    try Self.readResponseBody(&reader, status: status, into: &message)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success:
            return message
        case .failure(let readError):
            throw readError.codecError(protocolName: Self.protocolName, frameStart: streamOffset)
        }
    }

    /// What a request body says before its attachments.
    struct RequestPreamble {
        var path: Hessian2Reader.StringValue
        var version: Hessian2Reader.StringValue
        var method: Hessian2Reader.StringValue
        /// Where the first argument's encoded value lies in the body, if there is one.
        var firstArgument: Range<Int>?
        /// Whether the first parameter is declared `java.lang.String`.
        var firstArgumentIsString = false
    }

    /// Reads a request body up to its attachments: dubbo version, service path, service
    /// version, method, parameter types, and the arguments (skipped).
    static func readRequestPreamble(_ reader: inout Hessian2Reader) throws(ReadError) -> RequestPreamble {
        _ = try reader.readString()  // Dubbo protocol version, e.g. "2.0.2"
        var preamble = RequestPreamble(path: try reader.readString(), version: try reader.readString(), method: try reader.readString())
        let typesAt = reader.index
        let argumentCount: Int
        switch try reader.readString() {
        case .null: argumentCount = 0
        case .range(let start, let length):
            let descriptor = UnsafeRawBufferPointer(rebasing: reader.bytes[start..<(start + length)])
            argumentCount = try countParameters(descriptor, at: typesAt)
            preamble.firstArgumentIsString = descriptor.starts(with: stringDescriptor)
        case .string(let s):
            let counted: Result<Int, ReadError> = Array(s.utf8).withUnsafeBytes { u in
                do throws(ReadError) { return .success(try countParameters(u, at: typesAt)) } catch { return .failure(error) }
            }
            argumentCount = try counted.get()
            preamble.firstArgumentIsString = s.utf8.starts(with: stringDescriptor)
        }
        for i in 0..<argumentCount {
            let start = reader.index
            try reader.skipValue()
            if i == 0 { preamble.firstArgument = start..<reader.index }
        }
        return preamble
    }

    /// Request body: the preamble, then the attachments.
    private static func readRequestBody(_ reader: inout Hessian2Reader, into message: inout Message) throws(ReadError) {
        message.attributes = Attributes(frame: message.frame, reservingCapacity: 12)
        let preamble = try readRequestPreamble(&reader)
        add(AttributeKey.interface, preamble.path, to: &message.attributes, frame: message.frame)
        add(AttributeKey.method, preamble.method, to: &message.attributes, frame: message.frame)
        add(AttributeKey.version, preamble.version, to: &message.attributes, frame: message.frame)

        if reader.isAtEnd {  // no attachments: a mutation inserts a map here
            message.layout.mutableSection = reader.index..<reader.index
            return
        }
        let mapStart = reader.index
        try readAttachments(&reader, into: &message)
        message.layout.mutableSection = mapStart..<reader.index
        guard reader.isAtEnd else { throw .invalid("\(reader.end - reader.index) bytes after the attachments", at: reader.index) }
    }

    /// OK response body: a response type, the value or exception unless null, and attachments
    /// when the type says so. Any other status: an error message string.
    private static func readResponseBody(_ reader: inout Hessian2Reader, status: UInt8, into message: inout Message) throws(ReadError) {
        guard let category = DubboWire.category(ofStatus: status) else {
            throw .invalid("response status \(status)", at: DubboWire.statusOffset)
        }
        message.status = ResponseStatus(category: category, code: Int32(status))
        guard status == DubboWire.Status.ok else {
            message.type = .error
            return
        }
        let type = try readResponsePreamble(&reader)
        message.layout.variant = type.rawValue
        if type == .exception || type == .exceptionWithAttachments {
            message.type = .error
            message.status = ResponseStatus(category: .applicationError, code: Int32(status))
        } else {
            message.type = .response
        }
        guard type.hasAttachments else {
            // Nothing to route on after the value: it was left unread (pass-through stays O(1)).
            message.layout.mutableSection = reader.end..<reader.end
            return
        }
        let mapStart = reader.index
        message.attributes = Attributes(frame: message.frame, reservingCapacity: 4)
        try readAttachments(&reader, into: &message)
        message.layout.mutableSection = mapStart..<reader.index
        guard reader.isAtEnd else { throw .invalid("\(reader.end - reader.index) bytes after the attachments", at: reader.index) }
    }

    /// Reads an OK response body's type and, when attachments follow, skips the value to them.
    static func readResponsePreamble(_ reader: inout Hessian2Reader) throws(ReadError) -> DubboWire.ResponseType {
        let typeAt = reader.index
        let rawType = try reader.readInt()
        guard rawType >= 0, rawType <= 5, let type = DubboWire.ResponseType(rawValue: UInt8(rawType)) else {
            throw .invalid("response type \(rawType)", at: typeAt)
        }
        if type.hasAttachments && type != .nullValueWithAttachments { try reader.skipValue() }
        return type
    }

    /// Attachments a message may carry: each costs an attribute entry.
    static let maxAttachments = 1024

    /// Reads the attachments map; string entries become attributes, other values are skipped.
    private static func readAttachments(_ reader: inout Hessian2Reader, into message: inout Message) throws(ReadError) {
        let mapAt = reader.index
        guard try reader.readMapStart() else { return }
        var entries = 0
        while try !reader.readMapEnd() {
            entries += 1
            guard entries <= maxAttachments else { throw .invalid("more than \(maxAttachments) attachments", at: mapAt) }
            guard try reader.nextIsString() else {
                try reader.skipValue()  // non-string key
                try reader.skipValue()
                continue
            }
            let key = try reader.readString()
            guard try reader.nextIsString() else {
                try reader.skipValue()
                continue
            }
            let value = try reader.readString()
            switch (key, value) {
            case (.null, _), (_, .null):
                continue
            case (.range(let ks, let kl), .range(let vs, let vl)):
                message.attributes.append(keyAt: ks, keyLength: kl, valueAt: vs, valueLength: vl)
            case (.range(let ks, let kl), .string(let v)):
                message.attributes.append(keyAt: ks, keyLength: kl, value: v)
            case (.string(let k), .range(let vs, let vl)):
                message.attributes.append(key: k, valueAt: vs, valueLength: vl)
            case (.string(let k), .string(let v)):
                message.attributes.append(key: k, value: v)
            }
        }
    }

    private static func add(_ key: String, _ value: Hessian2Reader.StringValue, to attributes: inout Attributes, frame: ByteBuffer) {
        switch value {
        case .null: break
        case .range(let start, let length): attributes.append(key: key, valueAt: start, valueLength: length)
        case .string(let s): attributes.append(key: key, value: s)
        }
    }

    /// The descriptor of a `java.lang.String` parameter.
    static let stringDescriptor = Array("Ljava/lang/String;".utf8)

    /// Counts the parameters in a JVM method descriptor such as `Ljava/lang/String;[IJ`.
    static func countParameters(_ descriptor: UnsafeRawBufferPointer, at offset: Int) throws(ReadError) -> Int {
        var count = 0
        var i = 0
        while i < descriptor.count {
            var c = descriptor[i]
            while c == UInt8(ascii: "[") {
                i += 1
                guard i < descriptor.count else { throw .invalid("parameter types descriptor ends after '['", at: offset) }
                c = descriptor[i]
            }
            switch c {
            case UInt8(ascii: "Z"), UInt8(ascii: "B"), UInt8(ascii: "C"), UInt8(ascii: "D"), UInt8(ascii: "F"),
                UInt8(ascii: "I"), UInt8(ascii: "J"), UInt8(ascii: "S"):
                i += 1
            case UInt8(ascii: "L"):
                guard let semicolon = descriptor[i...].firstIndex(of: UInt8(ascii: ";")) else {
                    throw .invalid("parameter types descriptor: class name without ';'", at: offset)
                }
                i = semicolon + 1
            default:
                throw .invalid("parameter types descriptor: unexpected '\(Character(Unicode.Scalar(c)))'", at: offset)
            }
            count += 1
        }
        return count
    }

    // MARK: errors

    private func error(at frameOffset: Int, _ reason: CodecError.Reason) -> CodecError {
        CodecError(protocolName: Self.protocolName, offset: streamOffset + frameOffset, reason: reason)
    }
}
