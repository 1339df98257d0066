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
    /// The unframed message being received: header read, body walked as far as bytes allowed.
    private var inProgress: Progress?
    /// The last finished walk, whose stack storage the next walk reuses.
    private var spareWalker: ThriftBodyWalker?
    /// How far the bytes had to reach for the last walk to go on (for the size cap).
    private var walkShortfall = 0

    /// Where the walk of an unframed message that has not fully arrived stands (relative to
    /// the message start); nil when no message is half-read.
    var resumePosition: Int? { inProgress?.walker.position }

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
            if message == nil && (available > maxFrameSize || walkShortfall > maxFrameSize) {
                throw error(at: 0, .frameTooLarge(size: max(available, walkShortfall), limit: maxFrameSize))
            }
        }
        guard let message else { return nil }
        framing = detected
        buffer.moveReaderIndex(forwardBy: message.frame.readableBytes)
        streamOffset += message.frame.readableBytes
        return message
    }

    /// The head of a framed call still arriving: the frame size gives its length and the message
    /// header its method, so it can be routed before its arguments are in. Replies are not cut
    /// through (their status is in the body), nor unframed messages (only a walk of the whole
    /// body finds their end).
    public mutating func decodeHead(_ buffer: inout ByteBuffer, minimumLength: Int) throws(CodecError) -> Message? {
        let r = buffer.readerIndex
        let available = buffer.readableBytes
        guard inProgress == nil, available >= 5, buffer.getInteger(at: r, as: UInt8.self)! == 0 else { return nil }
        let size = Int(buffer.getInteger(at: r, as: UInt32.self)!)
        guard available < 4 + size, 4 + size >= minimumLength, size <= maxFrameSize else { return nil }
        let detected: ThriftFraming
        switch buffer.getInteger(at: r + 4, as: UInt8.self)! {
        case 0x80: detected = ThriftFraming(framed: true, compact: false)
        case ThriftWire.compactProtocolID: detected = ThriftFraming(framed: true, compact: true)
        default: return nil
        }
        guard framing == nil || framing == detected else { return nil }
        let head: Result<(ThriftReader.Header, Int)?, ReadError> = buffer.withUnsafeReadableBytes { raw in
            var reader = ThriftReader(bytes: raw, from: 4, to: raw.count, compact: detected.compact)
            do throws(ReadError) {
                return .success((try reader.readHeader(), reader.index))
            } catch {
                if case .truncated = error { return .success(nil) }
                return .failure(error)
            }
        }
        let header: ThriftReader.Header
        let bodyStart: Int
        switch head {
        case .success(let read?): (header, bodyStart) = read
        case .success(nil): return nil
        case .failure(let e): throw e.codecError(protocolName: Self.protocolName, frameStart: streamOffset)
        }
        guard header.kind == .call || header.kind == .oneway else { return nil }
        var message = Self.message(frame: buffer.getSlice(at: r, length: available)!, header: header, bodyStart: bodyStart, walker: nil, framing: detected)
        message.bodySize = 4 + size - bodyStart
        message.cutThrough = CutThrough(pendingBytes: 4 + size - available)
        framing = detected
        buffer.moveReaderIndex(forwardBy: available)
        streamOffset += 4 + size
        return message
    }

    /// Parses one message at the start of `bytes`. With `complete`, `bytes` is exactly one frame
    /// and running short is an error; otherwise running short means "wait for more" (nil), and
    /// the walk so far is kept in ``inProgress`` to resume from.
    private mutating func parse(_ bytes: ByteBuffer, framing: ThriftFraming, complete: Bool) throws(CodecError) -> Message? {
        let headerStart = framing.framed ? 4 : 0
        var state = inProgress
        var spare = spareWalker.take()
        var shortfall = 0
        let parsed: Result<Message?, ReadError> = bytes.withUnsafeReadableBytes { raw in
            do throws(ReadError) {
                if state == nil {
                    var reader = ThriftReader(bytes: raw, from: headerStart, to: raw.count, compact: framing.compact)
                    let header: ThriftReader.Header
                    do throws(ReadError) {
                        header = try reader.readHeader()
                    } catch {
                        shortfall = reader.shortfallEnd
                        if case .truncated = error, !complete { return .success(nil) }
                        throw error
                    }
                    state = Progress(header: header, bodyStart: reader.index, walker: ThriftBodyWalker(
                        compact: framing.compact, start: reader.index, recordsExceptionType: header.kind == .exception,
                        reusing: &spare))
                }
                guard try state!.walker.walk(raw, end: raw.count, more: !complete, shortfallEnd: &shortfall) else { return .success(nil) }
                let end = state!.walker.position
                if complete && end != raw.count {
                    throw ReadError.invalid("\(raw.count - end) bytes after the message in its frame", at: end)
                }
                let frame = bytes.getSlice(at: bytes.readerIndex, length: end)!
                return .success(Self.message(frame: frame, header: state!.header, bodyStart: state!.bodyStart, walker: state!.walker, framing: framing))
            } catch {
                return .failure(error)
            }
        }
        walkShortfall = shortfall
        switch parsed {
        case .success(let m):
            if m == nil {
                inProgress = state
            } else {
                inProgress = nil
                spareWalker = state?.walker
            }
            return m
        case .failure(let e):
            inProgress = nil
            throw e.codecError(protocolName: Self.protocolName, frameStart: streamOffset)
        }
    }

    /// A message whose header is read and whose body is walked as far as the bytes allowed.
    struct Progress {
        var header: ThriftReader.Header
        var bodyStart: Int
        var walker: ThriftBodyWalker
    }

    /// The message of a frame whose header is read; `walker` has walked its body (nil for the
    /// head of a call still arriving, whose body is not needed).
    private static func message(frame: ByteBuffer, header: ThriftReader.Header, bodyStart: Int, walker: ThriftBodyWalker?, framing: ThriftFraming) -> Message {
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
        switch header.kind {
        case .oneway: type = .oneway
        case .call: type = .request
        case .exception:
            let exceptionType = walker?.applicationExceptionType ?? ThriftWire.ApplicationExceptionType.unknown
            type = .error
            status = ResponseStatus(category: ThriftWire.category(ofApplicationException: exceptionType), code: exceptionType)
        case .reply:
            // A result struct holds field 0 on success, a declared exception's field otherwise,
            // and nothing for a void method that succeeded.
            if let field = walker?.firstFieldID, field != 0 {
                type = .error
                status = ResponseStatus(category: .applicationError, code: Int32(field))
            } else {
                type = .response
                status = ResponseStatus(category: .success, code: 0)
            }
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
