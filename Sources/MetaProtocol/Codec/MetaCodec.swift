import NIOCore

/// A protocol plugged into the proxy: turns bytes into ``Message``s and back.
///
/// This is the whole contract a new protocol has to meet; routing, balancing, protection, limits,
/// mirroring, metrics and tracing then work for it unchanged. A codec is a value owned by one
/// connection (decoding may remember what it learned from earlier frames, such as Thrift's
/// transport), and it is sans-IO: it only reads and writes buffers.
public protocol MetaCodec: Sendable {
    /// The name used in configuration, stats and errors.
    static var protocolName: String { get }
    /// What the protocol's frames can carry, checked when a configuration is loaded.
    static var capabilities: CodecCapabilities { get }

    /// A codec for a new connection, with the protocol's default limits.
    init()

    /// Decodes one frame from the front of `buffer`.
    ///
    /// - Returns: the message, with `buffer`'s reader index moved past its frame; or `nil` when
    ///   the buffer does not yet hold a whole frame, with `buffer` untouched.
    /// - Throws: ``CodecError`` naming the offset and the problem when the bytes are invalid.
    mutating func decode(_ buffer: inout ByteBuffer) throws(CodecError) -> Message?

    /// The frame to send for `message` with `mutation` applied.
    ///
    /// With an empty mutation and an unchanged request id this is ``Message/frame`` itself, the
    /// bytes that arrived. A changed ``Message/requestID`` is written into a new header and the
    /// rest of the frame is still the received bytes. A mutation builds a new frame whose
    /// key/value section has the mutation's entries replacing or extending the frame's.
    func encode(_ message: Message, mutation: Mutation) throws(CodecError) -> EncodedFrame

    /// ``encode(_:mutation:)`` writing its new bytes (a renumbered header) into `scratch`'s
    /// reusable buffers: what the proxy calls for every frame it forwards. A codec that writes
    /// new heads implements this one and makes ``encode(_:mutation:)`` call it with
    /// ``ScratchSpace/none``; the default ignores `scratch`.
    func encode(_ message: Message, mutation: Mutation, scratch: inout ScratchSpace) throws(CodecError) -> EncodedFrame

    /// Decodes the head of a frame of at least `minimumLength` bytes that has not fully arrived,
    /// for forwarding it as it arrives (cut-through): called when ``decode(_:)`` returned nil
    /// for `buffer`.
    ///
    /// - Returns: nil when the protocol cannot tell the frame's length or its routing
    ///   attributes before the whole frame is in, when the head itself has not arrived, or when
    ///   the frame is shorter than `minimumLength` (`buffer` untouched); else a message whose ``Message/frame`` holds every byte in `buffer` (the reader index
    ///   is moved past them) with ``Message/cutThrough`` giving how many are still to come.
    ///   The body of such a frame is not validated: the peer's own codec will see it.
    mutating func decodeHead(_ buffer: inout ByteBuffer, minimumLength: Int) throws(CodecError) -> Message?

    /// A protocol-native error reply to `request`, answering it with `error`.
    func encodeLocalReply(_ error: LocalReplyError, to request: Message) throws(CodecError) -> ByteBuffer

    /// The reply to a heartbeat, for protocols that have heartbeats.
    func encodeHeartbeatReply(to heartbeat: Message) throws(CodecError) -> ByteBuffer

    /// What a server of the protocol sends its clients when it begins to shut down, telling
    /// them to send no new requests on the connection (Dubbo's READONLY event); nil for
    /// protocols that have no such notice.
    func encodeDrainNotice() -> ByteBuffer?
}

extension MetaCodec {
    public func encode(_ message: Message, mutation: Mutation, scratch: inout ScratchSpace) throws(CodecError) -> EncodedFrame {
        try encode(message, mutation: mutation)
    }

    /// Protocols that need the whole frame before routing (the default) never cut through.
    public mutating func decodeHead(_ buffer: inout ByteBuffer, minimumLength: Int) throws(CodecError) -> Message? { nil }

    /// Protocols without heartbeats never decode one, so this is never called for them.
    public func encodeHeartbeatReply(to heartbeat: Message) throws(CodecError) -> ByteBuffer {
        throw CodecError(protocolName: Self.protocolName, offset: 0, reason: .unsupported("heartbeats"))
    }

    /// Most protocols have no drain notice: their clients learn of a drain when the
    /// connection closes.
    public func encodeDrainNotice() -> ByteBuffer? { nil }

    /// Encodes an unmutated message.
    public func encode(_ message: Message) throws(CodecError) -> EncodedFrame {
        try encode(message, mutation: Mutation())
    }
}

/// What a protocol's wire format can carry.
public struct CodecCapabilities: Sendable, Hashable {
    /// Whether frames have room for mutation key/values (request and response).
    public var carriesMutation: Bool
    /// Whether the protocol has heartbeat frames.
    public var hasHeartbeats: Bool
    /// Width of the request id in bits; the proxy must pick upstream ids within it when it
    /// multiplexes several downstream connections onto one upstream connection.
    public var requestIDBits: Int

    public init(carriesMutation: Bool, hasHeartbeats: Bool, requestIDBits: Int) {
        self.carriesMutation = carriesMutation
        self.hasHeartbeats = hasHeartbeats
        self.requestIDBits = requestIDBits
    }
}
