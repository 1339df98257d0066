/// Reads just enough of Hessian 2.0 (the serialization of Dubbo 2.x bodies) to find what the
/// proxy routes on: strings are read in place, every other value is skipped without being built.
///
/// Works on the raw bytes of one frame; `index` is relative to the frame's first byte. Every
/// length is checked against the end before it is used and nesting is capped, so hostile bytes
/// end in a ``ReadError`` rather than a crash, a hang or deep recursion.
///
/// Byte codes follow the Hessian 2.0 serialization grammar (caucho.com/resin-3.1/doc/hessian-serialization.xtp).
struct Hessian2Reader {
    let bytes: UnsafeRawBufferPointer
    /// Position of the next byte to read, relative to the frame start.
    var index: Int
    /// One past the last byte this reader may read.
    let end: Int
    /// Field counts of the class definitions seen so far (`C`), indexed by definition number.
    private var classFieldCounts: [Int] = []

    /// Nesting deeper than this is refused: real Dubbo payloads stay far below it.
    static let maxDepth = 64
    /// Class definitions one frame may make (each costs the reader memory).
    static let maxClassDefinitions = 1024
    /// Characters per string chunk that Hessian writers use before starting a new chunk.
    static let maxChunk = 0x8000

    init(bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        self.bytes = bytes
        self.index = start
        self.end = end
    }

    var isAtEnd: Bool { index >= end }

    // MARK: primitives

    mutating func readByte(_ what: StaticString = "value") throws(ReadError) -> UInt8 {
        guard index < end else { throw .truncated(what, at: index) }
        let b = bytes[index]
        index &+= 1
        return b
    }

    func peekByte(_ what: StaticString = "value") throws(ReadError) -> UInt8 {
        guard index < end else { throw .truncated(what, at: index) }
        return bytes[index]
    }

    mutating func skip(_ count: Int, _ what: StaticString) throws(ReadError) {
        guard count >= 0, count <= end &- index else { throw .truncated(what, at: index) }
        index &+= count
    }

    mutating func readUInt16(_ what: StaticString) throws(ReadError) -> Int {
        guard end &- index >= 2 else { throw .truncated(what, at: index) }
        let v = Int(bytes[index]) << 8 | Int(bytes[index &+ 1])
        index &+= 2
        return v
    }

    /// Reads an `int` production (lengths, class references, type references).
    mutating func readInt() throws(ReadError) -> Int32 {
        let at = index
        let code = try readByte("int")
        switch code {
        case 0x80...0xbf:
            return Int32(code) - 0x90
        case 0xc0...0xcf:
            let b0 = try readByte("int")
            return (Int32(code) - 0xc8) << 8 | Int32(b0)
        case 0xd0...0xd7:
            let hi = try readByte("int"), lo = try readByte("int")
            return (Int32(code) - 0xd4) << 16 | Int32(hi) << 8 | Int32(lo)
        case 0x49:
            guard end &- index >= 4 else { throw .truncated("int", at: index) }
            var v: UInt32 = 0
            for i in 0..<4 { v = v << 8 | UInt32(bytes[index &+ i]) }
            index &+= 4
            return Int32(bitPattern: v)
        default:
            throw .unknownType("Hessian 2 code for int", code: Int(code), at: at)
        }
    }

    // MARK: strings

    /// A string read from the frame.
    enum StringValue {
        /// A run of UTF-8 bytes in the frame (one chunk, no CESU-8 surrogate pairs).
        case range(start: Int, length: Int)
        /// Text that had to be assembled (several chunks) or transcoded (CESU-8 surrogates).
        case string(String)
        /// Hessian `null` where a string was expected.
        case null
    }

    /// Whether the next value is a string (or null).
    func nextIsString() throws(ReadError) -> Bool {
        switch try peekByte("string") {
        case 0x00...0x1f, 0x30...0x33, 0x52, 0x53, 0x4e: true
        default: false
        }
    }

