import MetaProtocol
import NIOCore
import Testing

@testable import MetaProtocolCodecs

/// The four ways a Thrift connection can frame its messages.
let allFramings: [ThriftFraming] = [
    ThriftFraming(framed: true, compact: false), ThriftFraming(framed: true, compact: true),
    ThriftFraming(framed: false, compact: false), ThriftFraming(framed: false, compact: true),
]

func encoder(_ f: ThriftFraming) -> ThriftTestEncoder { ThriftTestEncoder(compact: f.compact, framed: f.framed) }

@Suite("Thrift codec")
struct ThriftCodecTests {
    private func decodeOne(_ bytes: [UInt8]) throws -> Message {
        let messages = try decodeAll(ThriftCodec(), bytes)
        try #require(messages.count == 1)
        return messages[0]
    }

    @Test(arguments: allFramings)
    func callWithEveryTypeDecodes(framing: ThriftFraming) throws {
        let bytes = encoder(framing).message(name: "echo", kind: 1, seqID: 300, body: everyTypeBody)
        var codec = ThriftCodec()
        var buffer = ByteBuffer(bytes: bytes)
        let m = try #require(try codec.decode(&buffer))
        #expect(codec.framing == framing)
        #expect(m.type == .request)
        #expect(m.requestID == 300)
        #expect(m.attributes["method"]?.string == "echo")
        #expect(m.frame.readableBytes == bytes.count)
        #expect(m.headerSize + m.bodySize == bytes.count)
        #expect(isPassThrough(try codec.encode(m), of: m.frame), "pass-through must not copy")
    }

    @Test(arguments: allFramings)
    func messageKindsAndReplyOutcomes(framing: ThriftFraming) throws {
        let e = encoder(framing)
        #expect(try decodeOne(e.message(name: "notify", kind: 4, seqID: 0, body: [(1, .string("x"))])).type == .oneway)

        let success = try decodeOne(e.message(name: "echo", kind: 2, seqID: 1, body: [(0, .string("ok"))]))
        #expect(success.type == .response)
        #expect(success.status == ResponseStatus(category: .success, code: 0))

        let void = try decodeOne(e.message(name: "ping", kind: 2, seqID: 1, body: []))
        #expect(void.status?.isSuccess == true)

        let declared = try decodeOne(e.message(name: "echo", kind: 2, seqID: 1, body: [(2, .structure([(1, .string("busy"))]))]))
        #expect(declared.type == .error)
        #expect(declared.status == ResponseStatus(category: .applicationError, code: 2))

        let internalError = try decodeOne(e.message(name: "echo", kind: 3, seqID: 1, body: [(1, .string("boom")), (2, .i32(6))]))
        #expect(internalError.type == .error)
        #expect(internalError.status == ResponseStatus(category: .serverError, code: 6))

        let unknownMethod = try decodeOne(e.message(name: "echo", kind: 3, seqID: 1, body: [(2, .i32(1)), (1, .string("no"))]))
        #expect(unknownMethod.status == ResponseStatus(category: .applicationError, code: 1))
    }

    @Test(arguments: allFramings)
    func multiplexedNamesSplitIntoServiceAndMethod(framing: ThriftFraming) throws {
        let m = try decodeOne(encoder(framing).message(name: "Calculator:add", kind: 1, seqID: 5, body: []))
        #expect(m.attributes["method"]?.string == "add")
        #expect(m.attributes["interface"]?.string == "Calculator")
        #expect(m.operationName == "Calculator/add")
    }

    @Test(arguments: allFramings)
    func framesFedOneByteAtATimeOrAllTogether(framing: ThriftFraming) throws {
        let e = encoder(framing)
        let stream = (0..<5).flatMap { i in e.message(name: "m\(i)", kind: 1, seqID: Int32(i * 1000), body: everyTypeBody) }
        let together = try decodeAll(ThriftCodec(), stream)
        let slowly = try decodeByteByByte(ThriftCodec(), stream)
        #expect(together.map(\.requestID) == [0, 1000, 2000, 3000, 4000])
        #expect(slowly.map(\.requestID) == together.map(\.requestID))
        #expect(slowly.map { $0.attributes["method"]?.string } == ["m0", "m1", "m2", "m3", "m4"])
    }

    @Test(arguments: allFramings)
    func renumberingKeepsTheBody(framing: ThriftFraming) throws {
        let e = encoder(framing)
        let original = try decodeOne(e.message(name: "echo", kind: 1, seqID: 1, body: everyTypeBody))
        for newID: UInt64 in [0, 127, 128, 300, 0x7fff_ffff, 0xffff_ffff] {
            var m = original
            m.requestID = newID
            let encoded = try ThriftCodec().encode(m)
            // Everything after the seq id (the body, and in compact the method name) is the
            // received bytes.
            #expect(encoded.rest.readableBytes >= m.bodySize)
            #expect(sharesStorage(encoded.rest, m.frame.getSlice(at: m.frame.readableBytes - encoded.rest.readableBytes, length: encoded.rest.readableBytes)!))
            let out = encoded.bytes
            #expect(out == e.message(name: "echo", kind: 1, seqID: Int32(bitPattern: UInt32(newID)), body: everyTypeBody))
            #expect(try decodeOne(out).requestID == newID)
        }
        var tooWide = original
        tooWide.requestID = 1 << 32
        #expect(throws: CodecError.self) { try ThriftCodec().encode(tooWide) }
    }

    @Test(arguments: allFramings)
    func localRepliesAreApplicationExceptionsInTheRequestsFraming(framing: ThriftFraming) throws {
        let e = encoder(framing)
        let request = try decodeOne(e.message(name: "Echo:echo", kind: 1, seqID: 77, body: everyTypeBody))
        for kind in LocalReplyError.Kind.allCases {
            let reply = try ThriftCodec().encodeLocalReply(LocalReplyError(kind, message: "detail"), to: request)
            let expectedType: Int32 = kind == .routeNotFound ? 1 : 6
            // Byte-exact against the spec encoding of TApplicationException {1: message, 2: type}.
            let expected = e.message(name: "echo", kind: 3, seqID: 77, body: [(1, .string("\(kind): detail")), (2, .i32(expectedType))])
            #expect(Array(reply.readableBytesView) == expected)
            let decoded = try decodeOne(Array(reply.readableBytesView))
            #expect(decoded.type == .error)
            #expect(decoded.requestID == 77)
            #expect(decoded.status?.code == expectedType)
        }
    }

    @Test func mutationsAreRefused() throws {
        let m = try decodeOne(encoder(allFramings[0]).message(name: "echo", kind: 1, seqID: 1, body: []))
        #expect(ThriftCodec.capabilities.carriesMutation == false)
        #expect(throws: CodecError(protocolName: "thrift", offset: 0, reason: .unsupported("mutation: Thrift messages have no key/value section"))) {
            try ThriftCodec().encode(m, mutation: ["a": "b"])
        }
    }
}
