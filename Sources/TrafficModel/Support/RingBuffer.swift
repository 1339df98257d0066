/// A first-in-first-out line of values in a growable ring: no allocation once grown.
///
/// (Swift Collections' `Deque` does the same with more surface; this one is small enough to
/// keep the host's hot path free of a dependency and of generic indirection.)
public struct RingBuffer<Element> {
    private var storage: [Element?] = Array(repeating: nil, count: 16)
    private var head = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// The element that ``popFirst()`` would return.
    public var first: Element? { count == 0 ? nil : storage[head] }

    public mutating func append(_ e: Element) {
        if count == storage.count {
            let old = (0..<count).map { storage[(head + $0) % storage.count] }
            storage = old + Array(repeating: nil, count: old.count)
            head = 0
        }
        storage[(head + count) % storage.count] = e
        count += 1
    }

    public mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let e = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return e
    }
}

extension RingBuffer: Sendable where Element: Sendable {}
