import MetaProtocol
import NIOCore

/// Dubbo 2.x frames as a Java consumer and provider write them (Hessian 2): a call to
/// `interface.method(byte[])` whose one argument is the payload, with the other attributes as
/// attachments; answers in the type of the call's argument (its echo, or a payload of a size),
/// an exception, or an error status.
public struct DubboSynthesizer: FrameSynthesizer {
    public static let protocolName = DubboCodec.protocolName
    /// Service and method used when the attributes name none.
    public var defaultInterface: String
    public var defaultMethod: String

    public init(defaultInterface: String = "org.mplab.Synthetic", defaultMethod: String = "call") {
        self.defaultInterface = defaultInterface
        self.defaultMethod = defaultMethod
    }

    public func request(id: UInt64, attributes: [KeyValue], payloadSize: Int, oneway: Bool) throws(CodecError) -> ByteBuffer {
        let interface = attributes.first { $0.key == AttributeKey.interface }?.value ?? defaultInterface
        let method = attributes.first { $0.key == AttributeKey.method }?.value ?? defaultMethod
        let version = attributes.first { $0.key == AttributeKey.version }?.value ?? "0.0.0"
        var out = ByteBufferAllocator().buffer(capacity: DubboWire.headerSize + 160 + payloadSize + attributes.count * 32)
        Self.writeHeader(flags: DubboWire.flagRequest | (oneway ? 0 : DubboWire.flagTwoWay) | DubboWire.hessian2, status: 0, id: id, into: &out)
        for s in ["2.0.2", interface, version, method, "[B"] { Hessian2Writer.writeString(s, into: &out) }
        Hessian2Writer.writeBinary(count: payloadSize, into: &out)
        // Attachments as a Java consumer sends them: path, interface and version first.
        Hessian2Writer.writeUntypedMapStart(into: &out)
        var entries = [("path", interface), (AttributeKey.interface, interface), (AttributeKey.version, version)]
        entries += attributes.filter { ![AttributeKey.interface, AttributeKey.method, AttributeKey.version].contains($0.key) }.map { ($0.key, $0.value) }
        for (k, v) in entries {
            Hessian2Writer.writeString(k, into: &out)
            Hessian2Writer.writeString(v, into: &out)
        }
        Hessian2Writer.writeEnd(into: &out)
        try Self.finish(&out)
        return out
    }

    /// Answers as a provider of the called method would: an echo returns the call's first
    /// argument as it came (a `String` for a `String`, `byte[]` for `byte[]`, null for a method
    /// without arguments); a sized payload is a `String` of that many characters when the first
    /// parameter is declared a `String`, else `byte[]` of that many bytes.
    public func response(to request: Message, status: ResponseStatus, payload: ResponsePayload) throws(CodecError) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: DubboWire.headerSize + 64 + (status.isSuccess ? request.frame.readableBytes : 0))
        switch status.category {
        case .success:
            Self.writeHeader(flags: DubboWire.hessian2, status: DubboWire.Status.ok, id: request.requestID, into: &out)
            let argument = Self.firstArgument(of: request)
            switch payload {
            case .echo:
                if let range = argument?.range {
                    Hessian2Writer.writeInt(Int32(DubboWire.ResponseType.value.rawValue), into: &out)
                    let frame = request.frame
                    out.writeImmutableBuffer(frame.getSlice(at: frame.readerIndex + range.lowerBound, length: range.count)!)
                } else {
                    Hessian2Writer.writeInt(Int32(DubboWire.ResponseType.nullValue.rawValue), into: &out)
                }
            case .bytes(let count):
                Hessian2Writer.writeInt(Int32(DubboWire.ResponseType.value.rawValue), into: &out)
                if argument?.isString == true {
                    Hessian2Writer.writeString(String(repeating: "x", count: count), into: &out)
                } else {
                    Hessian2Writer.writeBinary(count: count, into: &out)
                }
            }
        case .applicationError:
            // The provider's method threw: status OK, a Throwable as the result.
            Self.writeHeader(flags: DubboWire.hessian2, status: DubboWire.Status.ok, id: request.requestID, into: &out)
            Hessian2Writer.writeInt(Int32(DubboWire.ResponseType.exception.rawValue), into: &out)
            Hessian2Writer.writeObject(className: "java.lang.RuntimeException", fields: [("detailMessage", "synthetic application error")], into: &out)
        case .serverError, .unavailable:
            // An error status and its message; a given code is kept when Dubbo reads it the same way.
            let fallback = status.category == .serverError ? DubboWire.Status.serverError : DubboWire.Status.threadpoolExhausted
            let given = UInt8(exactly: status.code).flatMap { DubboWire.category(ofStatus: $0) == status.category ? $0 : nil }
            Self.writeHeader(flags: DubboWire.hessian2, status: given ?? fallback, id: request.requestID, into: &out)
            Hessian2Writer.writeString("synthetic \(status.category) (\(status.code))", into: &out)
        }
        try Self.finish(&out)
        return out
    }

    /// Where the call's first argument lies in its frame, and whether it is declared a `String`.
    static func firstArgument(of request: Message) -> (range: Range<Int>?, isString: Bool)? {
        let frame = request.frame
        guard frame.readableBytes > DubboWire.headerSize else { return nil }
        return frame.withUnsafeReadableBytes { bytes in
            var reader = Hessian2Reader(bytes: bytes, from: DubboWire.headerSize, to: bytes.count)
            guard let preamble = try? DubboCodec.readRequestPreamble(&reader) else { return nil }
            return (preamble.firstArgument, preamble.firstArgumentIsString)
        }
    }

    private static func writeHeader(flags: UInt8, status: UInt8, id: UInt64, into out: inout ByteBuffer) {
        out.writeInteger(DubboWire.magic)
        out.writeInteger(flags)
        out.writeInteger(status)
        out.writeInteger(id)
        out.writeInteger(Int32(0))
    }

    private static func finish(_ out: inout ByteBuffer) throws(CodecError) {
        let body = out.readableBytes - DubboWire.headerSize
        guard body <= DubboWire.defaultMaxBodySize else {
            throw CodecError(protocolName: protocolName, offset: 0, reason: .frameTooLarge(size: body, limit: DubboWire.defaultMaxBodySize))
        }
        out.setInteger(Int32(body), at: out.readerIndex + DubboWire.bodyLengthOffset)
    }
}
