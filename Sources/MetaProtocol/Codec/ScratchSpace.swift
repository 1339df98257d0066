import NIOCore

/// Reusable buffers for the few bytes a codec writes anew when it forwards a frame (a renumbered
/// header), so that forwarding allocates nothing in steady state.
///
/// Each write takes the next of a few slots in turn and clears it: `ByteBuffer.clear()` keeps the
/// slot's storage when nothing else refers to it any more — the bytes it held last time have
/// been written to the socket and released — and allocates new storage only when they are
/// still queued. With `slots` slots, a connection that has up to `slots` frames waiting for one
/// flush writes them all without allocating. The buffer handed back shares the slot's storage;
/// the slot is never written again before it is cleared, so no write copies it.
///
/// One per driver thread (the socket runtime keeps one per core); ``none`` allocates on every
/// write, for one-off encodes.
public struct ScratchSpace {
    private var buffers: [ByteBuffer]
    private var next = 0

    /// Scratch space with `slots` reusable buffers of `capacity` bytes each.
    public init(slots: Int = 16, capacity: Int = 256) {
        let allocator = ByteBufferAllocator()
        buffers = (0..<slots).map { _ in allocator.buffer(capacity: capacity) }
    }

    /// Scratch space that reuses nothing: every write gets a buffer of its own.
    public static var none: ScratchSpace { ScratchSpace(slots: 0) }

    /// A buffer holding what `body` writes into it (starting empty, with room for `capacity`
    /// bytes; it grows if `body` writes more).
    public mutating func write<E: Error>(capacity: Int, _ body: (inout ByteBuffer) throws(E) -> Void) throws(E) -> ByteBuffer {
        guard !buffers.isEmpty else {
            var buffer = ByteBufferAllocator().buffer(capacity: capacity)
            try body(&buffer)
            return buffer
        }
        let slot = next
        next = slot + 1 == buffers.count ? 0 : slot + 1
        buffers[slot].clear(minimumCapacity: capacity)
        try body(&buffers[slot])
        return buffers[slot]
    }
}
