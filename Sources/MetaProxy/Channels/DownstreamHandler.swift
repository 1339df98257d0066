import MetaProtocol
import NIOCore

/// A client connection's end of the pipeline: decoded calls go to the core, and the connection's
/// life (registration, activity for the idle timeout, refused frames, close) is reported to it. The connection
/// lives on the core's event loop (see ``CoreRuntime``), so every call here is a direct call.
final class DownstreamHandler: ChannelInboundHandler, FrameSink {
    /// Frames come through ``received(_:)``, not down the pipeline.
    typealias InboundIn = Message

    private let runtime: CoreRuntime
    let session: DownstreamSession
    /// The test-only injected delay (``ProxySettings/injectedDelay``), nil in every real run.
    private let injectedDelay: Duration?

    init(runtime: CoreRuntime, channel: Channel) {
        self.runtime = runtime
        session = DownstreamSession(channel: channel)
        injectedDelay = runtime.settings.injectedDelay
    }

    func channelActive(context: ChannelHandlerContext) {
        runtime.register(session)
        context.fireChannelActive()
    }

    func received(_ message: Message) {
        if let injectedDelay { Self.spin(injectedDelay) }
        if message.cutThrough == nil { session.framesRead &+= 1 }
        runtime.received(message, from: session)
    }

    func receivedRest(_ bytes: ByteBuffer, remaining: Int) {
        if remaining == 0 { session.framesRead &+= 1 }
        runtime.receivedRest(bytes, remaining: remaining, from: session)
    }

    func readEnded(holdingPartialFrame: Bool) {
        runtime.notePartialFrame(session, holding: holdingPartialFrame)
    }

    var cutThroughThreshold: Int? { runtime.cutThroughThreshold }

    func channelReadComplete(context: ChannelHandlerContext) {
        runtime.noteActivity(session)
        // The frames of one read are in; what the core wrote for them leaves in one flush.
        runtime.flushAfterRead()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        runtime.unregister(session)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A frame the codec refused: this connection ends, counted; others are not affected.
        if error is CodecError { runtime.counters.downstreamProtocolErrors += 1 }
        context.close(promise: nil)
    }
}

extension DownstreamHandler {
    /// Busy-waits (the test-only injected delay): a timer would add its own wake-up latency.
    static func spin(_ delay: Duration) {
        let end = NIODeadline.now() + .nanoseconds(delay.nanoseconds)
        while NIODeadline.now() < end {}
    }
}
