/// Reads the pieces of Thrift's binary and compact protocols: message headers, field headers,
/// integers and varints. Positions are relative to the start of `bytes`; ``ThriftBodyWalker``
/// uses it to walk message bodies.
///
/// Every length is checked before use. `truncated` is not necessarily invalid: on the unframed
/// transport it means the rest of the message has not arrived yet, and ``shortfallEnd`` says how
/// far the bytes would have to reach.
struct ThriftReader {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    let end: Int
    let compact: Bool
    /// After a `truncated` error: the position the bytes must reach for that read to succeed.
    var shortfallEnd = 0

    init(bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, compact: Bool) {
        self.bytes = bytes
        self.index = start
        self.end = end
        self.compact = compact
    }

    /// What a message header holds.
    struct Header {
        var kind: ThriftWire.MessageKind
        var seqID: Int32
        /// Position and length of the method name bytes.
        var nameStart: Int
        var nameLength: Int
        /// Position and length of the seq id's encoding.
        var seqIDStart: Int
        var seqIDLength: Int
    }

    // MARK: primitives

    mutating func readByte(_ what: StaticString) throws(ReadError) -> UInt8 {
        guard index < end else { throw short(what, needing: 1) }
        defer { index &+= 1 }
        return bytes[index]
    }

    mutating func skip(_ count: Int, _ what: StaticString) throws(ReadError) {
        guard count >= 0 else { throw .invalid("negative \(what) length \(count)", at: index) }
        guard count <= end &- index else { throw short(what, needing: count) }
        index &+= count
    }

    mutating func readInt32BE(_ what: StaticString) throws(ReadError) -> Int32 {
        guard end &- index >= 4 else { throw short(what, needing: 4) }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[index &+ i]) }
        index &+= 4
        return Int32(bitPattern: v)
    }

    mutating func readInt16BE(_ what: StaticString) throws(ReadError) -> Int16 {
        guard end &- index >= 2 else { throw short(what, needing: 2) }
        let v = UInt16(bytes[index]) << 8 | UInt16(bytes[index &+ 1])
        index &+= 2
        return Int16(bitPattern: v)
    }

    private mutating func short(_ what: StaticString, needing count: Int) -> ReadError {
        shortfallEnd = index &+ count
        return .truncated(what, at: index)
    }

    /// Unsigned LEB128 varint of at most `maxBytes` bytes.
    mutating func readVarint(_ what: StaticString, maxBytes: Int = 10) throws(ReadError) -> UInt64 {
        let start = index
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index &- start < maxBytes else { throw .invalid("\(what) varint longer than \(maxBytes) bytes", at: start) }
            let b = try readByte(what)
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    static func zigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    // MARK: header

    /// Reads a message header (strict binary or compact).
    mutating func readHeader() throws(ReadError) -> Header {
        let at = index
        if compact {
            let protocolID = try readByte("protocol id")
            guard protocolID == ThriftWire.compactProtocolID else { throw .invalid("compact protocol id 0x\(String(protocolID, radix: 16))", at: at) }
            let versionAndType = try readByte("version and type")
            guard versionAndType & ThriftWire.compactVersionMask == ThriftWire.compactVersion else {
                throw .invalid("compact protocol version \(versionAndType & ThriftWire.compactVersionMask)", at: at + 1)
            }
            let rawKind = versionAndType >> ThriftWire.compactTypeShift
            guard let kind = ThriftWire.MessageKind(rawValue: rawKind) else { throw .unknownType("message type", code: Int(rawKind), at: at + 1) }
            let seqStart = index
            let seq = try readVarint("seq id", maxBytes: 5)
            guard seq <= UInt32.max else { throw .invalid("seq id \(seq)", at: seqStart) }
            let seqLength = index - seqStart
            let nameLength = try readVarint("method name length", maxBytes: 5)
            guard nameLength <= Int32.max else { throw .invalid("method name length \(nameLength)", at: index) }
            let nameStart = index
            try skip(Int(nameLength), "method name")
            return Header(kind: kind, seqID: Int32(bitPattern: UInt32(seq)), nameStart: nameStart, nameLength: Int(nameLength),
                          seqIDStart: seqStart, seqIDLength: seqLength)
        }
        let versionWord = UInt32(bitPattern: try readInt32BE("version"))
        guard versionWord & ThriftWire.binaryVersionMask == ThriftWire.binaryVersion1 else {
            throw .invalid("binary protocol version word 0x\(String(versionWord, radix: 16)) (only strict binary is read)", at: at)
        }
        let rawKind = UInt8(versionWord & 0xff)
        guard let kind = ThriftWire.MessageKind(rawValue: rawKind) else { throw .unknownType("message type", code: Int(rawKind), at: at + 3) }
        let nameLength = Int(try readInt32BE("method name length"))
        let nameStart = index
        try skip(nameLength, "method name")
        let seqStart = index
        let seq = try readInt32BE("seq id")
        return Header(kind: kind, seqID: seq, nameStart: nameStart, nameLength: nameLength, seqIDStart: seqStart, seqIDLength: 4)
    }

    // MARK: structs

    /// Reads the next field header of a struct: nil at STOP, else the field id and type.
    mutating func readFieldHeader(lastID: inout Int16) throws(ReadError) -> (id: Int16, type: UInt8)? {
        let at = index
        let b = try readByte("field header")
        if b == 0 { return nil }  // STOP in both protocols
        if !compact {
            let id = try readInt16BE("field id")
            return (id, b)
        }
        let type = b & 0x0f
        let delta = b >> 4
        let id: Int16
        if delta == 0 {
            let raw = Self.zigzag(try readVarint("field id", maxBytes: 3))
            guard let v = Int16(exactly: raw) else { throw .invalid("field id \(raw)", at: at) }
            id = v
        } else {
            id = lastID &+ Int16(delta)
        }
        lastID = id
        return (id, type)
    }
}
