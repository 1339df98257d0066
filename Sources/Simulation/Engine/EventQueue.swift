import MetaProtocol

/// The pending-event set of a simulation: a binary heap ordered by (time, insertion sequence),
/// so events due at the same instant run in the order they were scheduled — never in an order
/// that depends on anything but the run itself.
struct EventQueue<Event> {
    @usableFromInline
    struct Entry {
        var time: Int64
        var sequence: UInt64
        var event: Event
    }

    @usableFromInline var heap: [Entry] = []
    @usableFromInline var sequence: UInt64 = 0
    /// The most events ever pending at once.
    @usableFromInline var peak = 0

    init(capacity: Int = 1024) { heap.reserveCapacity(capacity) }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    var nextTime: Int64? { heap.first?.time }

    @inlinable
    mutating func push(_ event: Event, at time: Int64) {
        let entry = Entry(time: time, sequence: sequence, event: event)
        sequence &+= 1
        heap.append(entry)
        if heap.count > peak { peak = heap.count }
        // Sift up in the buffer itself: no uniqueness or bounds check per step.
        heap.withUnsafeMutableBufferPointer { h in
            var child = h.count - 1
            while child > 0 {
                let parent = (child - 1) >> 1
                let p = h[parent]
                guard entry.time < p.time || (entry.time == p.time && entry.sequence < p.sequence) else { break }
                h[child] = p
                child = parent
            }
            h[child] = entry
        }
    }

    @inlinable
    mutating func pop() -> (time: Int64, event: Event)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap.withUnsafeMutableBufferPointer { h in
                var parent = 0
                let count = h.count
                while true {
                    let left = 2 * parent + 1
                    if left >= count { break }
                    var best = left
                    let right = left + 1
                    if right < count {
                        let l = h[left], r = h[right]
                        if r.time < l.time || (r.time == l.time && r.sequence < l.sequence) { best = right }
                    }
                    let b = h[best]
                    guard b.time < last.time || (b.time == last.time && b.sequence < last.sequence) else { break }
                    h[parent] = b
                    parent = best
                }
                h[parent] = last
            }
        }
        return (first.time, first.event)
    }
}

/// Values in reusable numbered slots (an `Int32` names one), for the things events refer to:
/// messages on the wire, jobs at hosts. Allocates only to grow to the peak number alive.
struct Pool<Element> {
    private var slots: [Element?] = []
    private var free: [Int32] = []
    private(set) var count = 0
    /// The most elements ever alive at once (the slots allocated).
    var peak: Int { slots.count }

    mutating func insert(_ element: Element) -> Int32 {
        count += 1
        if let i = free.popLast() {
            slots[Int(i)] = element
            return i
        }
        slots.append(element)
        return Int32(slots.count - 1)
    }

    subscript(i: Int32) -> Element? { slots[Int(i)] }

    /// Changes the element in slot `i` in place.
    mutating func modify(_ i: Int32, _ body: (inout Element) -> Void) {
        if slots[Int(i)] != nil { body(&slots[Int(i)]!) }
    }

    mutating func remove(_ i: Int32) -> Element? {
        // Moved out, not copied: no retain and release of what the element holds.
        guard let e = slots[Int(i)].take() else { return nil }
        free.append(i)
        count -= 1
        return e
    }
}

/// A running hash of every dispatched event: two runs with the same hash dispatched the same
/// events at the same times in the same order.
struct TraceHash {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    mutating func mix(_ x: UInt64) {
        // SplitMix64's finalizer over the running value xor the input: cheap, well mixed.
        var z = value ^ x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        value = z ^ (z >> 31)
    }
}
