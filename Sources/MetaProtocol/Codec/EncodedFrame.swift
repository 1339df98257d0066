import NIOCore

/// The bytes to send for a message: newly written bytes (``head``, often none) followed by a
/// slice of the received frame (``rest``).
///
/// Forwarding a frame unchanged sends the received bytes (`head` nil). Renumbering a request
/// for a multiplexed upstream connection writes a new header as `head` and keeps the payload
/// where it is, so a 120 KB payload is never copied; a driver sends both in one vectored write.
public struct EncodedFrame: Sendable {
    /// New bytes that go first, if any.
    public var head: ByteBuffer?
    /// Bytes that follow, usually a slice of the received frame.
    public var rest: ByteBuffer

    public init(head: ByteBuffer? = nil, rest: ByteBuffer) {
        self.head = head
        self.rest = rest
    }

    /// Total bytes.
    public var readableBytes: Int { (head?.readableBytes ?? 0) + rest.readableBytes }

    /// The frame in one buffer (copies when there is a head).
    public func collapsed() -> ByteBuffer {
        guard var head else { return rest }
        var rest = rest
        head.writeBuffer(&rest)
        return head
    }

    /// The frame's bytes, for tools and tests.
    public var bytes: [UInt8] {
        (head.map { Array($0.readableBytesView) } ?? []) + Array(rest.readableBytesView)
    }
}
