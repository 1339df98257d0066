import MetaProtocol
import NIOCore

/// Cut-through: a large frame is routed as soon as its head is in and the rest is forwarded as it
/// arrives, so the time it adds does not grow with its size.
///
/// The head goes through the core like any frame (routing, balancing, limits, the request id
/// renumbered). What the connection reads after it goes straight to the connection the core sent
/// the head to, in order; until the frame's last byte is through, other frames bound for that
/// connection wait (a frame is never cut into). Bytes that arrive before the core has sent the
/// head (the call waits for a connection or a limit) are held, as much as the frame itself.
///
/// It applies when the protocol can route on a frame's head (``MetaCodec/decodeHead(_:minimumLength:)``),
/// the frame is at least ``ProxySettings/cutThroughThreshold`` long, and the configuration never
/// needs a whole request again or changes one: no retries, mirrors, mutations or tracing.
/// Otherwise frames are buffered whole, as before.
extension CoreRuntime {
    /// The smallest frame cut through now, nil when the configuration does not allow it.
    var cutThroughThreshold: Int? { configurationPermitsCutThrough ? settings.cutThroughThreshold : nil }

    /// Whether `configuration` never needs a whole request again, nor changes a frame: the
    /// condition for forwarding frames as they arrive.
    static func permitsCutThrough(_ configuration: CompiledConfiguration) -> Bool {
        let source = configuration.source
        return source.tracing == nil && source.routes.allSatisfy {
            $0.retry == nil && $0.mirrors.isEmpty && $0.requestMutation.isEmpty && $0.responseMutation.isEmpty
        }
    }

    /// Names the passage of a frame whose head `session` just read.
    func openPassage(for message: inout Message, from session: ConnectionSession) {
        let passage = Passage(id: nextPassage, remaining: message.cutThrough!.pendingBytes, source: session)
        nextPassage += 1
        message.cutThrough!.passage = passage.id
        passages.set(passage.id, passage)
        session.readingPassage = passage
        counters.cutThroughFrames += 1
    }

    /// Writes the head of a frame still arriving to `target`, where the rest will follow it:
    /// at once when nothing else is being forwarded into `target`, else after that.
    func writeHead(_ frame: EncodedFrame, of cutThrough: CutThrough, to target: ConnectionSession) {
        guard let passage = passages[cutThrough.passage], !passage.discarded, passage.target == nil else {
            // The rest is gone (its connection closed), or this is a second copy of the head
            // (a retry or a mirror, which the configuration should have ruled out): a head
            // that no body would follow is not written.
            counters.cutThroughAborted += 1
            return
        }
        passage.target = target
        passage.held.insert(contentsOf: (frame.head.map { [$0] } ?? []) + [frame.rest] + (frame.tail.map { [$0] } ?? []), at: 0)
        if target.writingPassage == nil {
            start(passage, into: target)
        } else {
            target.waiting.append(.passage(passage))
        }
    }

    /// More of the frame `session` is reading as it arrives.
    func receivedRest(_ bytes: ByteBuffer, remaining: Int, from session: ConnectionSession) {
        guard let passage = session.readingPassage else { return }
        passage.remaining = remaining
        if remaining == 0 { session.readingPassage = nil }
        if passage.discarded {
            if remaining == 0 { passages.remove(passage.id) }
            return
        }
        if let target = passage.target, target.writingPassage === passage {
            target.channel?.write(bytes, promise: nil)
            flushLater(target)
            if let client = session as? DownstreamSession { pauseIfFull(target, readingFrom: client) }
            if remaining == 0 { finish(passage, in: target) }
        } else {
            passage.held.append(bytes)
        }
    }

    /// `passage` takes `target`: what it holds goes out, and what arrives goes straight after.
    private func start(_ passage: Passage, into target: ConnectionSession) {
        target.writingPassage = passage
        for bytes in passage.held { target.channel?.write(bytes, promise: nil) }
        passage.held = []
        flushLater(target)
        if passage.remaining == 0 { finish(passage, in: target) }
    }

    /// The last byte of `passage` is written: what waited behind it goes out in order, up to the
    /// next passage that has not fully arrived.
    private func finish(_ passage: Passage, in target: ConnectionSession) {
        passages.remove(passage.id)
        passage.target = nil
        target.writingPassage = nil
        while !target.waiting.isEmpty, target.writingPassage == nil {
            switch target.waiting.removeFirst() {
            case .bytes(let bytes):
                target.channel?.write(bytes, promise: nil)
                flushLater(target)
            case .passage(let next):
                if !next.discarded { start(next, into: target) }
            }
        }
    }

    /// The frame of `passage` is not needed any more (answered without it): the rest is dropped.
    /// A connection that has its head but will not get its end is closed.
    func discard(_ passage: Passage) {
        guard !passage.discarded else { return }
        passage.discarded = true
        passage.held = []
        if passage.remaining == 0 { passages.remove(passage.id) }
        if let target = passage.target {
            passage.target = nil
            if target.writingPassage === passage {
                counters.cutThroughAborted += 1
                target.writingPassage = nil
                target.waiting = []
                target.channel?.close(promise: nil)
            }
        }
    }

    /// `session` closed: the frames it read that are not through yet end short (and any still
    /// held for a call waiting in the core is dropped), and so does the one being written into it.
    func passagesEnded(at session: ConnectionSession) {
        session.readingPassage = nil
        if !passages.isEmpty {
            for (_, passage) in passages.sortedEntries where passage.source === session {
                passage.remaining = 0
                discard(passage)
                passages.remove(passage.id)
            }
        }
        if let writing = session.writingPassage {
            session.writingPassage = nil
            writing.target = nil
            writing.discarded = true
            writing.held = []
            if writing.remaining == 0 { passages.remove(writing.id) }
        }
        for case .passage(let waiting) in session.waiting {
            waiting.target = nil
            waiting.discarded = true
            waiting.held = []
        }
        session.waiting = []
    }
}
