import MetaProtocol
import NIOCore

/// An upstream connection's end of the pipeline: decoded answers go to the core; a close or a
/// refused frame ends the connection for the core.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = Message

    private let session: UpstreamSession
    private let runtime: CoreRuntime

    init(session: UpstreamSession, runtime: CoreRuntime) {
        self.session = session
        self.runtime = runtime
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        let (runtime, session) = (runtime, session)
        runtime.onCoreLoop {
            guard !session.closedByCore else { return }
            runtime.core?.upstreamReceived(message, on: session.id)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let (runtime, session) = (runtime, session)
        runtime.onCoreLoop { runtime.upstreamEnded(session) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is CodecError {
            let runtime = runtime
            runtime.onCoreLoop { runtime.counters.upstreamProtocolErrors += 1 }
        }
        context.close(promise: nil)
    }
}
