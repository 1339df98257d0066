import MetaProtocol
import NIOCore
import Testing

@testable import MetaProtocolCodecs

@Suite("Thrift codec: malformed messages")
struct ThriftMalformedTests {
    let codec = ThriftCodec()
    let binary = ThriftTestEncoder(compact: false, framed: false)
    let compact = ThriftTestEncoder(compact: true, framed: false)

    @Test func unknownFirstByteIsABadMagic() {
        let e = decodeError(codec, ascii("GET / HTTP/1.1\r\n"))
        #expect(e?.reason == .badMagic(found: 0x47))
        #expect(e?.offset == 0)
        // A frame size followed by neither protocol.
        #expect(decodeError(codec, [0, 0, 0, 5, 0x41])?.reason == .badMagic(found: 0x41))
    }

    @Test func unknownFieldTypes() {
        var b = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        b.insert(contentsOf: [0x11, 0x00, 0x01], at: b.count - 1)  // field of type 17, id 1
        let e = decodeError(codec, b)
        #expect(e?.reason == .unknownType("binary field type", code: 0x11))
        #expect(e?.offset == b.count - 1)

        var c = compact.message(name: "m", kind: 1, seqID: 1, body: [])
        c.insert(0x1e, at: c.count - 1)  // delta 1, type 14
        #expect(decodeError(codec, c)?.reason == .unknownType("compact field type", code: 0x0e))

        // A list of an unknown element type.
        var l = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        l.insert(contentsOf: [0x0f, 0x00, 0x01, 0x07, 0, 0, 0, 1], at: l.count - 1)
        #expect(decodeError(codec, l)?.reason == .unknownType("binary element type", code: 7))
    }

    @Test func unknownMessageTypeAndVersion() {
        var b = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        b[3] = 5
        #expect(decodeError(codec, b)?.reason == .unknownType("message type", code: 5))
        b[1] = 0x02
        #expect(decodeError(codec, b)?.reason == .invalidValue("binary protocol version word 0x80020005 (only strict binary is read)"))
        var c = compact.message(name: "m", kind: 1, seqID: 1, body: [])
        c[1] = 0x22  // version 2
        #expect(decodeError(codec, c)?.reason == .invalidValue("compact protocol version 2"))
    }

    @Test func negativeLengths() {
        var b = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        b.insert(contentsOf: [0x0b, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe], at: b.count - 1)  // string of length -2
        #expect(decodeError(codec, b)?.reason == .invalidValue("negative string length -2"))
        var m = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        m.insert(contentsOf: [0x0d, 0x00, 0x01, 0x08, 0x08, 0x80, 0, 0, 0], at: m.count - 1)
        #expect(decodeError(codec, m)?.reason == .invalidValue("map size -2147483648"))
    }

    @Test func overlongVarint() {
        var c = compact.message(name: "m", kind: 1, seqID: 1, body: [])
        c.insert(contentsOf: [0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], at: c.count - 1)  // i32 in 6 bytes
        #expect(decodeError(codec, c)?.reason == .invalidValue("i32 varint longer than 5 bytes"))
    }

    @Test func nestingIsCapped() {
        var value: TValue = .i32(1)
        for _ in 0..<100 { value = .structure([(Int16(1), value)]) }
        for e in [binary, compact] {
            #expect(decodeError(codec, e.message(name: "m", kind: 1, seqID: 1, body: [(1, value)]))?.reason == .nestingTooDeep(limit: 64))
        }
    }

    @Test func nestedListsAndMapsAreCappedToo() {
        // Lists of lists: one byte per level in compact, five in binary. A recursive walker
        // would need a stack frame per level; this one refuses past 64 levels.
        var c = compact.message(name: "m", kind: 1, seqID: 1, body: [])
        c.removeLast()
        c += [0x19] + [UInt8](repeating: 0x19, count: 100_000)
        #expect(decodeError(codec, c)?.reason == .nestingTooDeep(limit: 64))
        var b = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        b.removeLast()
        b += [0x0f, 0x00, 0x01]
        for _ in 0..<1000 { b += [0x0f, 0x00, 0x00, 0x00, 0x01] }
        #expect(decodeError(codec, b)?.reason == .nestingTooDeep(limit: 64))
        var m = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        m.removeLast()
        m += [0x0d, 0x00, 0x01]
        for _ in 0..<1000 { m += [0x08, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00] }  // map<i32, map<…>>, key 0
        #expect(decodeError(codec, m)?.reason == .nestingTooDeep(limit: 64))
    }

