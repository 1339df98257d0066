/// A hash map from non-zero `UInt64` ids to values, for the core's per-request lookups
/// (connections by id, requests in flight by upstream id).
///
/// Open addressing with linear probing and a multiplicative hash: the ids are the core's own
/// (sequential or random), so they need no seeded hashing, and `Dictionary`'s SipHash was a
/// tenth of the cost of a request. Values are changed in place (``withValue(_:_:)``), so a map
/// nested in a value stored in another map is never copied.
///
/// Inlinable, so that other modules (the simulator) get it specialized for their value types
/// instead of going through generic metadata on every call.
public struct IDMap<Value> {
    @usableFromInline var keys: [UInt64]
    @usableFromInline var values: [Value?]
    @usableFromInline var storedCount = 0
    /// Entries in the map.
    @inlinable public var count: Int { storedCount }
    @usableFromInline var mask: Int

    @inlinable
    public init(capacity: Int = 8) {
        var size = 8
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: nil, count: size)
        mask = size - 1
    }

    @inlinable
    public var isEmpty: Bool { storedCount == 0 }

    @inlinable @inline(__always)
    func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask }

    @inlinable
    func find(_ key: UInt64) -> Int? {
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return i }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    @inlinable
    public subscript(key: UInt64) -> Value? {
        find(key).flatMap { values[$0] }
    }

    /// Sets `key` to `value`, inserting it if new.
    @inlinable
    public mutating func set(_ key: UInt64, _ value: Value) {
        precondition(key != 0, "IDMap keys are non-zero")
        if let i = find(key) {
            values[i] = value
            return
        }
        if (count + 1) * 4 > keys.count * 3 { grow() }
        var i = slot(key)
        while keys[i] != 0 { i = (i + 1) & mask }
        keys[i] = key
        values[i] = value
        storedCount += 1
    }

    /// Changes the value of `key` in place; nil if `key` is absent.
    @inlinable @discardableResult
    public mutating func withValue<R>(_ key: UInt64, _ body: (inout Value) -> R) -> R? {
        guard let i = find(key) else { return nil }
        return body(&values[i]!)
    }

    /// Removes `key`, returning its value.
    @inlinable @discardableResult
    public mutating func remove(_ key: UInt64) -> Value? {
        guard var i = find(key) else { return nil }
        let value = values[i]
        keys[i] = 0
        values[i] = nil
        storedCount -= 1
        // Shift later entries of the probe run back, so lookups never stop at a false gap.
        var j = i
        while true {
            j = (j + 1) & mask
            if keys[j] == 0 { break }
            let home = slot(keys[j])
            let between = i <= j ? (home > i && home <= j) : (home > i || home <= j)
            if !between {
                keys[i] = keys[j]
                values[i] = values[j]
                keys[j] = 0
                values[j] = nil
                i = j
            }
        }
        return value
    }

    /// All entries, in ascending key order (deterministic, whatever the layout).
    @inlinable
    public var sortedEntries: [(key: UInt64, value: Value)] {
        var result: [(UInt64, Value)] = []
        result.reserveCapacity(count)
        for i in keys.indices where keys[i] != 0 { result.append((keys[i], values[i]!)) }
        return result.sorted { $0.0 < $1.0 }
    }

    @usableFromInline
    mutating func grow() {
        let old = sortedEntries
        keys = Array(repeating: 0, count: keys.count * 2)
        values = Array(repeating: nil, count: keys.count)
        mask = keys.count - 1
        storedCount = 0
        for (k, v) in old { set(k, v) }
    }
}
