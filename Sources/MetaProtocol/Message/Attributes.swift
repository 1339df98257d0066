import NIOCore

/// The routable string attributes of a message: `method`, `interface`, `cmd`, attachments…
///
/// Keys and values that lie in the frame are kept as offsets into it, so a codec records an
/// attribute without allocating; the whole collection costs one array. Lookups compare bytes.
/// When a key appears twice the first entry wins, so codecs append their primary attributes
/// (`interface`, `method`) before free-form ones (attachments).
public struct Attributes: Sendable {
    @usableFromInline
    enum Text: Sendable {
        /// `length` UTF-8 bytes at `offset` within ``frame``.
        case range(offset: UInt32, length: UInt32)
        case string(String)
    }

    @usableFromInline
    struct Entry: Sendable {
        var key: Text
        var value: Text
    }

    /// The buffer that `.range` entries point into (the message's frame).
    @usableFromInline
    var frame: ByteBuffer
    @usableFromInline
    var entries: [Entry]

    /// Empty attributes whose ranges will refer to `frame`.
    public init(frame: ByteBuffer, reservingCapacity capacity: Int = 0) {
        self.frame = frame
        self.entries = []
        if capacity > 0 { entries.reserveCapacity(capacity) }
    }

    /// Empty attributes with no backing frame (only `String` entries can be added).
    public init() {
        self.init(frame: ByteBuffer())
    }

    /// Number of entries, duplicates included.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Appends an entry whose key and value are UTF-8 byte ranges of the frame
    /// (offsets relative to the frame's reader index).
    public mutating func append(keyAt keyOffset: Int, keyLength: Int, valueAt valueOffset: Int, valueLength: Int) {
        entries.append(Entry(
            key: .range(offset: UInt32(keyOffset), length: UInt32(keyLength)),
            value: .range(offset: UInt32(valueOffset), length: UInt32(valueLength))))
    }

    /// Appends an entry with a literal key and a frame range as value.
    public mutating func append(key: String, valueAt valueOffset: Int, valueLength: Int) {
        entries.append(Entry(key: .string(key), value: .range(offset: UInt32(valueOffset), length: UInt32(valueLength))))
    }

    /// Appends an entry with a frame range as key and a built value.
    public mutating func append(keyAt keyOffset: Int, keyLength: Int, value: String) {
        entries.append(Entry(key: .range(offset: UInt32(keyOffset), length: UInt32(keyLength)), value: .string(value)))
    }

    /// Appends an entry with literal key and value.
    public mutating func append(key: String, value: String) {
        entries.append(Entry(key: .string(key), value: .string(value)))
    }

    /// Sets `key` to `value`: replaces the first entry with that key, or appends one.
    public mutating func set(_ key: String, to value: String) {
        if let i = index(of: key) {
            entries[i].value = .string(value)
        } else {
            append(key: key, value: value)
        }
    }

    /// The value of the first entry with this key.
    public subscript(key: String) -> AttributeText? {
        guard let i = index(of: key) else { return nil }
        return text(entries[i].value)
    }

    /// Whether an entry with this key exists.
    public func contains(_ key: String) -> Bool { index(of: key) != nil }

    /// Calls `body` with each key and value in order (duplicates included).
    public func forEach(_ body: (AttributeText, AttributeText) throws -> Void) rethrows {
        for e in entries {
            try body(text(e.key), text(e.value))
        }
    }

    /// The entries as `String` pairs, in order. Allocates; meant for logs, tests and tools.
    public var pairs: [(key: String, value: String)] {
        entries.map { (text($0.key).string, text($0.value).string) }
    }

    @usableFromInline
    func text(_ t: Text) -> AttributeText {
        switch t {
        case .string(let s):
            return AttributeText(s)
        case .range(let offset, let length):
            let start = frame.readerIndex + Int(offset)
            return AttributeText(utf8: frame.getSlice(at: start, length: Int(length))!)
        }
    }

    @usableFromInline
    func index(of key: String) -> Int? {
        // Keys the codec wrote as strings (`method`, `cmd`…) compare as strings, which for
        // short keys is a compare of two words; keys in the frame compare byte by byte.
        var hasRanges = false
        for (i, e) in entries.enumerated() {
            switch e.key {
            case .string(let s): if s == key { return i }
            case .range: hasRanges = true
            }
        }
        guard hasRanges else { return nil }
        var key = key
        return key.withUTF8 { k -> Int? in
            frame.withUnsafeReadableBytes { f -> Int? in
                for (i, e) in entries.enumerated() {
                    guard case .range(let offset, let length) = e.key, Int(length) == k.count else { continue }
                    if k.count == 0 || memcmpEqual(f, UnsafeRawBufferPointer(k), count: k.count, mineOffset: Int(offset)) { return i }
                }
                return nil
            }
        }
    }
}

extension Attributes: CustomStringConvertible {
    public var description: String {
        "[" + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "]"
    }
}
