/// Writes Thrift messages for tests, following the binary and compact protocol specifications
/// (thrift/doc/specs/thrift-binary-protocol.md, thrift-compact-protocol.md). Independent of the
/// codec under test; the interop tests check both against Apache Thrift itself.
indirect enum TValue: Sendable {
    case bool(Bool), byte(Int8), i16(Int16), i32(Int32), i64(Int64), double(Double), string(String), binary([UInt8])
    case structure([(Int16, TValue)])
    case list(TType, [TValue]), set(TType, [TValue])
    case map(TType, TType, [(TValue, TValue)])
    case uuid([UInt8])

    var type: TType {
        switch self {
        case .bool: .bool
        case .byte: .byte
        case .i16: .i16
        case .i32: .i32
        case .i64: .i64
        case .double: .double
        case .string, .binary: .string
        case .structure: .structure
        case .list: .list
        case .set: .set
        case .map: .map
        case .uuid: .uuid
        }
    }
}

enum TType: Sendable {
    case bool, byte, i16, i32, i64, double, string, structure, list, set, map, uuid

    var binary: UInt8 {
        switch self {
        case .bool: 2
        case .byte: 3
        case .double: 4
        case .i16: 6
        case .i32: 8
        case .i64: 10
        case .string: 11
        case .structure: 12
        case .map: 13
        case .set: 14
        case .list: 15
        case .uuid: 16
        }
    }

    var compact: UInt8 {
        switch self {
        case .bool: 1
        case .byte: 3
        case .i16: 4
        case .i32: 5
        case .i64: 6
        case .double: 7
        case .string: 8
        case .list: 9
        case .set: 10
        case .map: 11
        case .structure: 12
        case .uuid: 13
        }
    }
}

struct ThriftTestEncoder {
    var compact: Bool
    var framed: Bool

    /// A whole message: header, then `body` as the args/result struct.
    func message(name: String, kind: UInt8, seqID: Int32, body: [(Int16, TValue)]) -> [UInt8] {
        var out: [UInt8] = []
        if compact {
            out += [0x82, 0x01 | kind << 5]
            out += varint(UInt64(UInt32(bitPattern: seqID)))
            out += varint(UInt64(name.utf8.count)) + Array(name.utf8)
        } else {
            out += be(UInt32(0x8001_0000) | UInt32(kind)) + be(UInt32(name.utf8.count)) + Array(name.utf8) + be(UInt32(bitPattern: seqID))
        }
        out += value(.structure(body))
        return framed ? be(UInt32(out.count)) + out : out
    }

    func value(_ v: TValue) -> [UInt8] {
        compact ? compactValue(v) : binaryValue(v)
    }

    private func binaryValue(_ v: TValue) -> [UInt8] {
        switch v {
        case .bool(let b): [b ? 1 : 0]
        case .byte(let b): [UInt8(bitPattern: b)]
        case .i16(let i): be(UInt16(bitPattern: i))
        case .i32(let i): be(UInt32(bitPattern: i))
        case .i64(let i): be(UInt64(bitPattern: i))
        case .double(let d): be(d.bitPattern)
        case .string(let s): be(UInt32(s.utf8.count)) + Array(s.utf8)
        case .binary(let b): be(UInt32(b.count)) + b
        case .uuid(let u): u
        case .structure(let fields):
            fields.flatMap { [ $0.1.type.binary ] + be(UInt16(bitPattern: $0.0)) + binaryValue($0.1) } + [0]
        case .list(let t, let items), .set(let t, let items):
            [t.binary] + be(UInt32(items.count)) + items.flatMap(binaryValue)
        case .map(let k, let vt, let entries):
            [k.binary, vt.binary] + be(UInt32(entries.count)) + entries.flatMap { binaryValue($0.0) + binaryValue($0.1) }
        }
    }

    private func compactValue(_ v: TValue) -> [UInt8] {
        switch v {
        case .bool(let b): [b ? 1 : 2]  // inside collections
        case .byte(let b): [UInt8(bitPattern: b)]
        case .i16(let i): varint(zigzag(Int64(i)))
        case .i32(let i): varint(zigzag(Int64(i)))
        case .i64(let i): varint(zigzag(i))
        case .double(let d): withUnsafeBytes(of: d.bitPattern.littleEndian, Array.init)
        case .string(let s): varint(UInt64(s.utf8.count)) + Array(s.utf8)
        case .binary(let b): varint(UInt64(b.count)) + b
        case .uuid(let u): u
        case .structure(let fields):
            compactStruct(fields)
        case .list(let t, let items), .set(let t, let items):
            (items.count < 15 ? [UInt8(items.count) << 4 | t.compact] : [0xf0 | t.compact] + varint(UInt64(items.count)))
                + items.flatMap(compactValue)
        case .map(let k, let vt, let entries):
            entries.isEmpty ? [0] : varint(UInt64(entries.count)) + [k.compact << 4 | vt.compact] + entries.flatMap { compactValue($0.0) + compactValue($0.1) }
        }
    }

    private func compactStruct(_ fields: [(Int16, TValue)]) -> [UInt8] {
        var out: [UInt8] = []
        var last: Int16 = 0
        for (id, v) in fields {
            var type = v.type.compact
            if case .bool(let b) = v { type = b ? 1 : 2 }
            let delta = Int(id) - Int(last)
            if delta > 0 && delta <= 15 {
                out.append(UInt8(delta) << 4 | type)
            } else {
                out.append(type)
                out += varint(zigzag(Int64(id)))
            }
            last = id
            if case .bool = v { continue }  // the value is in the type nibble
            out += compactValue(v)
        }
        return out + [0]
    }
}

func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }

func varint(_ v: UInt64) -> [UInt8] {
    var v = v
    var out: [UInt8] = []
    while v >= 0x80 {
        out.append(UInt8(v & 0x7f) | 0x80)
        v >>= 7
    }
    return out + [UInt8(v)]
}

func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

/// A body using every type, nested.
let everyTypeBody: [(Int16, TValue)] = [
    (1, .structure([
        (1, .string("hello")), (2, .binary([0, 1, 2, 255])), (3, .list(.i64, [.i64(0), .i64(-1), .i64(1 << 40)])),
        (4, .map(.string, .double, [(.string("a"), .double(0.5)), (.string("b"), .double(-1.25))])),
        (5, .set(.i16, [.i16(1), .i16(-2), .i16(300)])), (6, .bool(true)), (7, .byte(-7)), (20, .bool(false)),
        (30, .list(.bool, [.bool(true), .bool(false)])), (31, .uuid(Array(0..<16))), (32, .map(.i32, .i32, [])),
        (33, .list(.structure, [.structure([(1, .i32(5))])])), (-1, .i32(-100)),
        (40, .list(.byte, (0..<20).map { .byte(Int8($0)) })),
    ])),
    (2, .i32(3)),
]
