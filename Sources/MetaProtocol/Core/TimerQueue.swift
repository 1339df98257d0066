/// The core's own timers: a heap ordered by (deadline, insertion sequence), so timers due at the
/// same moment fire in the order they were set, on every run. Cancelling is lazy: an entry whose
/// purpose has passed is dropped when it comes up.
struct TimerQueue<Event: Sendable>: Sendable {
    private struct Entry: Sendable {
        var deadline: Timestamp
        var sequence: UInt64
        var event: Event
    }

    private var heap: [Entry] = []
    private var sequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextDeadline: Timestamp? { heap.first?.deadline }

    mutating func schedule(_ event: Event, at deadline: Timestamp) {
        heap.append(Entry(deadline: deadline, sequence: sequence, event: event))
        sequence &+= 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest event if it is due at `now`.
    mutating func popDue(now: Timestamp) -> (Timestamp, Event)? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count && before(heap[left], heap[best]) { best = left }
                if right < heap.count && before(heap[right], heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return (first.deadline, first.event)
    }

    @inline(__always)
    private func before(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }
}
