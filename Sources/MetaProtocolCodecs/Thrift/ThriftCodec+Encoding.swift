import MetaProtocol
import NIOCore

extension ThriftCodec {
    public func encode(_ message: Message, mutation: Mutation) throws(CodecError) -> EncodedFrame {
        var scratch = ScratchSpace.none
        return try encode(message, mutation: mutation, scratch: &scratch)
    }

    public func encode(_ message: Message, mutation: Mutation, scratch: inout ScratchSpace) throws(CodecError) -> EncodedFrame {
        guard mutation.isEmpty else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .unsupported("mutation: Thrift messages have no key/value section"))
        }
        let framing = ThriftFraming(variant: message.layout.variant)
        let header = try frameHeader(message.frame, framing: framing)
        guard message.requestID != UInt64(UInt32(bitPattern: header.seqID)) else { return EncodedFrame(rest: message.frame) }
        guard let newID = UInt32(exactly: message.requestID) else {
            throw CodecError(protocolName: Self.protocolName, offset: header.seqIDStart, reason: .invalidValue("request id \(message.requestID) does not fit a 32-bit seq id"))
        }
        // A new header up to the seq id (compact seq ids are varints, so its length may change);
        // the body stays the received bytes.
        let frame = message.frame
        let restStart = header.seqIDStart + header.seqIDLength
        let rest = frame.getSlice(at: frame.readerIndex + restStart, length: frame.readableBytes - restStart)!
        let head = scratch.write(capacity: header.seqIDStart + 5) { head in
            head.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex, length: header.seqIDStart)!)
            if framing.compact {
                ThriftWriter.writeVarint(UInt64(newID), into: &head)
            } else {
                head.writeInteger(newID)
            }
            // The frame size counts the bytes still to come of a frame forwarded as it arrives.
            let pending = message.cutThrough?.pendingBytes ?? 0
            if framing.framed { head.setInteger(UInt32(head.readableBytes + rest.readableBytes + pending - 4), at: head.readerIndex) }
        }
        return EncodedFrame(head: head, rest: rest)
    }

    /// A `TApplicationException` reply with the request's method name and seq id, in the
    /// request's transport and protocol.
    public func encodeLocalReply(_ error: LocalReplyError, to request: Message) throws(CodecError) -> ByteBuffer {
        let framing = ThriftFraming(variant: request.layout.variant)
        let methodName = request.attributes[AttributeKey.method]?.string ?? ""
        var writer = ThriftWriter(compact: framing.compact, framed: framing.framed)
        writer.writeMessageBegin(name: methodName, kind: .exception, seqID: Int32(bitPattern: UInt32(truncatingIfNeeded: request.requestID)))
        writer.writeStringField(id: 1, error.description)
        writer.writeI32Field(id: 2, ThriftWire.applicationExceptionType(for: error.kind))
        writer.writeStop()
        return writer.finish()
    }

    private func frameHeader(_ frame: ByteBuffer, framing: ThriftFraming) throws(CodecError) -> ThriftReader.Header {
        let result: Result<ThriftReader.Header, ReadError> = frame.withUnsafeReadableBytes { raw in
            var reader = ThriftReader(bytes: raw, from: framing.framed ? 4 : 0, to: raw.count, compact: framing.compact)
            do throws(ReadError) { return .success(try reader.readHeader()) } catch { return .failure(error) }
        }
        switch result {
        case .success(let h): return h
        case .failure: throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .invalidValue("message header of the frame to encode"))
        }
    }
}

/// Writes the few Thrift values the proxy produces itself (exception replies, synthetic calls
/// and answers), in either protocol, with or without the frame size prefix.
struct ThriftWriter {
    let compact: Bool
    let framed: Bool
    var out: ByteBuffer
    private var lastFieldID: Int16 = 0
    /// The compact protocol numbers fields relative to the previous one in the same struct.
    private var enclosingFieldIDs: [Int16] = []

    init(compact: Bool, framed: Bool, capacity: Int = 128) {
        self.compact = compact
        self.framed = framed
        out = ByteBufferAllocator().buffer(capacity: capacity)
        if framed { out.writeInteger(UInt32(0)) }  // patched by finish()
    }

    mutating func writeMessageBegin(name: String, kind: ThriftWire.MessageKind, seqID: Int32) {
        if compact {
            out.writeInteger(ThriftWire.compactProtocolID)
            out.writeInteger(ThriftWire.compactVersion | kind.rawValue << ThriftWire.compactTypeShift)
            Self.writeVarint(UInt64(UInt32(bitPattern: seqID)), into: &out)
            Self.writeVarint(UInt64(name.utf8.count), into: &out)
            out.writeString(name)
        } else {
            out.writeInteger(ThriftWire.binaryVersion1 | UInt32(kind.rawValue))
            out.writeInteger(Int32(name.utf8.count))
            out.writeString(name)
            out.writeInteger(seqID)
        }
    }

    mutating func writeStringField(id: Int16, _ value: String) {
        writeFieldHeader(id: id, binaryType: ThriftWire.BinaryType.string, compactType: ThriftWire.CompactType.binary)
        if compact { Self.writeVarint(UInt64(value.utf8.count), into: &out) } else { out.writeInteger(Int32(value.utf8.count)) }
        out.writeString(value)
    }

    mutating func writeI32Field(id: Int16, _ value: Int32) {
        writeFieldHeader(id: id, binaryType: ThriftWire.BinaryType.i32, compactType: ThriftWire.CompactType.i32)
        if compact {
            Self.writeVarint(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))), into: &out)
        } else {
            out.writeInteger(value)
        }
    }

    /// A binary field of `count` filler bytes (a synthetic payload).
    mutating func writeBinaryField(id: Int16, count: Int) {
        writeFieldHeader(id: id, binaryType: ThriftWire.BinaryType.string, compactType: ThriftWire.CompactType.binary)
        if compact { Self.writeVarint(UInt64(count), into: &out) } else { out.writeInteger(Int32(count)) }
        out.writeRepeatingByte(UInt8(ascii: "x"), count: count)
    }

    /// Opens a struct-valued field; its fields follow, then ``endStruct()``.
    mutating func beginStructField(id: Int16) {
        writeFieldHeader(id: id, binaryType: ThriftWire.BinaryType.structure, compactType: ThriftWire.CompactType.structure)
        enclosingFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    /// Closes the struct opened by ``beginStructField(id:)``.
    mutating func endStruct() {
        writeStop()
        lastFieldID = enclosingFieldIDs.removeLast()
    }

    mutating func writeStop() { out.writeInteger(UInt8(0)) }

    private mutating func writeFieldHeader(id: Int16, binaryType: UInt8, compactType: UInt8) {
        if compact {
            let delta = id - lastFieldID
            if delta > 0 && delta <= 15 {
                out.writeInteger(UInt8(delta) << 4 | compactType)
            } else {
                out.writeInteger(compactType)
                Self.writeVarint(UInt64(UInt16(bitPattern: (id << 1) ^ (id >> 15))), into: &out)
            }
            lastFieldID = id
        } else {
            out.writeInteger(binaryType)
            out.writeInteger(id)
        }
    }

    /// The finished message, with its frame size filled in on the framed transport.
    mutating func finish() -> ByteBuffer {
        if framed { out.setInteger(UInt32(out.readableBytes - 4), at: out.readerIndex) }
        return out
    }

    static func writeVarint(_ value: UInt64, into out: inout ByteBuffer) {
        var v = value
        while v >= 0x80 {
            out.writeInteger(UInt8(v & 0x7f | 0x80))
            v >>= 7
        }
        out.writeInteger(UInt8(v))
    }
}
