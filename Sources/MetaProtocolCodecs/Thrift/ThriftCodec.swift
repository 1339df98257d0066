import MetaProtocol
import NIOCore

/// Apache Thrift: strict binary and compact protocols over the framed and unframed transports,
/// detected from a connection's first bytes.
///
/// The header gives the message type, the seq id (the request id) and the method name (the
/// `method` attribute; with the multiplexed protocol's `Service:method` names, `interface` is
/// the service). The body is walked, never built, to find where an unframed message ends and
/// to validate it; replies are read just far enough to tell success from an exception.
/// Thrift frames have no room for key/values, so this codec refuses mutations.
public struct ThriftCodec: MetaCodec {
    public static let protocolName = "thrift"
    public static let capabilities = CodecCapabilities(carriesMutation: false, hasHeartbeats: false, requestIDBits: 32)

    /// Largest frame (framed) or message (unframed) accepted.
    public var maxFrameSize: Int
    /// Transport and protocol of this connection, set by its first frame.
    public private(set) var framing: ThriftFraming?
    private var streamOffset = 0

    public init() { self.init(maxFrameSize: ThriftWire.defaultMaxFrameSize) }

    public init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(_ buffer: inout ByteBuffer) throws(CodecError) -> Message? {
        let r = buffer.readerIndex
        let available = buffer.readableBytes
        guard available >= 1 else { return nil }
        let first = buffer.getInteger(at: r, as: UInt8.self)!
        let detected: ThriftFraming
        switch first {
        case 0x80: detected = ThriftFraming(framed: false, compact: false)
        case ThriftWire.compactProtocolID: detected = ThriftFraming(framed: false, compact: true)
        case 0x00:
            // A frame size starts with 0x00 (sizes are capped far below 2^24); the protocol
            // shows in the byte after the size.
            if available >= 4, buffer.getInteger(at: r, as: UInt32.self)! == 0 {
                throw error(at: 0, .invalidValue("empty frame"))
            }
            guard available >= 5 else { return nil }
            switch buffer.getInteger(at: r + 4, as: UInt8.self)! {
            case 0x80: detected = ThriftFraming(framed: true, compact: false)
            case ThriftWire.compactProtocolID: detected = ThriftFraming(framed: true, compact: true)
            case let b: throw error(at: 4, .badMagic(found: UInt64(b)))
            }
        default:
            throw error(at: 0, .badMagic(found: UInt64(first)))
        }
        if let framing, framing != detected {
            throw error(at: 0, .invalidValue("frame in \(detected) after frames in \(framing) on the same connection"))
        }

        let message: Message?
        if detected.framed {
            let size = Int(buffer.getInteger(at: r, as: UInt32.self)!)
            guard size <= maxFrameSize else { throw error(at: 0, .frameTooLarge(size: size, limit: maxFrameSize)) }
            guard available >= 4 + size else { return nil }
            message = try parse(buffer.getSlice(at: r, length: 4 + size)!, framing: detected, complete: true)
        } else {
            message = try parse(buffer.getSlice(at: r, length: min(available, maxFrameSize))!, framing: detected, complete: false)
            if message == nil && available > maxFrameSize {
                throw error(at: 0, .frameTooLarge(size: available, limit: maxFrameSize))
            }
        }
        guard let message else { return nil }
        framing = detected
        buffer.moveReaderIndex(forwardBy: message.frame.readableBytes)
        streamOffset += message.frame.readableBytes
        return message
    }

