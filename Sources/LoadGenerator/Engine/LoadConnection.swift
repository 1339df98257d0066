import MetaProtocol
import NIOCore
import TrafficModel

/// One connection of a worker: writes its calls, reads and matches their answers by request id.
/// Lives on its worker's event loop, as does everything it touches.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// A call in flight: when it should have left and when it did (nanoseconds from the run's
    /// start), and whether it is measured.
    struct Sent {
        var intended: Int64
        var sent: Int64
        var measured: Bool
    }

    unowned(unsafe) let worker: LoadWorker
    let index: Int
    var channel: Channel?
    private var codec: any MetaCodec
    private var buffer = ByteBuffer()
    /// Calls in flight by request id, and their ids in the order they left (for timeouts: the
    /// request timeout is the same for all, so the oldest expires first).
    var inFlight = IDMap<Sent>()
    var order = RingBuffer<UInt64>()
    /// Ids of calls that timed out, so that a late answer is told from an unknown one.
    var timedOut = IDMap<Bool>()
    var nextID: UInt64 = 1
    var unflushed = false
    var closed = false

    init(worker: LoadWorker, index: Int, codec: any MetaCodec) {
        self.worker = worker
        self.index = index
        self.codec = codec
    }

    /// The next request id; 31 bits, so that protocols with 32-bit signed ids (Thrift) carry it.
    func takeID() -> UInt64 {
        let id = nextID
        nextID = nextID == UInt64(Int32.max) ? 1 : nextID + 1
        return id
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            buffer.writeBuffer(&bytes)
        }
        do {
            while let answer = try codec.decode(&buffer) { worker.answered(answer, on: self) }
        } catch {
            worker.figures.protocolErrors += 1
            context.close(promise: nil)
        }
        if buffer.readableBytes == 0 { buffer = ByteBuffer() } else { buffer.discardReadBytes() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        worker.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        worker.connectionClosed(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

extension LoadConnection: @unchecked Sendable {}
