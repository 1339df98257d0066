import NIOCore
import Testing

@testable import MetaProtocolCodecs

/// The Hessian 2.0 skipper against one hand-written encoding of every production in the
/// grammar (caucho.com "Hessian 2.0 Serialization Protocol", section 3 and the byte code map).
@Suite("Hessian 2 reader and writer")
struct Hessian2Tests {
    static let values: [(String, [UInt8])] = [
        ("null", [0x4e]), ("true", [0x54]), ("false", [0x46]),
        ("int 0, one byte", [0x90]), ("int -16", [0x80]), ("int 47", [0xbf]),
        ("int, two bytes", [0xc8, 0x01]), ("int, three bytes", [0xd4, 0x01, 0x02]), ("int, four bytes", [0x49, 0, 0, 1, 0]),
        ("long, one byte", [0xe0]), ("long, two bytes", [0xf8, 0x10]), ("long, three bytes", [0x3c, 0x01, 0x02]),
        ("long as int", [0x59, 0, 0, 0, 1]), ("long, eight bytes", [0x4c, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("double 0.0", [0x5b]), ("double 1.0", [0x5c]), ("double as byte", [0x5d, 0x02]), ("double as short", [0x5e, 0x01, 0x00]),
        ("double as float", [0x5f, 0x3f, 0x80, 0, 0]), ("double", [0x44, 0x40, 0x28, 0x80, 0, 0, 0, 0, 0]),
        ("date, milliseconds", [0x4a, 0, 0, 0, 0xd0, 0x4b, 0x92, 0x84, 0xb8]), ("date, minutes", [0x4b, 0x00, 0xe3, 0x83, 0x8f]),
        ("short string", [0x03] + ascii("abc")), ("medium string", [0x30, 0x03] + ascii("abc")),
        ("'S' string", [0x53, 0x00, 0x03] + ascii("abc")),
        ("chunked string", [0x52, 0x00, 0x02] + ascii("ab") + [0x01] + ascii("c")),
        ("non-ASCII string (2 units: é, 日)", [0x02, 0xc3, 0xa9, 0xe6, 0x97, 0xa5]),
        ("supplementary character as UTF-8 (2 units)", [0x02, 0xf0, 0x9f, 0x98, 0x80]),
        ("short binary", [0x23, 1, 2, 3]), ("medium binary", [0x34, 0x02, 1, 2]), ("'B' binary", [0x42, 0x00, 0x01, 9]),
        ("chunked binary", [0x41, 0x00, 0x01, 9, 0x21, 8]),
        ("variable typed list", [0x55, 0x04] + ascii("[int") + [0x90, 0x91, 0x5a]),
        ("fixed typed list", [0x56, 0x04] + ascii("[int") + [0x92, 0x90, 0x91]),
        ("variable untyped list", [0x57, 0x90, 0x5a]), ("fixed untyped list", [0x58, 0x91, 0x4e]),
        ("direct typed list, type by reference", [0x72, 0x90, 0x90, 0x91]), ("direct untyped list", [0x79, 0x4e]),
        ("untyped map", [0x48, 0x91, 0x01] + ascii("a") + [0x5a]),
        ("typed map", [0x4d, 0x08] + ascii("java.Map") + [0x01] + ascii("k") + [0x90, 0x5a]),
        ("class definition and 'O' instance", [0x43, 0x01] + ascii("P") + [0x92, 0x01] + ascii("x") + [0x01] + ascii("y") + [0x4f, 0x90, 0x90, 0x4e]),
        ("class definition and direct instance", [0x43, 0x01] + ascii("P") + [0x91, 0x01] + ascii("x") + [0x60, 0x91]),
        ("reference", [0x51, 0x90]),
    ]

    @Test(arguments: values)
    func skipsExactlyOneValue(name: String, bytes: [UInt8]) throws {
        let padded = bytes + [0xee]  // a following value must stay unread
        try padded.withUnsafeBytes { raw in
            var r = Hessian2Reader(bytes: raw, from: 0, to: raw.count)
            try r.skipValue()
            #expect(r.index == bytes.count, "\(name)")
        }
    }

    @Test func everyTruncationOfEveryValueIsReportedNotOverread() {
        for (name, bytes) in Self.values where bytes.count > 1 {
            for cut in 1..<bytes.count {
                Array(bytes[0..<cut]).withUnsafeBytes { raw in
                    var r = Hessian2Reader(bytes: raw, from: 0, to: raw.count)
                    #expect(throws: ReadError.self, "\(name) cut to \(cut) bytes") { try r.skipValue() }
                }
            }
        }
    }

    private func read(_ bytes: [UInt8]) throws -> (Hessian2Reader.StringValue, Int) {
        try bytes.withUnsafeBytes { raw in
            var r = Hessian2Reader(bytes: raw, from: 0, to: raw.count)
            return (try r.readString(), r.index)
        }
    }

    private func text(_ v: Hessian2Reader.StringValue, in bytes: [UInt8]) -> String? {
        switch v {
        case .null: nil
        case .string(let s): s
        case .range(let start, let length): String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        }
    }

    @Test func stringsInOneChunkAreReadInPlace() throws {
        let bytes = [0x05] + ascii("hello")
        let (v, end) = try read(bytes)
        guard case .range(1, 5) = v else { Issue.record("expected a range, got \(v)"); return }
        #expect(end == 6)
    }

    @Test func chunkedStringsAreAssembled() throws {
        let bytes = [0x52, 0x00, 0x03] + ascii("abc") + [0x53, 0x00, 0x02] + ascii("de")
        let (v, _) = try read(bytes)
        #expect(text(v, in: bytes) == "abcde")
    }

    @Test func javaSurrogatePairsAreTranscoded() throws {
        // U+1F600 as Java's Hessian writes it: two 3-byte surrogates (CESU-8), length 2 units.
        let bytes: [UInt8] = [0x02, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]
        let (v, end) = try read(bytes)
        #expect(text(v, in: bytes) == "😀")
        #expect(end == bytes.count)
    }

    @Test func nullIsNotAString() throws {
        let (v, _) = try read([0x4e])
        guard case .null = v else { Issue.record("expected null"); return }
    }

    @Test(arguments: ["", "a", String(repeating: "x", count: 31), String(repeating: "y", count: 32), String(repeating: "z", count: 1023),
                      String(repeating: "w", count: 1024), String(repeating: "v", count: 70_000), "héllo wörld 日本", "a😀b",
                      String(repeating: "😀", count: 20_000)])
    func writerAndReaderAgreeOnStrings(_ s: String) throws {
        var out = ByteBuffer()
        Hessian2Writer.writeString(s, into: &out)
        let bytes = Array(out.readableBytesView)
        let (v, end) = try read(bytes)
        #expect(text(v, in: bytes) == s)
        #expect(end == bytes.count)
    }

    @Test(arguments: [0, -16, 47, 48, -17, -2048, 2047, 2048, -2049, -262_144, 262_143, 262_144, Int32.max, Int32.min] as [Int32])
    func writerAndReaderAgreeOnInts(_ v: Int32) throws {
        var out = ByteBuffer()
        Hessian2Writer.writeInt(v, into: &out)
        let bytes = Array(out.readableBytesView)
        let (read, end) = try bytes.withUnsafeBytes { raw in
            var r = Hessian2Reader(bytes: raw, from: 0, to: raw.count)
            return (try r.readInt(), r.index)
        }
        #expect(read == v)
        #expect(end == bytes.count)
    }
}