    /// Parses one message at the start of `bytes`. With `complete`, `bytes` is exactly one frame
    /// and running short is an error; otherwise running short means "wait for more" (nil).
    private func parse(_ bytes: ByteBuffer, framing: ThriftFraming, complete: Bool) throws(CodecError) -> Message? {
        let headerStart = framing.framed ? 4 : 0
        let parsed: Result<Message?, ReadError> = bytes.withUnsafeReadableBytes { raw in
            var reader = ThriftReader(bytes: raw, from: headerStart, to: raw.count, compact: framing.compact)
            do throws(ReadError) {
                let header = try reader.readHeader()
                let bodyStart = reader.index
                let outcome = try Self.readBody(&reader, kind: header.kind)
                if complete && !reader.isAtEnd {
                    throw ReadError.invalid("\(reader.end - reader.index) bytes after the message in its frame", at: reader.index)
                }
                let frame = bytes.getSlice(at: bytes.readerIndex, length: reader.index)!
                return .success(Self.message(frame: frame, header: header, bodyStart: bodyStart, outcome: outcome, framing: framing))
            } catch {
                if case .truncated = error, !complete { return .success(nil) }
                return .failure(error)
            }
        }
        switch parsed {
        case .success(let m): return m
        case .failure(let e): throw e.codecError(protocolName: Self.protocolName, frameStart: streamOffset)
        }
    }

    /// What the body says about the outcome of a reply.
    private enum Outcome {
        case call
        case success
        case declaredException(fieldID: Int16)
        case applicationException(type: Int32)
    }

    private static func readBody(_ reader: inout ThriftReader, kind: ThriftWire.MessageKind) throws(ReadError) -> Outcome {
        switch kind {
        case .call, .oneway:
            try reader.skipStruct(depth: 0)
            return .call
        case .exception:
            let type = try reader.readApplicationExceptionType() ?? ThriftWire.ApplicationExceptionType.unknown
            return .applicationException(type: type)
        case .reply:
            // A result struct holds field 0 on success, a declared exception's field otherwise,
            // and nothing for a void method that succeeded.
            var lastID: Int16 = 0
            guard let first = try reader.readFieldHeader(lastID: &lastID) else { return .success }
            try reader.skipFieldValue(type: first.type, depth: 1)
            while let field = try reader.readFieldHeader(lastID: &lastID) {
                try reader.skipFieldValue(type: field.type, depth: 1)
            }
            return first.id == 0 ? .success : .declaredException(fieldID: first.id)
        }
    }

    private static func message(frame: ByteBuffer, header: ThriftReader.Header, bodyStart: Int, outcome: Outcome, framing: ThriftFraming) -> Message {
        var attributes = Attributes(frame: frame, reservingCapacity: 2)
        // Multiplexed protocol: "Service:method".
        let colon = frame.withUnsafeReadableBytes { raw in
            raw[header.nameStart..<(header.nameStart + header.nameLength)].firstIndex(of: UInt8(ascii: ":"))
        }
        if let colon {
            attributes.append(key: AttributeKey.method, valueAt: colon + 1, valueLength: header.nameStart + header.nameLength - colon - 1)
            attributes.append(key: AttributeKey.interface, valueAt: header.nameStart, valueLength: colon - header.nameStart)
        } else {
            attributes.append(key: AttributeKey.method, valueAt: header.nameStart, valueLength: header.nameLength)
        }
        let type: MessageType
        var status: ResponseStatus?
        switch (header.kind, outcome) {
        case (.oneway, _): type = .oneway
        case (.call, _): type = .request
        case (_, .success):
            type = .response
            status = ResponseStatus(category: .success, code: 0)
        case (_, .declaredException(let fieldID)):
            type = .error
            status = ResponseStatus(category: .applicationError, code: Int32(fieldID))
        case (_, .applicationException(let exceptionType)):
            type = .error
            status = ResponseStatus(category: ThriftWire.category(ofApplicationException: exceptionType), code: exceptionType)
        case (_, .call):
            type = .response
        }
        return Message(
            type: type,
            requestID: UInt64(UInt32(bitPattern: header.seqID)),
            headerSize: bodyStart,
            bodySize: frame.readableBytes - bodyStart,
            attributes: attributes,
            status: status,
            frame: frame,
            layout: FrameLayout(variant: framing.variant, mutableSection: nil))
    }

    // MARK: errors

    func error(at frameOffset: Int, _ reason: CodecError.Reason) -> CodecError {
        CodecError(protocolName: Self.protocolName, offset: streamOffset + frameOffset, reason: reason)
    }
}

extension ThriftReader {
    var isAtEnd: Bool { index >= end }
}
