import MetaProtocol
import NIOCore

/// Apache Thrift messages as generated clients and servers write them, for a service method
/// `binary method(1: binary payload)`: the call's name is `service:method` (the multiplexed
/// protocol's form) when an `interface` attribute names a service, else the method; answers
/// carry the payload as the result (field 0), a declared exception (field 1), or a
/// `TApplicationException`. Thrift has no headers: attributes other than the service and method
/// are not carried.
public struct ThriftSynthesizer: FrameSynthesizer {
    public static let protocolName = ThriftCodec.protocolName
    public var framing: ThriftFraming
    public var defaultMethod: String

    public init(framing: ThriftFraming = ThriftFraming(framed: true, compact: false), defaultMethod: String = "call") {
        self.framing = framing
        self.defaultMethod = defaultMethod
    }

    public func request(id: UInt64, attributes: [KeyValue], payloadSize: Int, oneway: Bool) throws(CodecError) -> ByteBuffer {
        let method = attributes.first { $0.key == AttributeKey.method }?.value ?? defaultMethod
        let name = attributes.first { $0.key == AttributeKey.interface }.map { "\($0.value):\(method)" } ?? method
        var writer = ThriftWriter(compact: framing.compact, framed: framing.framed, capacity: 64 + name.utf8.count + payloadSize)
        writer.writeMessageBegin(name: name, kind: oneway ? .oneway : .call, seqID: Self.seqID(id))
        writer.writeBinaryField(id: 1, count: payloadSize)
        writer.writeStop()
        return try finish(&writer)
    }

    public func response(to request: Message, status: ResponseStatus, payload: ResponsePayload) throws(CodecError) -> ByteBuffer {
        // An echo answers with as many bytes as the call's body (the protocol does not type them).
        let payloadSize = switch payload {
        case .echo: request.bodySize
        case .bytes(let n): n
        }
        let method = request.attributes[AttributeKey.method]?.string ?? defaultMethod
        // A server answers in its client's transport and protocol: those of the call, when the
        // codec read it from a frame.
        let framing = request.frame.readableBytes > 0 ? ThriftFraming(variant: request.layout.variant) : self.framing
        var writer = ThriftWriter(compact: framing.compact, framed: framing.framed, capacity: 64 + method.utf8.count + payloadSize)
        let seqID = Self.seqID(request.requestID)
        switch status.category {
        case .success:
            writer.writeMessageBegin(name: method, kind: .reply, seqID: seqID)
            writer.writeBinaryField(id: 0, count: payloadSize)
            writer.writeStop()
        case .applicationError:
            // The method's declared exception, as its result struct's field 1.
            writer.writeMessageBegin(name: method, kind: .reply, seqID: seqID)
            writer.beginStructField(id: 1)
            writer.writeStringField(id: 1, "synthetic application error")
            writer.endStruct()
            writer.writeStop()
        case .serverError, .unavailable:
            // Thrift has one server-side failure: TApplicationException INTERNAL_ERROR (a given
            // non-zero code is kept when it is an exception type read as a server error).
            let given = status.code > 0 && ThriftWire.category(ofApplicationException: status.code) == .serverError ? status.code : nil
            writer.writeMessageBegin(name: method, kind: .exception, seqID: seqID)
            writer.writeStringField(id: 1, "synthetic \(status.category)")
            writer.writeI32Field(id: 2, given ?? ThriftWire.ApplicationExceptionType.internalError)
            writer.writeStop()
        }
        return try finish(&writer, framing: framing)
    }

    /// Thrift sequence ids are 32 bits: the low half of the id.
    private static func seqID(_ id: UInt64) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: id)) }

    private func finish(_ writer: inout ThriftWriter, framing: ThriftFraming? = nil) throws(CodecError) -> ByteBuffer {
        let frame = writer.finish()
        if (framing ?? self.framing).framed, frame.readableBytes - 4 > ThriftWire.defaultMaxFrameSize {
            throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .frameTooLarge(size: frame.readableBytes - 4, limit: ThriftWire.defaultMaxFrameSize))
        }
        return frame
    }
}
