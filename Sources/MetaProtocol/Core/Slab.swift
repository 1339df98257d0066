/// A key into a ``Slab``: a slot and the generation of its occupant, so a key to a finished
/// request never reaches the request that reused its slot.
public struct SlabKey: Hashable, Sendable, CustomStringConvertible {
    var slot: UInt32
    var generation: UInt32
    public var description: String { "\(slot).\(generation)" }
}

/// Records in reusable slots: inserting and removing allocate nothing once the slab has grown
/// to the peak number of records alive at once, and iteration order is slot order (never hash
/// order), which keeps runs deterministic.
struct Slab<Element> {
    private var slots: [Element?] = []
    private var generations: [UInt32] = []
    private var free: [UInt32] = []
    private(set) var count = 0

    mutating func insert(_ element: Element) -> SlabKey {
        count += 1
        if let slot = free.popLast() {
            slots[Int(slot)] = element
            return SlabKey(slot: slot, generation: generations[Int(slot)])
        }
        slots.append(element)
        generations.append(0)
        return SlabKey(slot: UInt32(slots.count - 1), generation: 0)
    }

    func contains(_ key: SlabKey) -> Bool {
        Int(key.slot) < slots.count && generations[Int(key.slot)] == key.generation && slots[Int(key.slot)] != nil
    }

    subscript(key: SlabKey) -> Element? {
        get { contains(key) ? slots[Int(key.slot)] : nil }
    }

    @discardableResult
    mutating func remove(_ key: SlabKey) -> Element? {
        guard contains(key) else { return nil }
        let element = slots[Int(key.slot)]
        slots[Int(key.slot)] = nil
        generations[Int(key.slot)] &+= 1
        free.append(key.slot)
        count -= 1
        return element
    }

    /// Keys of all live elements, in slot order.
    var keys: [SlabKey] {
        slots.indices.compactMap { i in slots[i] == nil ? nil : SlabKey(slot: UInt32(i), generation: generations[i]) }
    }
}
