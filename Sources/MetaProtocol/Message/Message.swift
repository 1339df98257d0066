import NIOCore

/// One decoded frame: what the core routes, balances and counts, plus the frame's own bytes.
///
/// A message never owns a copy of its payload: ``frame`` is a slice of the buffer the codec read
/// from, so forwarding an unmutated message writes the very bytes that arrived.
public struct Message: Sendable {
    /// What kind of frame this is.
    public var type: MessageType
    /// The protocol's own correlation id (Dubbo request id, Thrift seq id, …). Setting a different
    /// value and encoding makes the codec rewrite it in the frame (upstream multiplexing).
    public var requestID: UInt64
    /// Stream the frame belongs to, for streaming protocols; 0 otherwise.
    public var streamID: UInt64
    /// Bytes of protocol header at the start of ``frame``.
    public var headerSize: Int
    /// Bytes after the header.
    public var bodySize: Int
    /// Routable attributes (`method`, `interface`, `cmd`, attachments…).
    public var attributes: Attributes
    /// The outcome reported by a response or error frame; `nil` for calls.
    public var status: ResponseStatus?
    /// The whole frame as received (header and body), sharing storage with the read buffer.
    public var frame: ByteBuffer
    /// Where the codec found things in ``frame``; only the codec that decoded it reads this.
    public var layout: FrameLayout
    /// Set when the message is the head of a frame still arriving (cut-through, see
    /// ``MetaCodec/decodeHead(_:minimumLength:)``): ``frame`` holds the bytes so far, and the rest will be
    /// forwarded as it arrives. Nil for a whole frame.
    public var cutThrough: CutThrough?

    public init(
        type: MessageType,
        requestID: UInt64,
        streamID: UInt64 = 0,
        headerSize: Int,
        bodySize: Int,
        attributes: Attributes,
        status: ResponseStatus? = nil,
        frame: ByteBuffer,
        layout: FrameLayout = FrameLayout()
    ) {
        self.type = type
        self.requestID = requestID
        self.streamID = streamID
        self.headerSize = headerSize
        self.bodySize = bodySize
        self.attributes = attributes
        self.status = status
        self.frame = frame
        self.layout = layout
    }

    /// The operation in `service/method` form when the protocol names a service (`interface`),
    /// else the method alone. Built on demand (allocates); meant for logs and access logs.
    public var operationName: String {
        let method = attributes[AttributeKey.method]?.string ?? ""
        if let service = attributes[AttributeKey.interface] {
            return service.string + "/" + method
        }
        return method
    }
}

/// What is still to come of a frame the proxy forwards as it arrives (cut-through).
public struct CutThrough: Sendable, Hashable {
    /// Bytes of the frame after those in ``Message/frame``.
    public var pendingBytes: Int
    /// The driver's name for the frame's passage (0 until the driver names it).
    public var passage: UInt64

    public init(pendingBytes: Int, passage: UInt64 = 0) {
        self.pendingBytes = pendingBytes
        self.passage = passage
    }
}

/// Attribute keys with a meaning shared across codecs.
public enum AttributeKey {
    /// The called method (every RPC codec sets it).
    public static let method = "method"
    /// The service interface (Dubbo's service path).
    public static let interface = "interface"
    /// The service version.
    public static let version = "version"
    /// The service group.
    public static let group = "group"
}

/// Positions a codec noted while decoding, so that encoding a mutation or an error reply does not
/// parse the frame again. Opaque to the core.
public struct FrameLayout: Sendable, Hashable {
    /// Codec-defined variant of the wire format (for example Thrift's transport and protocol).
    public var variant: UInt8
    /// The byte range of ``Message/frame`` that a mutation replaces (Dubbo attachments map, the
    /// sample protocol's key/value block); an empty range marks where one would be inserted.
    /// `nil` when the frame cannot carry a mutation.
    public var mutableSection: Range<Int>?

    public init(variant: UInt8 = 0, mutableSection: Range<Int>? = nil) {
        self.variant = variant
        self.mutableSection = mutableSection
    }
}
