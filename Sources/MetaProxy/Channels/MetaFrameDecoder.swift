import MetaProtocol
import NIOCore

/// Where a proxy connection's decoded frames go: the connection's end of the core
/// (``DownstreamHandler`` or ``UpstreamHandler``), called by its ``FrameReader``.
protocol FrameSink: AnyObject {
    /// One frame, on the connection's (and the core's) event loop: whole, or the head of one
    /// forwarded as it arrives (``Message/cutThrough`` set).
    func received(_ message: Message)
    /// More bytes of the frame whose head came last, with `remaining` still to come after them.
    func receivedRest(_ bytes: ByteBuffer, remaining: Int)
    /// Frames at least this long are forwarded as they arrive when their protocol allows it;
    /// nil: every frame is buffered whole. Asked for each frame not yet whole.
    var cutThroughThreshold: Int? { get }
    /// A read's bytes are all decoded; `holdingPartialFrame` when a frame is begun and not
    /// all in (buffered, or cut through with more to come).
    func readEnded(holdingPartialFrame: Bool)
}

extension FrameSink {
    /// Upstream connections keep no frame clock: their calls have timeouts of their own.
    func readEnded(holdingPartialFrame: Bool) {}
}

/// Cuts a connection's bytes into messages with a protocol's codec: the bridge between NIO's
/// `ByteToMessageDecoder` and ``MetaCodec``. One per connection, as a codec may remember what it
/// learned from earlier frames. A frame the codec refuses is a `CodecError` thrown into the
/// pipeline; the handler after it closes the connection and counts why.
///
/// Used by the synthetic server and test clients; the proxy's own connections use
/// ``FrameReader``, which hands messages to the core without the pipeline.
struct MetaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Message

    var codec: any MetaCodec

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try codec.decode(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // Whole frames still buffered are delivered; a partial frame at the end is dropped with
        // the connection.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

extension EncodedFrame {
    /// Writes the frame (its new head, if any, the rest, its new tail, if any), without flushing.
    func write(to channel: Channel) {
        if let head { channel.write(head, promise: nil) }
        channel.write(rest, promise: nil)
        if let tail { channel.write(tail, promise: nil) }
    }
}
