import NIOCore

/// A string attribute of a message, read without copying when it can be.
///
/// Codecs record most attribute keys and values as ranges of the frame they decoded, so a decode
/// allocates nothing per attribute. Route matching compares those bytes directly; the `String`
/// is only built when something asks for it (``string``).
public struct AttributeText: Sendable, CustomStringConvertible {
    @usableFromInline
    enum Storage: Sendable {
        /// UTF-8 bytes inside a frame (a slice sharing the frame's storage).
        case bytes(ByteBuffer)
        /// Text the codec had to build (a number it formatted, a string it re-assembled).
        case string(String)
    }

    @usableFromInline
    var storage: Storage

    @inlinable
    init(storage: Storage) { self.storage = storage }

    /// Text held in a `String`.
    public init(_ string: String) { self.storage = .string(string) }

    /// UTF-8 bytes held in a buffer (usually a slice of a frame). The bytes must be valid UTF-8.
    public init(utf8 buffer: ByteBuffer) { self.storage = .bytes(buffer) }

    /// The text as a `String`. Allocates for slices longer than a small string.
    public var string: String {
        switch storage {
        case .string(let s): s
        case .bytes(let b): String(buffer: b)
        }
    }

    public var description: String { string }

    /// Number of UTF-8 bytes.
    @inlinable
    public var utf8Count: Int {
        switch storage {
        case .string(let s): s.utf8.count
        case .bytes(let b): b.readableBytes
        }
    }

    /// Calls `body` with the UTF-8 bytes, without building a `String`.
    @inlinable
    public func withUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .bytes(let b):
            return try b.withUnsafeReadableBytes(body)
        case .string(var s):
            return try s.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        }
    }

    /// Byte-wise equality with a `String`.
    @inlinable
    public func equals(_ other: String) -> Bool {
        var other = other
        return other.withUTF8 { o in
            withUTF8 { mine in
                mine.count == o.count && (o.count == 0 || memcmpEqual(mine, UnsafeRawBufferPointer(o), count: o.count, mineOffset: 0))
            }
        }
    }

    /// Whether the text starts with `prefix` (byte-wise, as route matching defines it).
    @inlinable
    public func hasPrefix(_ prefix: String) -> Bool {
        var prefix = prefix
        return prefix.withUTF8 { p in
            withUTF8 { mine in
                mine.count >= p.count && (p.count == 0 || memcmpEqual(mine, UnsafeRawBufferPointer(p), count: p.count, mineOffset: 0))
            }
        }
    }

    /// Whether the text ends with `suffix` (byte-wise).
    @inlinable
    public func hasSuffix(_ suffix: String) -> Bool {
        var suffix = suffix
        return suffix.withUTF8 { s in
            withUTF8 { mine in
                mine.count >= s.count
                    && (s.count == 0 || memcmpEqual(mine, UnsafeRawBufferPointer(s), count: s.count, mineOffset: mine.count - s.count))
            }
        }
    }

    /// Byte-wise equality of two texts, whatever their storage.
    public static func == (lhs: AttributeText, rhs: AttributeText) -> Bool {
        lhs.withUTF8 { l in
            rhs.withUTF8 { r in
                l.count == r.count && (l.count == 0 || memcmpEqual(l, r, count: l.count, mineOffset: 0))
            }
        }
    }
}

extension AttributeText: Equatable {}

@inlinable
func memcmpEqual(_ mine: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer, count: Int, mineOffset: Int) -> Bool {
    var i = 0
    while i < count {
        if mine[mineOffset &+ i] != other[i] { return false }
        i &+= 1
    }
    return true
}
