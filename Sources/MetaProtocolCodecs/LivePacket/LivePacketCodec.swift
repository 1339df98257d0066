import MetaProtocol
import NIOCore

/// The codec for LivePacket, MetaProxyLab's own sample private protocol (see `LivePacketWire`
/// and `Docs/protocols/livepacket.md`).
///
/// It is also the worked example of adding a protocol (`Docs/adding-a-protocol.md`): decode a
/// frame into a ``Message`` with attributes, encode it back (applying a mutation to the
/// key/value block), and write a native error reply. Routing, balancing, limits and the rest
/// then apply to it unchanged.
///
/// Attributes: `cmd` and `sub_cmd` as decimal strings, `method` as `cmd.sub_cmd`, then every
/// key/value entry.
public struct LivePacketCodec: MetaCodec {
    public static let protocolName = "livepacket"
    public static let capabilities = CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)

    /// Largest frame accepted.
    public var maxFrameSize: Int
    private var streamOffset = 0

    public init() { self.init(maxFrameSize: LivePacketWire.defaultMaxFrameSize) }

    public init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    // MARK: decode

    public mutating func decode(_ buffer: inout ByteBuffer) throws(CodecError) -> Message? {
        let r = buffer.readerIndex
        let available = buffer.readableBytes
        // Refuse garbage as soon as the bytes that prove it have arrived.
        if available >= 1, let first = buffer.getInteger(at: r, as: UInt8.self), first != UInt8(LivePacketWire.magic >> 8) {
            throw error(at: 0, .badMagic(found: UInt64(first)))
        }
        if available >= 2, let magic = buffer.getInteger(at: r, as: UInt16.self), magic != LivePacketWire.magic {
            throw error(at: 0, .badMagic(found: UInt64(magic)))
        }
        if available >= 3, let version = buffer.getInteger(at: r + LivePacketWire.versionOffset, as: UInt8.self), version != LivePacketWire.version {
            throw error(at: LivePacketWire.versionOffset, .unsupported("version \(version)"))
        }
        guard available >= LivePacketWire.headerSize else { return nil }

        let length = Int(buffer.getInteger(at: r + LivePacketWire.lengthOffset, as: UInt32.self)!)
        guard length <= maxFrameSize else { throw error(at: LivePacketWire.lengthOffset, .frameTooLarge(size: length, limit: maxFrameSize)) }
        guard length >= LivePacketWire.headerSize else {
            throw error(at: LivePacketWire.lengthOffset, .invalidValue("frame length \(length), shorter than the \(LivePacketWire.headerSize)-byte header"))
        }
        let rawKind = buffer.getInteger(at: r + LivePacketWire.kindOffset, as: UInt8.self)!
        guard let kind = LivePacketWire.Kind(rawValue: rawKind) else { throw error(at: LivePacketWire.kindOffset, .unknownType("kind", code: Int(rawKind))) }
        let keyValueLength = Int(buffer.getInteger(at: r + LivePacketWire.keyValueLengthOffset, as: UInt16.self)!)
        guard LivePacketWire.headerSize + keyValueLength <= length else {
            throw error(at: LivePacketWire.keyValueLengthOffset, .truncated("key/value block: \(keyValueLength) bytes in a \(length)-byte frame"))
        }
        guard available >= length else { return nil }

        let frame = buffer.getSlice(at: r, length: length)!
        let message = try message(frame: frame, kind: kind, keyValueLength: keyValueLength)
        buffer.moveReaderIndex(forwardBy: length)
        streamOffset += length
        return message
    }

    /// The header and the key/value block carry every attribute, so a frame can be routed as
    /// soon as they are in.
    public mutating func decodeHead(_ buffer: inout ByteBuffer, minimumLength: Int) throws(CodecError) -> Message? {
        let r = buffer.readerIndex
        let available = buffer.readableBytes
        guard available >= LivePacketWire.headerSize else { return nil }
        // decode(_:) has checked the header's fields before it returned nil.
        let length = Int(buffer.getInteger(at: r + LivePacketWire.lengthOffset, as: UInt32.self)!)
        let keyValueLength = Int(buffer.getInteger(at: r + LivePacketWire.keyValueLengthOffset, as: UInt16.self)!)
        guard available < length, length >= minimumLength, available >= LivePacketWire.headerSize + keyValueLength,
            let kind = LivePacketWire.Kind(rawValue: buffer.getInteger(at: r + LivePacketWire.kindOffset, as: UInt8.self)!)
        else { return nil }
        var message = try message(frame: buffer.getSlice(at: r, length: available)!, kind: kind, keyValueLength: keyValueLength)
        message.bodySize = length - LivePacketWire.headerSize - keyValueLength
        message.cutThrough = CutThrough(pendingBytes: length - available)
        buffer.moveReaderIndex(forwardBy: available)
        streamOffset += length
        return message
    }

    private func message(frame: ByteBuffer, kind: LivePacketWire.Kind, keyValueLength: Int) throws(CodecError) -> Message {
        let cmd = frame.getInteger(at: LivePacketWire.cmdOffset, as: UInt16.self)!
        let subCmd = frame.getInteger(at: LivePacketWire.subCmdOffset, as: UInt16.self)!
        var attributes = Attributes(frame: frame, reservingCapacity: 8)
        // Decimal strings of up to 5 digits fit Swift's inline small strings: no allocation.
        attributes.append(key: LivePacketWire.Attribute.cmd, value: String(cmd))
        attributes.append(key: LivePacketWire.Attribute.subCmd, value: String(subCmd))
        attributes.append(key: AttributeKey.method, value: String(cmd) + "." + String(subCmd))

        // Key/value entries: u8 key length, key, u16 value length, value.
        var i = LivePacketWire.headerSize
        let end = i + keyValueLength
        while i < end {
            guard attributes.count < 3 + LivePacketWire.maxEntries else {
                throw error(at: LivePacketWire.keyValueLengthOffset, .invalidValue("more than \(LivePacketWire.maxEntries) key/value entries"))
            }
            let keyLength = Int(frame.getInteger(at: i, as: UInt8.self)!)
            guard keyLength > 0 else { throw error(at: i, .invalidValue("empty key in key/value block")) }
            guard i + 1 + keyLength + 2 <= end else { throw error(at: i, .truncated("key/value entry")) }
            let valueLength = Int(frame.getInteger(at: i + 1 + keyLength, as: UInt16.self)!)
            let valueAt = i + 1 + keyLength + 2
            guard valueAt + valueLength <= end else { throw error(at: i + 1 + keyLength, .truncated("key/value entry value")) }
            attributes.append(keyAt: i + 1, keyLength: keyLength, valueAt: valueAt, valueLength: valueLength)
            i = valueAt + valueLength
        }

        var status: ResponseStatus?
        var type = kind.messageType
        if kind == .heartbeatReply {
            status = ResponseStatus(category: .success, code: 0)
        } else if kind == .response {
            let raw = frame.getInteger(at: LivePacketWire.statusOffset, as: UInt16.self)!
            guard let code = LivePacketWire.Status(rawValue: raw) else { throw error(at: LivePacketWire.statusOffset, .invalidValue("status \(raw)")) }
            status = ResponseStatus(category: code.category, code: Int32(raw))
            if code != .ok { type = .error }
        }
        return Message(
            type: type,
            requestID: frame.getInteger(at: LivePacketWire.requestIDOffset, as: UInt64.self)!,
            headerSize: LivePacketWire.headerSize + keyValueLength,
            bodySize: frame.readableBytes - LivePacketWire.headerSize - keyValueLength,
            attributes: attributes,
            status: status,
            frame: frame,
            layout: FrameLayout(mutableSection: LivePacketWire.headerSize..<end))
    }

    // MARK: encode

    public func encode(_ message: Message, mutation: Mutation) throws(CodecError) -> EncodedFrame {
        var scratch = ScratchSpace.none
        return try encode(message, mutation: mutation, scratch: &scratch)
    }

    public func encode(_ message: Message, mutation: Mutation, scratch: inout ScratchSpace) throws(CodecError) -> EncodedFrame {
        let frame = message.frame
        let idAt = frame.readerIndex + LivePacketWire.requestIDOffset
        guard frame.readableBytes >= LivePacketWire.headerSize, let frameID = frame.getInteger(at: idAt, as: UInt64.self) else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .truncated("header of the frame to encode"))
        }
        guard !mutation.isEmpty else {
            guard message.requestID != frameID else { return EncodedFrame(rest: frame) }  // the bytes that arrived
            // A new header; key/values and payload stay the received bytes.
            let head = scratch.write(capacity: LivePacketWire.headerSize) { head in
                head.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex, length: LivePacketWire.headerSize)!)
                head.setInteger(message.requestID, at: head.readerIndex + LivePacketWire.requestIDOffset)
            }
            return EncodedFrame(head: head, rest: frame.getSlice(at: frame.readerIndex + LivePacketWire.headerSize, length: frame.readableBytes - LivePacketWire.headerSize)!)
        }
        guard message.cutThrough == nil else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .unsupported("mutation of a frame forwarded as it arrives"))
        }
        guard let section = message.layout.mutableSection, section.lowerBound == LivePacketWire.headerSize,
            section.upperBound <= frame.readableBytes
        else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .invalidValue("frame layout: not a frame this codec decoded"))
        }
        // A new header and key/value block; the payload after them stays the received bytes.
        let payload = frame.getSlice(at: frame.readerIndex + section.upperBound, length: frame.readableBytes - section.upperBound)!
        let head = try scratch.write(capacity: section.upperBound + mutation.count * 32) { (out: inout ByteBuffer) throws(CodecError) in
            out.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex, length: LivePacketWire.headerSize)!)
            try writeKeyValues(of: message, section: section, applying: mutation, into: &out)
            let keyValueLength = out.readableBytes - LivePacketWire.headerSize
            guard keyValueLength <= Int(UInt16.max) else {
                throw CodecError(protocolName: Self.protocolName, offset: LivePacketWire.keyValueLengthOffset, reason: .invalidValue("key/value block of \(keyValueLength) bytes after mutation (max 65535)"))
            }
            let length = out.readableBytes + payload.readableBytes
            guard length <= maxFrameSize else {
                throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .frameTooLarge(size: length, limit: maxFrameSize))
            }
            out.setInteger(UInt32(length), at: out.readerIndex + LivePacketWire.lengthOffset)
            out.setInteger(UInt16(keyValueLength), at: out.readerIndex + LivePacketWire.keyValueLengthOffset)
            out.setInteger(message.requestID, at: out.readerIndex + LivePacketWire.requestIDOffset)
        }
        return EncodedFrame(head: head, rest: payload)
    }

    /// Existing entries in order (each replaced by the mutation's value when it has the key),
    /// then the mutation's new keys.
    private func writeKeyValues(of message: Message, section: Range<Int>, applying mutation: Mutation, into out: inout ByteBuffer) throws(CodecError) {
        var written = [Bool](repeating: false, count: mutation.count)
        let frame = message.frame
        var i = section.lowerBound
        while i < section.upperBound {
            let keyLength = Int(frame.getInteger(at: frame.readerIndex + i, as: UInt8.self)!)
            let key = frame.getSlice(at: frame.readerIndex + i + 1, length: keyLength)!
            let valueLength = Int(frame.getInteger(at: frame.readerIndex + i + 1 + keyLength, as: UInt16.self)!)
            let entryLength = 1 + keyLength + 2 + valueLength
            if let m = mutation.entries.firstIndex(where: { $0.key.utf8.elementsEqual(key.readableBytesView) }) {
                if !written[m] {
                    written[m] = true
                    try Self.writeEntry(mutation.entries[m].key, mutation.entries[m].value, into: &out)
                }
            } else {
                out.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex + i, length: entryLength)!)
            }
            i += entryLength
        }
        for (m, entry) in mutation.entries.enumerated() where !written[m] {
            try Self.writeEntry(entry.key, entry.value, into: &out)
        }
    }

    static func writeEntry(_ key: String, _ value: String, into out: inout ByteBuffer) throws(CodecError) {
        guard (1...255).contains(key.utf8.count), value.utf8.count <= Int(UInt16.max) else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .invalidValue("mutation entry '\(key)': keys take 1-255 bytes, values up to 65535"))
        }
        out.writeInteger(UInt8(key.utf8.count))
        out.writeString(key)
        out.writeInteger(UInt16(value.utf8.count))
        out.writeString(value)
    }

    // MARK: replies

    public func encodeLocalReply(_ error: LocalReplyError, to request: Message) throws(CodecError) -> ByteBuffer {
        // The whole block must fit its u16 length: 1 + 5 ("error") + 2 bytes of entry header.
        let detail = Self.prefix(error.description, maxUTF8: Int(UInt16.max) - 8)
        var out = ByteBufferAllocator().buffer(capacity: LivePacketWire.headerSize + 8 + detail.utf8.count)
        writeHeader(kind: .response, request: request, status: LivePacketWire.Status(error.kind), into: &out)
        try Self.writeEntry("error", detail, into: &out)
        finishHeader(&out)
        return out
    }

    public func encodeHeartbeatReply(to heartbeat: Message) throws(CodecError) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: LivePacketWire.headerSize)
        writeHeader(kind: .heartbeatReply, request: heartbeat, status: .ok, into: &out)
        finishHeader(&out)
        return out
    }

    /// Writes a header copying the request's id, cmd and sub_cmd; lengths are patched by
    /// ``finishHeader(_:)`` once the key/value block is written.
    private func writeHeader(kind: LivePacketWire.Kind, request: Message, status: LivePacketWire.Status, into out: inout ByteBuffer) {
        let frame = request.frame
        out.writeInteger(LivePacketWire.magic)
        out.writeInteger(LivePacketWire.version)
        out.writeInteger(kind.rawValue)
        out.writeInteger(UInt32(0))
        out.writeInteger(request.requestID)
        out.writeInteger(frame.getInteger(at: frame.readerIndex + LivePacketWire.cmdOffset, as: UInt16.self) ?? 0)
        out.writeInteger(frame.getInteger(at: frame.readerIndex + LivePacketWire.subCmdOffset, as: UInt16.self) ?? 0)
        out.writeInteger(status.rawValue)
        out.writeInteger(UInt16(0))
    }

    /// A reply has no payload: everything after the header is the key/value block.
    private func finishHeader(_ out: inout ByteBuffer) {
        out.setInteger(UInt32(out.readableBytes), at: out.readerIndex + LivePacketWire.lengthOffset)
        out.setInteger(UInt16(out.readableBytes - LivePacketWire.headerSize), at: out.readerIndex + LivePacketWire.keyValueLengthOffset)
    }

    /// The longest prefix of `s` of at most `maxUTF8` bytes that ends on a character boundary.
    static func prefix(_ s: String, maxUTF8: Int) -> String {
        let utf8 = s.utf8
        guard utf8.count > maxUTF8 else { return s }
        var end = utf8.index(utf8.startIndex, offsetBy: maxUTF8)
        while end > utf8.startIndex, utf8[end] & 0xc0 == 0x80 { end = utf8.index(before: end) }  // continuation byte
        return String(decoding: utf8[..<end], as: UTF8.self)
    }

    private func error(at frameOffset: Int, _ reason: CodecError.Reason) -> CodecError {
        CodecError(protocolName: Self.protocolName, offset: streamOffset + frameOffset, reason: reason)
    }
}
