import MetaProtocol
import NIOCore

/// LivePacket frames: a call to `cmd`/`sub_cmd` (from those attributes, or from a `method` of
/// the form `cmd.sub_cmd`) with the other attributes as key/value entries and the payload after
/// them; answers echo the call's cmd and sub_cmd with a status and, on success, the payload.
public struct LivePacketSynthesizer: FrameSynthesizer {
    public static let protocolName = LivePacketCodec.protocolName

    public init() {}

    public func request(id: UInt64, attributes: [KeyValue], payloadSize: Int, oneway: Bool) throws(CodecError) -> ByteBuffer {
        var cmd = attributes.first { $0.key == LivePacketWire.Attribute.cmd }?.value
        var subCmd = attributes.first { $0.key == LivePacketWire.Attribute.subCmd }?.value
        if cmd == nil, let method = attributes.first(where: { $0.key == AttributeKey.method })?.value {
            let parts = method.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2 { (cmd, subCmd) = (String(parts[0]), String(parts[1])) }
        }
        guard let cmdValue = UInt16(cmd ?? "0"), let subCmdValue = UInt16(subCmd ?? "0") else {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .invalidValue("cmd and sub_cmd must be numbers 0-65535, got '\(cmd ?? "")' and '\(subCmd ?? "")'"))
        }
        var out = ByteBufferAllocator().buffer(capacity: LivePacketWire.headerSize + 64 + attributes.count * 32 + payloadSize)
        Self.writeHeader(kind: oneway ? .oneway : .request, id: id, cmd: cmdValue, subCmd: subCmdValue, status: .ok, into: &out)
        let carried: Set<String> = [LivePacketWire.Attribute.cmd, LivePacketWire.Attribute.subCmd, AttributeKey.method]
        for kv in attributes where !carried.contains(kv.key) { try LivePacketCodec.writeEntry(kv.key, kv.value, into: &out) }
        return try Self.finish(&out, payloadSize: payloadSize)
    }

    public func response(to request: Message, status: ResponseStatus, payload: ResponsePayload) throws(CodecError) -> ByteBuffer {
        // An echo answers with as many bytes as the call's body (the protocol does not type them).
        let payloadSize = switch payload {
        case .echo: request.bodySize
        case .bytes(let n): n
        }
        let frame = request.frame
        let cmd = frame.getInteger(at: frame.readerIndex + LivePacketWire.cmdOffset, as: UInt16.self) ?? 0
        let subCmd = frame.getInteger(at: frame.readerIndex + LivePacketWire.subCmdOffset, as: UInt16.self) ?? 0
        let code: LivePacketWire.Status
        switch status.category {
        case .success: code = .ok
        case .applicationError: code = .applicationError
        case .serverError: code = .serverError
        case .unavailable:
            // A given code is kept when LivePacket reads it as unavailable too.
            code = UInt16(exactly: status.code).flatMap(LivePacketWire.Status.init(rawValue:)).flatMap { $0.category == .unavailable ? $0 : nil } ?? .unavailable
        }
        var out = ByteBufferAllocator().buffer(capacity: LivePacketWire.headerSize + 32 + payloadSize)
        Self.writeHeader(kind: .response, id: request.requestID, cmd: cmd, subCmd: subCmd, status: code, into: &out)
        if code != .ok { try LivePacketCodec.writeEntry("error", "synthetic \(status.category)", into: &out) }
        return try Self.finish(&out, payloadSize: code == .ok ? payloadSize : 0)
    }

    private static func writeHeader(kind: LivePacketWire.Kind, id: UInt64, cmd: UInt16, subCmd: UInt16, status: LivePacketWire.Status, into out: inout ByteBuffer) {
        out.writeInteger(LivePacketWire.magic)
        out.writeInteger(LivePacketWire.version)
        out.writeInteger(kind.rawValue)
        out.writeInteger(UInt32(0))
        out.writeInteger(id)
        out.writeInteger(cmd)
        out.writeInteger(subCmd)
        out.writeInteger(status.rawValue)
        out.writeInteger(UInt16(0))
    }

    /// Patches the key/value block length (everything written after the header so far), then
    /// appends the payload and patches the frame length.
    private static func finish(_ out: inout ByteBuffer, payloadSize: Int) throws(CodecError) -> ByteBuffer {
        let block = out.readableBytes - LivePacketWire.headerSize
        guard block <= Int(UInt16.max) else {
            throw CodecError(protocolName: protocolName, offset: 0, reason: .invalidValue("key/value block of \(block) bytes; at most 65535"))
        }
        let total = out.readableBytes + payloadSize
        guard total <= LivePacketWire.defaultMaxFrameSize else {
            throw CodecError(protocolName: protocolName, offset: 0, reason: .frameTooLarge(size: total, limit: LivePacketWire.defaultMaxFrameSize))
        }
        out.setInteger(UInt16(block), at: out.readerIndex + LivePacketWire.keyValueLengthOffset)
        out.writeRepeatingByte(UInt8(ascii: "x"), count: payloadSize)
        out.setInteger(UInt32(total), at: out.readerIndex + LivePacketWire.lengthOffset)
        return out
    }
}
