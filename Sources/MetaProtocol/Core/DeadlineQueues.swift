/// A request's place in a deadline queue.
struct DeadlineLink {
    /// Index of the queue, or -1 when not queued.
    var queue: Int32 = -1
    var previous: SlabKey?
    var next: SlabKey?
    var deadline = Timestamp.zero

    var isQueued: Bool { queue >= 0 }
}

/// The kinds of per-request deadline the core keeps in queues.
enum DeadlineKind: Int, Sendable {
    /// The whole request (route timeout).
    case request
    /// The current try (per-try timeout).
    case tryTimeout
}

/// Requests waiting for deadlines of the same kind and duration, in arrival order — so their
/// deadlines are in order too and the soonest is always at the head. Requests are linked
/// through their records: adding and removing cost O(1) and no memory outlives a request,
/// where a timer per request in a heap would hold an entry until it fired (for a 15 s route
/// timeout at 500,000 requests a second, millions of stale entries).
struct DeadlineQueues {
    struct Queue {
        let kind: DeadlineKind
        let duration: Int64
        var head: SlabKey?
        var tail: SlabKey?
        /// When the core's wake-up event for this queue is due; nil when none is pending.
        /// Deadlines in a queue only grow, so one pending event at or before the head suffices.
        var eventAt: Timestamp?
    }

    private(set) var queues: [Queue] = []
    private var byKindAndDuration: [Int64: Int] = [:]

    /// The queue for `kind` and `duration`, made on first use.
    mutating func queue(_ kind: DeadlineKind, _ duration: Duration) -> Int {
        let ns = duration.nanoseconds
        let key = ns &* 2 &+ Int64(kind.rawValue)
        if let i = byKindAndDuration[key] { return i }
        queues.append(Queue(kind: kind, duration: ns))
        byKindAndDuration[key] = queues.count - 1
        return queues.count - 1
    }

    subscript(i: Int) -> Queue {
        get { queues[i] }
        set { queues[i] = newValue }
    }
}

extension ProxyCore {
    private func link(_ key: SlabKey, _ kind: DeadlineKind, _ known: RequestRecord? = nil) -> DeadlineLink? {
        guard let record = known ?? requests[key] else { return nil }
        switch kind {
        case .request: return record.requestDeadline
        case .tryTimeout: return record.tryDeadline
        }
    }

    private func setLink(_ key: SlabKey, _ kind: DeadlineKind, _ known: RequestRecord? = nil, _ body: (inout DeadlineLink) -> Void) {
        guard let record = known ?? requests[key] else { return }
        switch kind {
        case .request: body(&record.requestDeadline)
        case .tryTimeout: body(&record.tryDeadline)
        }
    }

    /// Starts `kind` deadline of `duration` for request `key`.
    func startDeadline(_ key: SlabKey, _ kind: DeadlineKind, _ duration: Duration, _ known: RequestRecord? = nil) {
        stopDeadline(key, kind, known)
        let q = deadlines.queue(kind, duration)
        let deadline = now + duration
        let tail = deadlines[q].tail
        setLink(key, kind, known) { $0 = DeadlineLink(queue: Int32(q), previous: tail, next: nil, deadline: deadline) }
        if let tail { setLink(tail, kind) { $0.next = key } } else { deadlines[q].head = key }
        deadlines[q].tail = key
        if deadlines[q].eventAt == nil {
            deadlines[q].eventAt = deadline
            schedule(.deadlineQueue(q), at: deadline)
        }
    }

    /// Stops request `key`'s `kind` deadline, if it has one.
    func stopDeadline(_ key: SlabKey, _ kind: DeadlineKind, _ known: RequestRecord? = nil) {
        guard let link = link(key, kind, known), link.isQueued else { return }
        let q = Int(link.queue)
        if let previous = link.previous { setLink(previous, kind) { $0.next = link.next } } else { deadlines[q].head = link.next }
        if let next = link.next { setLink(next, kind) { $0.previous = link.previous } } else { deadlines[q].tail = link.previous }
        setLink(key, kind, known) { $0 = DeadlineLink() }
    }

    /// Fires the deadlines of queue `q` that are due, then waits for its new head.
    func expireDeadlines(_ q: Int) {
        deadlines[q].eventAt = nil
        while let head = deadlines[q].head, let link = link(head, deadlines[q].kind), link.deadline <= now {
            stopDeadline(head, deadlines[q].kind)
            switch deadlines[q].kind {
            case .request:
                counters.timeouts += 1
                let silent = requestTimedOutOnTheWire(head)
                finishLocally(head, LocalReplyError(.timeout, message: "request timeout"))
                if let silent { retireIfSilent(silent) }
            case .tryTimeout:
                counters.perTryTimeouts += 1
                tryFailed(head, .perTryTimeout)
            }
        }
        // A deadline started while the loop ran (a retry's per-try timeout) may have armed an
        // event later than the head's: the head decides.
        if let head = deadlines[q].head, let link = link(head, deadlines[q].kind), deadlines[q].eventAt.map({ $0 > link.deadline }) ?? true {
            deadlines[q].eventAt = link.deadline
            schedule(.deadlineQueue(q), at: link.deadline)
        }
    }
}