    @Test func anUnframedMessageResumesWhereItStopped() throws {
        // 20,000 small fields arriving in 1460-byte segments: each decode call continues the
        // walk where the previous one ran out of bytes instead of starting again.
        let body: [(Int16, TValue)] = [(1, .list(.string, (0..<20_000).map { .string("v\($0 % 10)") }))]
        let full = compact.message(name: "bulk", kind: 1, seqID: 9, body: body)
        var codec = ThriftCodec()
        var buffer = ByteBuffer()
        var offset = 0
        var positions: [Int] = []
        var message: Message?
        while message == nil, offset < full.count {
            let end = min(full.count, offset + 1460)
            buffer.writeBytes(full[offset..<end])
            offset = end
            message = try codec.decode(&buffer)
            if message == nil, let p = codec.resumePosition { positions.append(p) }
        }
        #expect(message?.requestID == 9)
        #expect(positions.count == (full.count - 1) / 1460)
        #expect(positions == positions.sorted() && Set(positions).count == positions.count, "every call moved the walk forward")
        #expect(zip(positions, 1...).allSatisfy { $0.0 > ($0.1 * 1460) - 64 }, "the walk reached the end of each segment")
    }

    @Test func anUnframedLengthPastTheCapIsRefusedAtOnce() {
        var b = binary.message(name: "m", kind: 1, seqID: 1, body: [])
        b.removeLast()
        b += [0x0b, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, 0x61]  // a 2 GiB string, one byte of it here
        let e = decodeError(codec, b)
        #expect(e?.reason == .frameTooLarge(size: b.count - 1 + 0x7fff_ffff, limit: 16_384_000))
    }

    @Test func framedSizeOverTheCapIsRefusedBeforeTheBodyArrives() {
        #expect(decodeError(codec, [0x00, 0xfa, 0x00, 0x01, 0x80])?.reason == .frameTooLarge(size: 16_384_001, limit: 16_384_000))
        let small = ThriftCodec(maxFrameSize: 64)
        let big = ThriftTestEncoder(compact: false, framed: true).message(name: "m", kind: 1, seqID: 1, body: [(1, .string(String(repeating: "x", count: 100)))])
        #expect(decodeError(small, big)?.reason == .frameTooLarge(size: big.count - 4, limit: 64))
    }

    @Test func unframedMessageLongerThanTheCap() {
        let small = ThriftCodec(maxFrameSize: 64)
        let big = binary.message(name: "m", kind: 1, seqID: 1, body: [(1, .string(String(repeating: "x", count: 100)))])
        #expect(decodeError(small, big)?.reason == .frameTooLarge(size: big.count, limit: 64))
    }

    @Test func aFrameHoldsExactlyOneMessage() {
        let framed = ThriftTestEncoder(compact: false, framed: true)
        var f = framed.message(name: "m", kind: 1, seqID: 1, body: [])
        f += [0x00, 0x00]
        f[3] += 2
        #expect(decodeError(codec, f)?.reason == .invalidValue("2 bytes after the message in its frame"))
        // A frame whose message runs past its end is invalid, not "waiting for more".
        var short = framed.message(name: "m", kind: 1, seqID: 1, body: [(1, .i64(5))])
        short.removeLast()
        short[3] -= 1
        #expect(decodeError(codec, short)?.reason == .truncated("field header"))
    }

    @Test func unframedPartialMessageWaits() throws {
        let full = binary.message(name: "m", kind: 1, seqID: 1, body: everyTypeBody)
        var codec = ThriftCodec()
        var buffer = ByteBuffer(bytes: full.dropLast())
        #expect(try codec.decode(&buffer) == nil)
        #expect(buffer.readableBytes == full.count - 1)
    }

    @Test func framingCannotChangeMidConnection() throws {
        let stream = binary.message(name: "m", kind: 1, seqID: 1, body: []) + compact.message(name: "m", kind: 1, seqID: 2, body: [])
        let e = decodeError(codec, stream)
        #expect(e?.reason == .invalidValue("frame in unframed compact after frames in unframed binary on the same connection"))
        #expect(e?.offset == binary.message(name: "m", kind: 1, seqID: 1, body: []).count)
    }

    @Test func corruptedMessagesNeverCrashOrHang() {
        let streams = allFramings.map { f in
            (0..<3).flatMap { encoder(f).message(name: "echo", kind: UInt8($0 % 2 + 1), seqID: Int32($0), body: everyTypeBody) }
        }
        let outcome = fuzz({ ThriftCodec() }, streams: streams, iterations: 20_000, seed: 0x7_4819)
        #expect(outcome.errors > 1000)
        #expect(outcome.waiting > 1000)
        #expect(outcome.decoded > 100)
    }
}

@Suite("Thrift codec: empty frames")
struct ThriftEmptyFrameTests {
    @Test func anEmptyFrameIsRefusedNotAwaited() {
        #expect(decodeError(ThriftCodec(), [0, 0, 0, 0])?.reason == .invalidValue("empty frame"))
        let first = ThriftTestEncoder(compact: true, framed: true).message(name: "m", kind: 1, seqID: 1, body: [])
        let e = decodeError(ThriftCodec(), first + [0, 0, 0, 0])
        #expect(e?.reason == .invalidValue("empty frame"))
        #expect(e?.offset == first.count)
    }
}
