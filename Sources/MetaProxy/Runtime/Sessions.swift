import MetaProtocol
import NIOCore

/// What the runtime keeps of any connection the core reads from or writes to: its place on the
/// flush list, and the frames forwarded into it or out of it as they arrive. Used only on the
/// core's loop.
class ConnectionSession: @unchecked Sendable {
    /// The channel; nil while an upstream connection is still being made.
    var channel: Channel?
    /// On the flush list already.
    var awaitingFlush = false
    /// Flushed at the end of the loop's round of work rather than at the end of a read: an
    /// upstream connection that many clients share then takes every call read in that round
    /// in one write.
    let flushesPerRound: Bool
    /// The frame this connection is reading and forwarding as it arrives (cut-through).
    var readingPassage: Passage?
    /// The frame being written into this connection as it arrives: other writes wait behind
    /// it, in ``waiting``, so that no frame is cut into.
    var writingPassage: Passage?
    var waiting: [PassageSegment] = []

    init(channel: Channel?, flushesPerRound: Bool) {
        self.channel = channel
        self.flushesPerRound = flushesPerRound
    }
}

/// One client connection as the core knows it.
final class DownstreamSession: ConnectionSession, @unchecked Sendable {
    let clientChannel: Channel
    /// Zero until registered (and for a connection refused at the limit).
    var id: UInt64 = 0
    /// The idle sweep during which it last read or was written to (``CoreRuntime/idleSweeps``).
    var activeInSweep: UInt64 = 0
    /// Closed for being idle (counted once).
    var closedIdle = false
    /// Frame boundaries read so far: whole frames, and the ends of frames cut through.
    var framesRead: UInt64 = 0
    /// The frame not yet all in at the end of the last read: ``framesRead`` when it began, and
    /// the frame sweep it began in (``CoreRuntime/frameSweeps``); nil when none is.
    var partialFrame: (frames: UInt64, sweep: UInt64)?
    /// Closed for a frame not all in within the frame timeout (counted once).
    var closedSlowFrame = false
    /// Upstream connections this one is not read for, being full of what it sent (see
    /// ``CoreRuntime/pause(_:behind:)``); read again when none is.
    var pausedBehind = 0

    init(channel: Channel) {
        clientChannel = channel
        super.init(channel: channel, flushesPerRound: false)
    }
}

/// One upstream connection the core asked for.
final class UpstreamSession: ConnectionSession, @unchecked Sendable {
    let id: UpstreamConnectionID
    /// The core closed it (or gave up on it): no more callbacks for it may reach the core.
    var closedByCore = false
    /// Client connections not read while this one is over its write high watermark.
    var pausedReaders: [DownstreamSession] = []

    init(id: UpstreamConnectionID) {
        self.id = id
        super.init(channel: nil, flushesPerRound: true)
    }
}

/// A frame the proxy forwards as it arrives (cut-through): its head went through the core like
/// any frame; the rest goes from the connection it comes in on to the one the core sent the head
/// to, in the order it arrives, without being buffered whole.
final class Passage {
    /// The name the frame's message carries (``CutThrough/passage``).
    let id: UInt64
    /// Bytes still to come from the source connection.
    var remaining: Int
    /// Where the core sent the head; nil until it did (the call may wait for a connection).
    var target: ConnectionSession?
    /// Bytes not written yet: the head, until the core sent it and the target was free, and
    /// what arrived meanwhile.
    var held: [ByteBuffer] = []
    /// The frame was answered without it, or a connection it needed closed: the rest is dropped.
    var discarded = false
    /// The connection the frame comes in on.
    weak var source: ConnectionSession?

    init(id: UInt64, remaining: Int, source: ConnectionSession) {
        self.id = id
        self.remaining = remaining
        self.source = source
    }
}

/// What waits to be written into a connection that a passage is writing into.
enum PassageSegment {
    case bytes(ByteBuffer)
    /// A passage whose head is next: its bytes follow, and what is queued behind it waits for
    /// its end.
    case passage(Passage)
}
