import MetaProtocol
import NIOCore

extension DubboCodec {
    public func encode(_ message: Message, mutation: Mutation) throws(CodecError) -> EncodedFrame {
        var scratch = ScratchSpace.none
        return try encode(message, mutation: mutation, scratch: &scratch)
    }

    public func encode(_ message: Message, mutation: Mutation, scratch: inout ScratchSpace) throws(CodecError) -> EncodedFrame {
        let frame = message.frame
        let frameID = frame.getInteger(at: frame.readerIndex + DubboWire.requestIDOffset, as: UInt64.self)
        guard frame.readableBytes >= DubboWire.headerSize, let frameID else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .truncated("header"))
        }
        // Frames with nowhere to put key/values (heartbeats, error statuses) go out unmutated.
        guard !mutation.isEmpty, let section = message.layout.mutableSection, section.upperBound <= frame.readableBytes else {
            guard message.requestID != frameID else { return EncodedFrame(rest: frame) }
            // A new header; the body stays the received bytes.
            let head = scratch.write(capacity: DubboWire.headerSize) { head in
                head.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex, length: DubboWire.headerSize)!)
                head.setInteger(message.requestID, at: head.readerIndex + DubboWire.requestIDOffset)
            }
            return EncodedFrame(head: head, rest: frame.getSlice(at: frame.readerIndex + DubboWire.headerSize, length: frame.readableBytes - DubboWire.headerSize)!)
        }

        // A new header (and response type), the body up to the attachments as received, then
        // the new attachments: the arguments are never copied.
        var responseType = DubboWire.ResponseType(rawValue: message.layout.variant)
        var middleStart = DubboWire.headerSize
        if let type = responseType, !type.hasAttachments {
            // "value" becomes "value with attachments" (the type is a Hessian int of 1 to 5 bytes).
            responseType = type.withAttachments
            middleStart += try responseTypeLength(frame)
        }
        let middle = frame.getSlice(at: frame.readerIndex + middleStart, length: section.lowerBound - middleStart)!
        let isRequest = responseType == nil
        let tail = try scratch.write(capacity: 64 + mutation.count * 32 + frame.readableBytes - section.upperBound) { (out: inout ByteBuffer) throws(CodecError) in
            try writeAttachments(from: frame, isRequest: isRequest, section: section, applying: mutation, into: &out)
            out.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex + section.upperBound, length: frame.readableBytes - section.upperBound)!)
        }
        let typeLength = middleStart == DubboWire.headerSize ? 0 : Hessian2Writer.intLength(Int32(responseType!.rawValue))
        let bodyLength = typeLength + middle.readableBytes + tail.readableBytes
        guard bodyLength <= maxBodySize else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .frameTooLarge(size: bodyLength, limit: maxBodySize))
        }
        let head = scratch.write(capacity: DubboWire.headerSize + 5) { head in
            head.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex, length: DubboWire.headerSize)!)
            if typeLength > 0 { Hessian2Writer.writeInt(Int32(responseType!.rawValue), into: &head) }
            head.setInteger(Int32(bodyLength), at: head.readerIndex + DubboWire.bodyLengthOffset)
            head.setInteger(message.requestID, at: head.readerIndex + DubboWire.requestIDOffset)
        }
        return EncodedFrame(head: head, rest: middle, tail: tail)
    }

    /// Writes the attachments map: existing entries in their order, each replaced by the
    /// mutation's value when it has the key (other entries copied byte for byte), then the
    /// mutation's new keys in the mutation's order.
    ///
    /// The body is read again from its start so that attachment values may refer to classes the
    /// arguments defined (Hessian class definitions are numbered per body).
    private func writeAttachments(from frame: ByteBuffer, isRequest: Bool, section: Range<Int>, applying mutation: Mutation, into out: inout ByteBuffer) throws(CodecError) {
        var written = [Bool](repeating: false, count: mutation.count)
        Hessian2Writer.writeUntypedMapStart(into: &out)
        if !section.isEmpty {
            let result: Result<Void, ReadError> = frame.withUnsafeReadableBytes { bytes in
                var reader = Hessian2Reader(bytes: bytes, from: DubboWire.headerSize, to: section.upperBound)
                do throws(ReadError) {
                    if isRequest {
                        _ = try DubboCodec.readRequestPreamble(&reader)
                    } else {
                        _ = try DubboCodec.readResponsePreamble(&reader)
                    }
                    guard reader.index == section.lowerBound else { throw ReadError.invalid("frame layout", at: reader.index) }
                    guard try reader.readMapStart() else { return .success(()) }
                    while try !reader.readMapEnd() {
                        let entryStart = reader.index
                        var replaced = false
                        if try reader.nextIsString(), case let key = try reader.readString(), let i = mutationIndex(of: key, bytes: bytes, in: mutation) {
                            try reader.skipValue()
                            if !written[i] {
                                written[i] = true
                                Hessian2Writer.writeString(mutation.entries[i].key, into: &out)
                                Hessian2Writer.writeString(mutation.entries[i].value, into: &out)
                            }
                            replaced = true
                        } else {
                            if reader.index == entryStart { try reader.skipValue() }
                            try reader.skipValue()
                        }
                        if !replaced {
                            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[entryStart..<reader.index]))
                        }
                    }
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            if case .failure = result {
                throw CodecError(protocolName: Self.protocolName, offset: section.lowerBound, reason: .invalidValue("attachments map"))
            }
        }
        for (i, entry) in mutation.entries.enumerated() where !written[i] {
            Hessian2Writer.writeString(entry.key, into: &out)
            Hessian2Writer.writeString(entry.value, into: &out)
        }
        Hessian2Writer.writeEnd(into: &out)
    }

    /// Bytes of the response type int at the start of an OK response body.
    private func responseTypeLength(_ frame: ByteBuffer) throws(CodecError) -> Int {
        let result: Result<Int, ReadError> = frame.withUnsafeReadableBytes { bytes in
            var reader = Hessian2Reader(bytes: bytes, from: DubboWire.headerSize, to: bytes.count)
            do throws(ReadError) {
                _ = try reader.readInt()
                return .success(reader.index - DubboWire.headerSize)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let n): return n
        case .failure: throw CodecError(protocolName: Self.protocolName, offset: DubboWire.headerSize, reason: .invalidValue("response type"))
        }
    }

    private func mutationIndex(of key: Hessian2Reader.StringValue, bytes: UnsafeRawBufferPointer, in mutation: Mutation) -> Int? {
        switch key {
        case .null:
            return nil
        case .string(let s):
            return mutation.entries.firstIndex { $0.key == s }
        case .range(let start, let length):
            let keyBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
            return mutation.entries.firstIndex { $0.key.utf8.elementsEqual(keyBytes) }
        }
    }

    public func encodeLocalReply(_ error: LocalReplyError, to request: Message) throws(CodecError) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: 64 + error.message.utf8.count)
        writeHeader(flags: DubboWire.hessian2, status: DubboWire.status(for: error.kind), requestID: request.requestID, into: &out)
        Hessian2Writer.writeString(error.description, into: &out)
        out.setInteger(Int32(out.readableBytes - DubboWire.headerSize), at: out.readerIndex + DubboWire.bodyLengthOffset)
        return out
    }

    public func encodeHeartbeatReply(to heartbeat: Message) throws(CodecError) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: DubboWire.headerSize + 1)
        writeHeader(flags: DubboWire.flagEvent | DubboWire.hessian2, status: DubboWire.Status.ok, requestID: heartbeat.requestID, into: &out)
        Hessian2Writer.writeNull(into: &out)
        out.setInteger(Int32(1), at: out.readerIndex + DubboWire.bodyLengthOffset)
        return out
    }

    /// The READONLY event a Dubbo provider sends every consumer connection as it shuts down: a
    /// one-way event request whose body is the string "R". A consumer marks the provider
    /// read-only and sends its new calls elsewhere, while calls in flight are still answered.
    public func encodeDrainNotice() -> ByteBuffer? {
        var out = ByteBufferAllocator().buffer(capacity: DubboWire.headerSize + 2)
        writeHeader(flags: DubboWire.flagRequest | DubboWire.flagEvent | DubboWire.hessian2, status: 0, requestID: 0, into: &out)
        let start = out.writerIndex
        Hessian2Writer.writeString(DubboWire.readOnlyEvent, into: &out)
        out.setInteger(Int32(out.writerIndex - start), at: out.readerIndex + DubboWire.bodyLengthOffset)
        return out
    }

    /// Writes a header with a zero body length, to be patched once the body is written.
    private func writeHeader(flags: UInt8, status: UInt8, requestID: UInt64, into out: inout ByteBuffer) {
        out.writeInteger(DubboWire.magic)
        out.writeInteger(flags)
        out.writeInteger(status)
        out.writeInteger(requestID)
        out.writeInteger(Int32(0))
    }
}
