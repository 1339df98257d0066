import MetaProtocol
import NIOCore

/// An upstream connection's end of the pipeline: decoded answers go to the core; a close or a
/// refused frame ends the connection for the core. Like the client connections it lives on the
/// core's event loop, so every call here is a direct call.
final class UpstreamHandler: ChannelInboundHandler, FrameSink {
    /// Frames come through ``received(_:)``, not down the pipeline.
    typealias InboundIn = Message

    private let session: UpstreamSession
    private let runtime: CoreRuntime

    init(session: UpstreamSession, runtime: CoreRuntime) {
        self.session = session
        self.runtime = runtime
    }

    func received(_ message: Message) {
        runtime.received(message, on: session)
    }

    func receivedRest(_ bytes: ByteBuffer, remaining: Int) {
        runtime.receivedRest(bytes, remaining: remaining, from: session)
    }

    var cutThroughThreshold: Int? { runtime.cutThroughThreshold }

    func channelReadComplete(context: ChannelHandlerContext) {
        runtime.flushAfterRead()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { runtime.resumeReaders(of: session) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        runtime.upstreamEnded(session)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is CodecError { runtime.counters.upstreamProtocolErrors += 1 }
        context.close(promise: nil)
    }
}
