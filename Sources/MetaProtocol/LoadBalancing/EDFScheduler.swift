/// Earliest-deadline-first scheduling, as Envoy's weighted balancers use it: every entry has a
/// deadline; a pick takes the earliest, ties going to the entry added first.
///
/// A binary heap ordered by (deadline, insertion sequence), so equal deadlines are served
/// first-in first-out and the order never depends on anything but the inputs.
public struct EDFScheduler<Element: Sendable>: Sendable {
    private struct Entry: Sendable {
        var deadline: Double
        var sequence: UInt64
        var element: Element
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0
    /// The deadline of the last pick: the scheduler's "now".
    public private(set) var currentTime: Double = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }

    /// Adds `element` due at `deadline`.
    public mutating func add(_ element: Element, deadline: Double) {
        heap.append(Entry(deadline: deadline, sequence: nextSequence, element: element))
        nextSequence &+= 1
        siftUp(heap.count - 1)
    }

    /// Adds `element` due `1 / weight` after the current time.
    public mutating func add(_ element: Element, weight: Double) {
        add(element, deadline: currentTime + 1 / weight)
    }

    /// The earliest deadline, without removing it.
    public func peekDeadline() -> Double? { heap.first?.deadline }

    /// Removes and returns the earliest entry, advancing the current time to its deadline.
    public mutating func pop() -> (element: Element, deadline: Double)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        currentTime = first.deadline
        return (first.element, first.deadline)
    }

    @inline(__always)
    private func before(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

    private mutating func siftUp(_ i: Int) {
        var child = i
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ i: Int) {
        var parent = i
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count && before(heap[left], heap[best]) { best = left }
            if right < heap.count && before(heap[right], heap[best]) { best = right }
            guard best != parent else { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
