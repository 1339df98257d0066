import MetaProtocol
import NIOCore

/// Cuts a proxy connection's bytes into messages with a protocol's codec and hands each one to
/// the connection's end of the core (its ``FrameSink``) in a direct call.
///
/// It does the job NIO's `ByteToMessageHandler` does for ``MetaFrameDecoder`` (which the
/// synthetic server and test clients still use), written out for the proxy's path: that handler is
/// generic and not inlinable across modules, so every frame paid for unspecialized generic code
/// and runtime metadata lookups, and passing a ``Message`` down the pipeline boxed it in `NIOAny`.
/// Here the bytes of a frame not yet whole wait in one buffer; whole frames are decoded straight
/// out of the read buffer, as slices of it.
///
/// A frame at least the sink's ``FrameSink/cutThroughThreshold`` long whose head has come is
/// handed over before the rest of it (when the codec can decode heads): the rest then goes to the
/// sink as it arrives, and decoding resumes after it.
///
/// A frame the codec refuses is a `CodecError` fired into the pipeline (the handler after this
/// one closes the connection and counts why); nothing more is decoded from that connection.
/// When the connection closes, whole frames still buffered are delivered and a partial one is
/// dropped with it.
final class FrameReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    @exclusivity(unchecked) private var codec: any MetaCodec
    private let sink: FrameSink
    /// Bytes received and not yet decoded (the start of a frame not yet whole).
    @exclusivity(unchecked) private var pending: ByteBuffer?
    /// Inside the decode loop: bytes read meanwhile are appended to ``pending`` and decoded by it.
    private var decoding = false
    /// A frame was refused or the connection closed: nothing more is decoded.
    private var stopped = false
    /// Bytes still to come of the frame being cut through (0: none is).
    private var restToCome = 0

    /// How many bytes the buffer of a frame not yet whole holds room for (0: none waits). A
    /// reading for tests: it stays near the largest frame whatever the connection has carried.
    var bufferedCapacity: Int { pending?.capacity ?? 0 }

    init(codec: any MetaCodec, sink: FrameSink) {
        self.codec = codec
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !stopped else { return }
        var bytes = unwrapInboundIn(data)
        if pending == nil {
            pending = bytes
        } else {
            // The bytes of frames already handed on go before the new ones are appended. Kept,
            // they would stay in the buffer for as long as reads keep ending inside a frame (as
            // they do under steady load), and each append to storage a message still shares
            // would copy all of them: a connection carrying 120 KB frames then copied megabytes
            // per call and fell behind. Dropping them copies only the frame not yet whole.
            pending!.discardReadBytes()
            pending!.writeBuffer(&bytes)
        }
        decodePending(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !stopped { sink.readEnded(holdingPartialFrame: pending != nil || restToCome > 0) }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        decodePending(context: context)
        stopped = true
        pending = nil
        context.fireChannelInactive()
    }

    private func decodePending(context: ChannelHandlerContext) {
        guard !decoding, !stopped else { return }
        decoding = true
        defer { decoding = false }
        while !stopped, var buffer = pending {
            if restToCome > 0 {
                let rest = buffer.readSlice(length: min(restToCome, buffer.readableBytes))!
                restToCome -= rest.readableBytes
                pending = buffer.readableBytes > 0 ? buffer : nil
                sink.receivedRest(rest, remaining: restToCome)
                continue
            }
            var decoded: Message?
            do {
                decoded = try codec.decode(&buffer)
                if decoded == nil, let threshold = sink.cutThroughThreshold {
                    decoded = try codec.decodeHead(&buffer, minimumLength: threshold)
                    restToCome = decoded?.cutThrough?.pendingBytes ?? 0
                }
            } catch {
                stopped = true
                pending = nil
                context.fireErrorCaught(error)
                return
            }
            guard let message = decoded else { return }  // the rest of the frame is still to come
            // Put back what is left before the message goes on: the core may cause a read.
            pending = buffer.readableBytes > 0 ? buffer : nil
            sink.received(message)
        }
    }
}
