import MetaProtocol
import NIOCore

/// A client connection's end of the pipeline: decoded calls go to the core, and the connection's
/// life (registration, idle timeout, refused frames, close) is reported to the core loop.
final class DownstreamHandler: ChannelInboundHandler {
    typealias InboundIn = Message

    private let runtime: CoreRuntime
    private let session: DownstreamSession
    /// The test-only injected delay (``ProxySettings/injectedDelay``), nil in every real run.
    private let injectedDelay: Duration?

    init(runtime: CoreRuntime, channel: Channel) {
        self.runtime = runtime
        session = DownstreamSession(channel: channel)
        injectedDelay = runtime.settings.injectedDelay
    }

    func channelActive(context: ChannelHandlerContext) {
        let (runtime, session) = (runtime, session)
        runtime.onCoreLoop { runtime.register(session) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        if let injectedDelay { Self.spin(injectedDelay) }
        let (runtime, session) = (runtime, session)
        runtime.onCoreLoop {
            guard session.id != 0 else { return }
            runtime.core?.receive(message, from: DownstreamID(session.id))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let (runtime, session) = (runtime, session)
        runtime.onCoreLoop { runtime.unregister(session) }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            let runtime = runtime
            runtime.onCoreLoop { runtime.counters.downstreamIdleClosed += 1 }
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A frame the codec refused: this connection ends, counted; others are not affected.
        if error is CodecError {
            let runtime = runtime
            runtime.onCoreLoop { runtime.counters.downstreamProtocolErrors += 1 }
        }
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

