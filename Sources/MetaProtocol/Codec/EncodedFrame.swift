import NIOCore

/// The bytes to send for a message: newly written bytes (``head``, often none), a slice of the
/// received frame (``rest``), then newly written bytes again (``tail``, rarely any).
///
/// Forwarding a frame unchanged sends the received bytes (`head` nil). Renumbering a request
/// for a multiplexed upstream connection writes a new header as `head` and keeps the payload
/// where it is, so a 120 KB payload is never copied; a mutation writes what it changes (a
/// header and a key/value block as `head`, or Dubbo's attachments at the end as `tail`) and
/// still keeps the payload as a slice. A driver sends the parts in one vectored write.
public struct EncodedFrame: Sendable {
    /// New bytes that go first, if any.
    public var head: ByteBuffer?
    /// Bytes that follow, usually a slice of the received frame.
    public var rest: ByteBuffer
    /// New bytes that go last, if any.
    public var tail: ByteBuffer?

    public init(head: ByteBuffer? = nil, rest: ByteBuffer, tail: ByteBuffer? = nil) {
        self.head = head
        self.rest = rest
        self.tail = tail
    }

    /// Total bytes.
    public var readableBytes: Int { (head?.readableBytes ?? 0) + rest.readableBytes + (tail?.readableBytes ?? 0) }

    /// The frame in one buffer (copies when there is more than one part).
    public func collapsed() -> ByteBuffer {
        guard head != nil || tail != nil else { return rest }
        var out = ByteBufferAllocator().buffer(capacity: readableBytes)
        if let head { out.writeImmutableBuffer(head) }
        out.writeImmutableBuffer(rest)
        if let tail { out.writeImmutableBuffer(tail) }
        return out
    }

    /// The frame's bytes, for tools and tests.
    public var bytes: [UInt8] {
        (head.map { Array($0.readableBytesView) } ?? []) + Array(rest.readableBytesView) + (tail.map { Array($0.readableBytesView) } ?? [])
    }
}
