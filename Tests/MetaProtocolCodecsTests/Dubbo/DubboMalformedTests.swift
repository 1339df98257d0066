import MetaProtocol
import NIOCore
import Testing

@testable import MetaProtocolCodecs

/// Every way a Dubbo frame can be wrong gives a `CodecError` naming the offset and the reason.
@Suite("Dubbo codec: malformed frames")
struct DubboMalformedTests {
    let codec = DubboCodec()

    /// The request fixture with its body (after the 16-byte header) replaced; the body length
    /// is fixed up so only the body is wrong.
    private func request(body: [UInt8]) -> [UInt8] {
        var bytes = Array(DubboFixtures.request[0..<12])
        bytes += withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init)
        return bytes + body
    }

    /// Body of the request fixture up to (not including) the argument "world"; the argument
    /// starts at frame offset 73 and the attachments at 79.
    private var bodyBeforeArgument: [UInt8] { Array(DubboFixtures.request[16..<73]) }

    @Test func badMagicIsRefusedFromTheFirstByte() {
        #expect(decodeError(codec, [0xca])?.reason == .badMagic(found: 0xca))
        #expect(decodeError(codec, [0xda, 0xbc])?.reason == .badMagic(found: 0xdabc))
        let e = decodeError(codec, [0x47, 0x45, 0x54, 0x20])  // "GET "
        #expect(e?.protocolName == "dubbo")
        #expect(e?.offset == 0)
        #expect(e?.description == "dubbo: invalid bytes at offset 0: bad magic 0x47")
    }

    @Test func offsetsCountFromTheStartOfTheConnection() {
        // A valid frame, then garbage: the error points past the first frame.
        let e = decodeError(codec, DubboFixtures.heartbeat + [0x00, 0x01])
        #expect(e?.offset == DubboFixtures.heartbeat.count)
    }

    @Test func bodyLengthOverTheCapIsRefusedBeforeTheBodyArrives() {
        var header = Array(DubboFixtures.request[0..<16])
        header[12...15] = [0x01, 0x00, 0x00, 0x01]  // 16 MiB + 1
        #expect(decodeError(codec, header)?.reason == .frameTooLarge(size: 16_777_217, limit: 16_777_216))
        header[12...15] = [0xff, 0xff, 0xff, 0xff]  // negative as Dubbo's Int32
        #expect(decodeError(codec, header)?.reason == .frameTooLarge(size: 4_294_967_295, limit: 16_777_216))
        let small = DubboCodec(maxBodySize: 100)
        #expect(decodeError(small, DubboFixtures.request)?.reason == .frameTooLarge(size: 107, limit: 100))
    }

    @Test func onlyHessian2IsRead() {
        var bytes = DubboFixtures.request
        bytes[2] = 0xc0 | 6  // serialization id 6 (fastjson)
        let e = decodeError(codec, bytes)
        #expect(e?.reason == .unsupported("serialization id 6 (only Hessian 2, id 2)"))
        #expect(e?.offset == 2)
    }

    @Test func truncatedHessianInsideACompleteFrame() {
        // The attachments map loses its terminating 'Z'.
        let body = Array(DubboFixtures.request[16..<(DubboFixtures.request.count - 1)])
        let e = decodeError(codec, request(body: body))
        #expect(e?.reason == .truncated("map end"))
        #expect(e?.offset == 122)
        // A string announcing more characters than the frame holds.
        #expect(decodeError(codec, request(body: bodyBeforeArgument + [0x1f, 0x61]))?.reason == .truncated("string data"))
    }

    @Test(arguments: [0x40, 0x45, 0x47, 0x50] as [UInt8])
    func reservedHessianCodesAreUnknown(code: UInt8) {
        let e = decodeError(codec, request(body: bodyBeforeArgument + [code]))
        #expect(e?.reason == .unknownType("Hessian 2 code for value", code: Int(code)))
        #expect(e?.offset == 73)
    }

    @Test func listEndOutsideAListIsInvalid() {
        let e = decodeError(codec, request(body: bodyBeforeArgument + [0x5a]))
        #expect(e?.reason == .unknownType("Hessian 2 code for value (list/map end outside a list or map)", code: 0x5a))
    }

    @Test func badParameterDescriptor() {
        var body = Array(DubboFixtures.request[16..<54])  // up to the descriptor
        body += [0x02] + ascii("LQ")  // "LQ": a class name without ';'
        body += Array(DubboFixtures.request[73...])
        #expect(decodeError(codec, request(body: body))?.reason == .invalidValue("parameter types descriptor: class name without ';'"))
        var body2 = Array(DubboFixtures.request[16..<54])
        body2 += [0x01] + ascii("Q")
        #expect(decodeError(codec, request(body: body2))?.reason == .invalidValue("parameter types descriptor: unexpected 'Q'"))
    }

    @Test func bytesAfterTheAttachmentsAreRefused() {
        let body = Array(DubboFixtures.request[16...]) + [0x4e]
        #expect(decodeError(codec, request(body: body))?.reason == .invalidValue("1 bytes after the attachments"))
    }

    @Test func objectOfAnUndefinedClass() {
        let e = decodeError(codec, request(body: bodyBeforeArgument + [0x61, 0x4e]))
        #expect(e?.reason == .invalidValue("object refers to undefined class definition 1"))
    }

    @Test func nestingIsCapped() {
        // 100 nested one-element untyped lists around a null.
        let body = bodyBeforeArgument + [UInt8](repeating: 0x79, count: 100) + [0x4e] + Array(DubboFixtures.request[79...])
        #expect(decodeError(codec, request(body: body))?.reason == .nestingTooDeep(limit: 64))
    }

    @Test func chainsOfClassDefinitionsNest() {
        // "C" (class "", 0 fields) one after another: each is followed by the value that uses it.
        var body = bodyBeforeArgument
        for _ in 0..<100 { body += [0x43, 0x00, 0x90] }
        body += [0x90] + Array(DubboFixtures.request[79...])
        #expect(decodeError(codec, request(body: body))?.reason == .nestingTooDeep(limit: 64))
    }

    @Test func classDefinitionsAreCapped() {
        // A list of 1100 values, each a class definition and a null.
        var body = bodyBeforeArgument + [0x58, 0xd4, 0x04, 0x4c]  // fixed untyped list of 1100
        for _ in 0..<1100 { body += [0x43, 0x00, 0x90, 0x4e] }
        body += Array(DubboFixtures.request[79...])
        #expect(decodeError(codec, request(body: body))?.reason == .invalidValue("more than 1024 class definitions"))
    }

    @Test func attachmentsAreCapped() {
        var body = bodyBeforeArgument + ascii("world").withLength + [0x48]
        for i in 0..<1025 { body += [0x01, UInt8(i % 26) + 0x61, 0x00] }
        body += [0x5a]
        #expect(decodeError(codec, request(body: body))?.reason == .invalidValue("more than 1024 attachments"))
        // 1024 are fine.
        var fine = bodyBeforeArgument + ascii("world").withLength + [0x48]
        for _ in 0..<1024 { fine += [0x01, 0x61, 0x00] }
        fine += [0x5a]
        #expect((try? decodeAll(codec, request(body: fine)))?.first?.attributes.count == 3 + 1024)
    }

    /// The request fixture with its method name (frame offsets 45..<54) replaced by a string
    /// of `units` UTF-16 units spelled `bytes`.
    private func request(method bytes: [UInt8], units: UInt8) -> [UInt8] {
        request(body: Array(DubboFixtures.request[16..<45]) + [units] + bytes + Array(DubboFixtures.request[54...]))
    }

    @Test func aCharacterHasOneSpellingOnly() {
        // Each decodes as "a" (or NUL) in Java's Hessian2Input, which would let a method slip
        // past an exact match on the name we read.
        let refused: [(bytes: [UInt8], units: UInt8, reason: String)] = [
            ([0xc1, 0xa1], 1, "overlong UTF-8 (lead byte 0xc1) in string"),
            ([0xc0, 0x80], 1, "overlong UTF-8 (lead byte 0xc0) in string"),
            ([0xe0, 0x81, 0xa1], 1, "overlong or malformed UTF-8 (0xe0 0x81) in string"),
            ([0xf0, 0x80, 0x80, 0xa1], 2, "overlong or malformed UTF-8 (0xf0 0x80) in string"),
            // Past U+10FFFF, and leads that start no sequence.
            ([0xf4, 0x90, 0x80, 0x80], 2, "overlong or malformed UTF-8 (0xf4 0x90) in string"),
            ([0xf5, 0x80, 0x80, 0x80], 2, "UTF-8 lead byte 0xf5 in string"),
            // Java ignores a continuation byte's top bits: C1 21 would be "a" too.
            ([0xc3, 0x21], 1, "overlong or malformed UTF-8 (0xc3 0x21) in string"),
            ([0xe2, 0x98, 0x43], 1, "UTF-8 continuation byte expected in string"),
        ]
        for r in refused {
            #expect(decodeError(codec, request(method: r.bytes, units: r.units))?.reason == .invalidValue(r.reason), "\(r.bytes)")
        }
    }

    @Test func canonicalSpellingsStillRead() throws {
        let read: [(bytes: [UInt8], units: UInt8, method: String)] = [
            ([0xc3, 0xa9], 1, "é"),
            ([0xe2, 0x98, 0x83], 1, "☃"),
            ([0xf0, 0x9d, 0x84, 0x9e], 2, "𝄞"),  // UTF-8
            ([0xed, 0xa0, 0xb4, 0xed, 0xb4, 0x9e], 2, "𝄞"),  // CESU-8, as Java writes it
            ([0xed, 0xa0, 0x80, 0x61], 2, "\u{FFFD}a"),  // a lone surrogate, which a Java string may hold
        ]
        for r in read {
            let m = try #require(try decodeAll(codec, request(method: r.bytes, units: r.units)).first)
            #expect(m.attributes["method"]?.string == r.method, "\(r.bytes)")
        }
    }

    @Test func hugeListCountsDoNotLoop() {
        // A fixed-length list claiming 2^31-1 elements in a 60-byte body.
        let body = bodyBeforeArgument + [0x58, 0x49, 0x7f, 0xff, 0xff, 0xff, 0x4e]
        #expect(decodeError(codec, request(body: body))?.reason == .truncated("list values"))
    }

    @Test func invalidUTF8LeadByteInAString() {
        let body = bodyBeforeArgument + [0x02, 0x61, 0xff]
        #expect(decodeError(codec, request(body: body))?.reason == .invalidValue("UTF-8 lead byte 0xff in string"))
    }

    @Test func undefinedResponseTypeAndStatus() {
        var bytes = DubboFixtures.responseValue
        bytes[16] = 0x96  // response type 6
        #expect(decodeError(codec, bytes)?.reason == .invalidValue("response type 6"))
        var status = DubboFixtures.responseServiceError
        status[3] = 21
        let e = decodeError(codec, status)
        #expect(e?.reason == .invalidValue("response status 21"))
        #expect(e?.offset == 3)
    }

    @Test func corruptedFramesNeverCrashOrHang() {
        let outcome = fuzz({ DubboCodec() }, streams: DubboFixtures.all + [DubboFixtures.all.flatMap { $0 }], iterations: 20_000, seed: 0xD0BB0)
        // The corruption reaches all three outcomes; otherwise the fuzzing is not exercising the codec.
        #expect(outcome.errors > 1000)
        #expect(outcome.waiting > 1000)
        #expect(outcome.decoded > 100)
    }
}

extension Array where Element == UInt8 {
    /// A short Hessian string: its length byte, then the bytes (ASCII only).
    var withLength: [UInt8] { [UInt8(count)] + self }
}
