/// Reads Thrift message headers and skips message bodies in the binary or compact protocol,
/// without building any value. Positions are relative to the start of `bytes`.
///
/// Every length is checked before use and nesting is capped, so any input ends in a value or a
/// ``ReadError``. `truncated` is not necessarily invalid: on the unframed transport it
/// means the rest of the message has not arrived yet.
struct ThriftReader {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    let end: Int
    let compact: Bool

    static let maxDepth = 64

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
        guard index < end else { throw .truncated(what, at: index) }
        defer { index &+= 1 }
        return bytes[index]
    }

    mutating func skip(_ count: Int, _ what: StaticString) throws(ReadError) {
        guard count >= 0 else { throw .invalid("negative \(what) length \(count)", at: index) }
        guard count <= end &- index else { throw .truncated(what, at: index) }
        index &+= count
    }

    mutating func readInt32BE(_ what: StaticString) throws(ReadError) -> Int32 {
        guard end &- index >= 4 else { throw .truncated(what, at: index) }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[index &+ i]) }
        index &+= 4
        return Int32(bitPattern: v)
    }

    mutating func readInt16BE(_ what: StaticString) throws(ReadError) -> Int16 {
        guard end &- index >= 2 else { throw .truncated(what, at: index) }
        let v = UInt16(bytes[index]) << 8 | UInt16(bytes[index &+ 1])
        index &+= 2
        return Int16(bitPattern: v)
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

    /// Skips the value of a struct field of `type` (in compact structs booleans have no value).
    mutating func skipFieldValue(type: UInt8, depth: Int) throws(ReadError) {
        if compact && (type == ThriftWire.CompactType.boolTrue || type == ThriftWire.CompactType.boolFalse) { return }
        try skipValue(type: type, depth: depth)
    }

    /// Skips a whole struct, up to and including its STOP.
    mutating func skipStruct(depth: Int) throws(ReadError) {
        guard depth < Self.maxDepth else { throw .tooDeep(limit: Self.maxDepth, at: index) }
        var lastID: Int16 = 0
        while let field = try readFieldHeader(lastID: &lastID) {
            try skipFieldValue(type: field.type, depth: depth + 1)
        }
    }

    /// Skips one value of `type`.
    mutating func skipValue(type: UInt8, depth: Int) throws(ReadError) {
        guard depth < Self.maxDepth else { throw .tooDeep(limit: Self.maxDepth, at: index) }
        compact ? try skipCompact(type: type, depth: depth) : try skipBinary(type: type, depth: depth)
    }

    private mutating func skipBinary(type: UInt8, depth: Int) throws(ReadError) {
        typealias T = ThriftWire.BinaryType
        let at = index
        switch type {
        case T.bool, T.byte: try skip(1, "byte")
        case T.i16: try skip(2, "i16")
        case T.i32: try skip(4, "i32")
        case T.i64, T.double: try skip(8, "i64 or double")
        case T.uuid: try skip(16, "uuid")
        case T.string: try skip(Int(try readInt32BE("string length")), "string")
        case T.structure: try skipStruct(depth: depth + 1)
        case T.map:
            let keyType = try readByte("map key type"), valueType = try readByte("map value type")
            let count = Int(try readInt32BE("map size"))
            guard count >= 0 else { throw .invalid("map size \(count)", at: at + 2) }
            if count > 0 { try checkBinaryType(keyType, at: at); try checkBinaryType(valueType, at: at + 1) }
            for _ in 0..<count {
                try skipBinary(type: keyType, depth: depth + 1)
                try skipBinary(type: valueType, depth: depth + 1)
            }
        case T.set, T.list:
            let elementType = try readByte("list element type")
            let count = Int(try readInt32BE("list size"))
            guard count >= 0 else { throw .invalid("list size \(count)", at: at + 1) }
            if count > 0 { try checkBinaryType(elementType, at: at) }
            for _ in 0..<count { try skipBinary(type: elementType, depth: depth + 1) }
        default:
            throw .unknownType("binary field type", code: Int(type), at: at)
        }
    }

    private func checkBinaryType(_ type: UInt8, at: Int) throws(ReadError) {
        typealias T = ThriftWire.BinaryType
        switch type {
        case T.bool, T.byte, T.double, T.i16, T.i32, T.i64, T.string, T.structure, T.map, T.set, T.list, T.uuid: return
        default: throw .unknownType("binary element type", code: Int(type), at: at)
        }
    }

    private mutating func skipCompact(type: UInt8, depth: Int) throws(ReadError) {
        typealias T = ThriftWire.CompactType
        let at = index
        switch type {
        case T.boolTrue, T.boolFalse, T.byte: try skip(1, "byte")
        case T.i16: _ = try readVarint("i16", maxBytes: 3)
        case T.i32: _ = try readVarint("i32", maxBytes: 5)
        case T.i64: _ = try readVarint("i64", maxBytes: 10)
        case T.double: try skip(8, "double")
        case T.uuid: try skip(16, "uuid")
        case T.binary:
            let length = try readVarint("binary length", maxBytes: 5)
            guard length <= Int32.max else { throw .invalid("binary length \(length)", at: at) }
            try skip(Int(length), "binary")
        case T.structure: try skipStruct(depth: depth + 1)
        case T.list, T.set:
            let header = try readByte("list header")
            var count = UInt64(header >> 4)
            if count == 15 { count = try readVarint("list size", maxBytes: 5) }
            guard count <= Int32.max else { throw .invalid("list size \(count)", at: at) }
            let elementType = header & 0x0f
            if count > 0 { try checkCompactType(elementType, at: at) }
            for _ in 0..<count { try skipCompact(type: elementType, depth: depth + 1) }
        case T.map:
            let count = try readVarint("map size", maxBytes: 5)
            guard count <= Int32.max else { throw .invalid("map size \(count)", at: at) }
            guard count > 0 else { return }
            let types = try readByte("map types")
            let keyType = types >> 4, valueType = types & 0x0f
            try checkCompactType(keyType, at: at)
            try checkCompactType(valueType, at: at)
            for _ in 0..<count {
                try skipCompact(type: keyType, depth: depth + 1)
                try skipCompact(type: valueType, depth: depth + 1)
            }
        default:
            throw .unknownType("compact field type", code: Int(type), at: at)
        }
    }

    private func checkCompactType(_ type: UInt8, at: Int) throws(ReadError) {
        guard (ThriftWire.CompactType.boolTrue...ThriftWire.CompactType.uuid).contains(type) else {
            throw .unknownType("compact element type", code: Int(type), at: at)
        }
    }

    /// Reads the `type` field (2, i32) of a `TApplicationException` struct, skipping the rest.
    mutating func readApplicationExceptionType() throws(ReadError) -> Int32? {
        var lastID: Int16 = 0
        var result: Int32?
        let i32 = compact ? ThriftWire.CompactType.i32 : ThriftWire.BinaryType.i32
        while let field = try readFieldHeader(lastID: &lastID) {
            if field.id == 2 && field.type == i32 {
                result = compact ? Int32(truncatingIfNeeded: Self.zigzag(try readVarint("i32", maxBytes: 5))) : try readInt32BE("i32")
            } else {
                try skipFieldValue(type: field.type, depth: 1)
            }
        }
        return result
    }
}