    /// Reads a `string` production (or `null`).
    mutating func readString() throws(ReadError) -> StringValue {
        var firstChunk: (start: Int, length: Int)?
        var pieces: [UInt8] = []
        var needsTranscoding = false
        var final = false
        var chunkCount = 0
        while !final {
            guard let chunk = try readStringChunkHeader(first: chunkCount == 0) else { return .null }
            final = chunk.final
            let dataStart = index
            needsTranscoding = try skipUTF8Characters(chunk.chars) || needsTranscoding
            chunkCount += 1
            if chunkCount == 1 && final {
                firstChunk = (dataStart, index - dataStart)
            } else {
                pieces.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[dataStart..<index]))
            }
        }
        if let firstChunk, !needsTranscoding {
            return .range(start: firstChunk.start, length: firstChunk.length)
        }
        if let firstChunk {
            pieces = Array(UnsafeRawBufferPointer(rebasing: bytes[firstChunk.start..<(firstChunk.start + firstChunk.length)]))
        }
        return .string(needsTranscoding ? Self.decodeCESU8(pieces) : String(decoding: pieces, as: UTF8.self))
    }

    /// Skips `count` characters (UTF-16 code units, as Hessian counts them) of UTF-8 data.
    /// Returns whether the data holds CESU-8 surrogates, which need transcoding to be read.
    private mutating func skipUTF8Characters(_ count: Int) throws(ReadError) -> Bool {
        var remaining = count
        var i = index
        var surrogates = false
        let end = self.end
        while remaining > 0 {
            // ASCII fast path: eight bytes at a time while none has its high bit set.
            while remaining >= 8, end &- i >= 8 {
                let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                i &+= 8
                remaining &-= 8
            }
            if remaining == 0 { break }
            guard i < end else { throw .truncated("string data", at: i) }
            let lead = bytes[i]
            let width: Int
            var units = 1
            // The smallest and largest second byte the lead allows: a character has one
            // spelling only. Java's reader decodes overlong forms (`C1 A1` is `a`) and ignores a
            // continuation byte's top bits, so anything else would let a name we compare differ
            // from the name the provider reads.
            var second: ClosedRange<UInt8> = 0x80...0xbf
            switch lead {
            case 0x00...0x7f: width = 1
            case 0xc2...0xdf: width = 2
            case 0xe0...0xef:
                width = 3
                if lead == 0xe0 { second = 0xa0...0xbf }
                // ED A0…BF is a UTF-16 surrogate, which Java writes for characters outside the BMP (CESU-8).
                if lead == 0xed, i &+ 1 < end, bytes[i &+ 1] >= 0xa0 { surrogates = true }
            case 0xf0...0xf4:
                width = 4; units = 2
                if lead == 0xf0 { second = 0x90...0xbf } else if lead == 0xf4 { second = 0x80...0x8f }
            case 0xc0, 0xc1: throw .invalid("overlong UTF-8 (lead byte 0x\(String(lead, radix: 16))) in string", at: i)
            default: throw .invalid("UTF-8 lead byte 0x\(String(lead, radix: 16)) in string", at: i)
            }
            guard end &- i >= width else { throw .truncated("string data", at: i) }
            if width > 1 {
                guard second.contains(bytes[i &+ 1]) else {
                    throw .invalid("overlong or malformed UTF-8 (0x\(String(lead, radix: 16)) 0x\(String(bytes[i &+ 1], radix: 16))) in string", at: i &+ 1)
                }
                var k = 2
                while k < width {
                    guard bytes[i &+ k] & 0xc0 == 0x80 else { throw .invalid("UTF-8 continuation byte expected in string", at: i &+ k) }
                    k &+= 1
                }
            }
            guard units <= remaining else { throw .invalid("surrogate pair split across string length", at: i) }
            i &+= width
            remaining &-= units
        }
        index = i
        return surrogates
    }

    /// Decodes CESU-8 / modified UTF-8 (what Java writes for characters outside the BMP).
    static func decodeCESU8(_ data: [UInt8]) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(data.count)
        var i = 0
        while i < data.count {
            let b = data[i]
            switch b {
            case 0x00...0x7f:
                units.append(UInt16(b)); i += 1
            case 0xc0...0xdf where i + 1 < data.count:
                units.append(UInt16(b & 0x1f) << 6 | UInt16(data[i + 1] & 0x3f)); i += 2
            case 0xe0...0xef where i + 2 < data.count:
                units.append(UInt16(b & 0x0f) << 12 | UInt16(data[i + 1] & 0x3f) << 6 | UInt16(data[i + 2] & 0x3f)); i += 3
            case 0xf0...0xf7 where i + 3 < data.count:
                let scalar = UInt32(b & 0x07) << 18 | UInt32(data[i + 1] & 0x3f) << 12 | UInt32(data[i + 2] & 0x3f) << 6 | UInt32(data[i + 3] & 0x3f)
                if (0x10000...0x10ffff).contains(scalar) {
                    let v = scalar - 0x10000
                    units.append(UInt16(0xd800 + (v >> 10)))
                    units.append(UInt16(0xdc00 + (v & 0x3ff)))
                } else {
                    units.append(0xfffd)  // overlong or out of range
                }
                i += 4
            default:
                units.append(0xfffd); i += 1
            }
        }
        return String(decoding: units, as: UTF16.self)
    }

    // MARK: skipping values

    /// Skips one `value` production, whatever it is.
    mutating func skipValue(depth: Int = 0) throws(ReadError) {
        guard depth < Self.maxDepth else { throw .tooDeep(limit: Self.maxDepth, at: index) }
        let at = index
        let code = try readByte()
        switch code {
        case 0x4e, 0x46, 0x54, 0x5b, 0x5c, 0x80...0xbf, 0xd8...0xef:
            return  // null, false, true, double 0.0 / 1.0, compact int, compact long
        case 0x00...0x1f, 0x30...0x33, 0x52, 0x53:
            index = at
            _ = try skipString()
        case 0x20...0x2f, 0x34...0x37, 0x41, 0x42:
            index = at
            try skipBinary()
        case 0x38...0x3f, 0xd0...0xd7, 0x5e:
            try skip(2, "number")
        case 0xc0...0xcf, 0xf0...0xff, 0x5d:
            try skip(1, "number")
        case 0x49, 0x59, 0x4b, 0x5f:
            try skip(4, "number")
        case 0x44, 0x4c, 0x4a:
            try skip(8, "number")
        case 0x43:  // class definition, then the value that uses it (a chain of them nests)
            try readClassDefinition()
            try skipValue(depth: depth + 1)
        case 0x4f:  // object instance by definition number
            try skipObjectFields(definition: Int(try readInt()), at: at, depth: depth)
        case 0x60...0x6f:  // object with a direct definition number
            try skipObjectFields(definition: Int(code) - 0x60, at: at, depth: depth)
        case 0x51:  // reference to an earlier map, list or object
            _ = try readInt()
        case 0x48:  // untyped map
            try skipEntriesUntilEnd(valuesPerEntry: 2, depth: depth)
        case 0x4d:  // typed map
            try skipType()
            try skipEntriesUntilEnd(valuesPerEntry: 2, depth: depth)
        case 0x55:  // variable-length typed list
            try skipType()
            try skipEntriesUntilEnd(valuesPerEntry: 1, depth: depth)
        case 0x57:  // variable-length untyped list
            try skipEntriesUntilEnd(valuesPerEntry: 1, depth: depth)
        case 0x56:  // fixed-length typed list
            try skipType()
            try skipValues(count: Int(try readInt()), depth: depth)
        case 0x58:  // fixed-length untyped list
            try skipValues(count: Int(try readInt()), depth: depth)
        case 0x70...0x77:
            try skipType()
            try skipValues(count: Int(code) - 0x70, depth: depth)
        case 0x78...0x7f:
            try skipValues(count: Int(code) - 0x78, depth: depth)
        case 0x5a:
            throw .unknownType("Hessian 2 code for value (list/map end outside a list or map)", code: Int(code), at: at)
        default:  // 0x40, 0x45, 0x47, 0x50: reserved
            throw .unknownType("Hessian 2 code for value", code: Int(code), at: at)
        }
    }

    /// Skips a string (all its chunks) without assembling it; returns whether it was `null`.
    /// Skipping never allocates, so a frame's cost does not grow with its payload.
    @discardableResult
    private mutating func skipString() throws(ReadError) -> Bool {
        var first = true
        while true {
            guard let chunk = try readStringChunkHeader(first: first) else { return true }
            _ = try skipUTF8Characters(chunk.chars)
            if chunk.final { return false }
            first = false
        }
    }

    /// Reads the header of one string chunk: its length in characters and whether it is the
    /// last chunk; nil for `null` (allowed only in place of the first chunk).
    private mutating func readStringChunkHeader(first: Bool) throws(ReadError) -> (chars: Int, final: Bool)? {
        let at = index
        let code = try readByte("string")
        switch code {
        case 0x4e where first: return nil
        case 0x00...0x1f: return (Int(code), true)
        case 0x30...0x33: return ((Int(code) - 0x30) << 8 | Int(try readByte("string length")), true)
        case 0x53: return (try readUInt16("string length"), true)
        case 0x52: return (try readUInt16("string length"), false)
        default: throw .unknownType("Hessian 2 code for \(first ? "string" : "string chunk")", code: Int(code), at: at)
        }
    }

    private mutating func skipBinary() throws(ReadError) {
        while true {
            let at = index
            let code = try readByte("binary")
            switch code {
            case 0x20...0x2f: try skip(Int(code) - 0x20, "binary data"); return
            case 0x34...0x37: try skip((Int(code) - 0x34) << 8 | Int(try readByte("binary length")), "binary data"); return
            case 0x42: try skip(try readUInt16("binary length"), "binary data"); return
            case 0x41: try skip(try readUInt16("binary length"), "binary data")
            default: throw .unknownType("Hessian 2 code for binary chunk", code: Int(code), at: at)
            }
        }
    }

    /// `type ::= string | int` (a type name or a reference to an earlier one).
    private mutating func skipType() throws(ReadError) {
        switch try peekByte("type") {
        case 0x00...0x1f, 0x30...0x33, 0x52, 0x53:
            if try skipString() { throw .invalid("null type name", at: index) }
        default:
            _ = try readInt()
        }
    }

    private mutating func readClassDefinition() throws(ReadError) {
        let at = index
        guard classFieldCounts.count < Self.maxClassDefinitions else {
            throw .invalid("more than \(Self.maxClassDefinitions) class definitions", at: at - 1)
        }
        if try skipString() { throw .invalid("null class name", at: at) }
        let fields = Int(try readInt())
        guard fields >= 0, fields <= end - index else { throw .invalid("class field count \(fields)", at: at) }
        for _ in 0..<fields {
            if try skipString() { throw .invalid("null field name", at: index) }
        }
        classFieldCounts.append(fields)
    }

    private mutating func skipObjectFields(definition: Int, at: Int, depth: Int) throws(ReadError) {
        guard definition >= 0, definition < classFieldCounts.count else {
            throw .invalid("object refers to undefined class definition \(definition)", at: at)
        }
        try skipValues(count: classFieldCounts[definition], depth: depth)
    }

    private mutating func skipValues(count: Int, depth: Int) throws(ReadError) {
        // Every value takes at least one byte: a count beyond the remaining bytes is a lie.
        guard count >= 0, count <= end &- index else { throw .truncated("list values", at: index) }
        for _ in 0..<count { try skipValue(depth: depth + 1) }
    }

    private mutating func skipEntriesUntilEnd(valuesPerEntry: Int, depth: Int) throws(ReadError) {
        while try peekByte("list or map end") != 0x5a {
            for _ in 0..<valuesPerEntry { try skipValue(depth: depth + 1) }
        }
        index &+= 1
    }

    // MARK: maps

    /// Opens a map (`H`, or `M` with its type) and returns true; returns false for `null`.
    mutating func readMapStart() throws(ReadError) -> Bool {
        let at = index
        let code = try readByte("map")
        switch code {
        case 0x48: return true
        case 0x4d: try skipType(); return true
        case 0x4e: return false
        default: throw .unknownType("Hessian 2 code for map", code: Int(code), at: at)
        }
    }

    /// Consumes the map end marker if it is next.
    mutating func readMapEnd() throws(ReadError) -> Bool {
        if try peekByte("map end") == 0x5a {
            index &+= 1
            return true
        }
        return false
    }
}
