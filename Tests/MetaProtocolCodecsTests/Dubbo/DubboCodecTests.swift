import MetaProtocol
import NIOCore
import Testing

@testable import MetaProtocolCodecs

@Suite("Dubbo codec")
struct DubboCodecTests {
    let codec = DubboCodec()

    private func decodeOne(_ bytes: [UInt8]) throws -> Message {
        let messages = try decodeAll(codec, bytes)
        try #require(messages.count == 1)
        return messages[0]
    }

    @Test func requestFixtureGivesItsAttributes() throws {
        let m = try decodeOne(DubboFixtures.request)
        #expect(m.type == .request)
        #expect(m.requestID == 42)
        #expect(m.headerSize == 16)
        #expect(m.bodySize == 107)
        #expect(m.status == nil)
        #expect(m.attributes["interface"]?.string == "org.demo.Greeter")
        #expect(m.attributes["method"]?.string == "sayHello")
        #expect(m.attributes["version"]?.string == "1.0.0")
        #expect(m.attributes["group"]?.string == "blue")
        #expect(m.attributes["path"]?.string == "org.demo.Greeter")
        #expect(m.attributes["retries"] == nil, "non-string attachment values are not attributes")
        #expect(m.operationName == "org.demo.Greeter/sayHello")
        #expect(m.layout.mutableSection == DubboFixtures.requestAttachmentsOffset..<DubboFixtures.request.count)
    }

    @Test func unmutatedEncodeSendsTheReceivedBytes() throws {
        let m = try decodeOne(DubboFixtures.request)
        let out = try codec.encode(m)
        #expect(isPassThrough(out, of: m.frame), "an unmutated frame must not be copied")
        #expect(out.bytes == DubboFixtures.request)
    }

    @Test func mutationRewritesTheAttachmentsByteExactly() throws {
        let m = try decodeOne(DubboFixtures.request)
        let out = try codec.encode(m, mutation: ["group": "green", "x-trace": "abc"])
        #expect(out.bytes == DubboFixtures.requestMutated)
        let again = try decodeOne(out.bytes)
        #expect(again.attributes["group"]?.string == "green")
        #expect(again.attributes["x-trace"]?.string == "abc")
        #expect(again.attributes["method"]?.string == "sayHello")
    }

    @Test func mutationInsertsAttachmentsWhenTheRequestHasNone() throws {
        // The oneway fixture without its attachments map: body ends after the (absent) arguments.
        var bytes = DubboFixtures.oneway
        bytes.removeLast(2)
        bytes[15] -= 2
        let m = try decodeOne(bytes)
        #expect(m.layout.mutableSection == bytes.count..<bytes.count)
        let out = try codec.encode(m, mutation: ["k": "v"])
        let again = try decodeOne(out.bytes)
        #expect(again.attributes["k"]?.string == "v")
        #expect(again.bodySize == m.bodySize + 6)  // H 01 6b 01 76 Z
    }

    @Test func responseMutationAddsAttachmentsToAPlainValue() throws {
        let m = try decodeOne(DubboFixtures.responseValue)
        #expect(m.type == .response)
        #expect(m.status == ResponseStatus(category: .success, code: 20))
        let out = try codec.encode(m, mutation: ["served-by": "v2"])
        let bytes = out.bytes
        #expect(bytes[16] == 0x94, "response type 1 becomes 4, value with attachments")
        let again = try decodeOne(bytes)
        #expect(again.attributes["served-by"]?.string == "v2")
        #expect(again.type == .response)
        #expect(again.requestID == 43)
    }

    @Test func responseMutationCopesWithALongResponseTypeEncoding() throws {
        // Response type 1 written as a 5-byte 'I' int instead of the compact 0x91.
        var bytes = Array(DubboFixtures.responseValue[0..<16]) + [0x49, 0, 0, 0, 1, 0x01, 0x78]
        bytes[15] = 7
        let m = try decodeOne(bytes)
        let again = try decodeOne(try codec.encode(m, mutation: ["k": "v"]).bytes)
        #expect(again.attributes["k"]?.string == "v")
        #expect(again.layout.variant == 4)
        #expect(again.frame.getInteger(at: 17, as: UInt8.self) == 0x01, "the value follows the one-byte type")
    }

    @Test func mutationKeepsAttachmentObjectsWhoseClassTheArgumentsDefined() throws {
        // The argument is an object of class "P" (1 field) defined in place; an attachment
        // value is another instance of it (0x60), which only makes sense with that definition.
        var body: [UInt8] = Array(DubboFixtures.request[16..<54])
        body += hex("03 4c 50 3b")  // parameter types "LP;": one parameter of class P
        body += hex("43 01 50 91 01 78 60 90")  // C "P" with field "x", then P{x = 0}
        body += hex("48 01 6f 60 91 01 6b 01 76 5a")  // {"o": P{x = 1}, "k": "v"}
        let bytes = Array(DubboFixtures.request[0..<12]) + withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
        let m = try decodeOne(bytes)
        #expect(m.attributes["k"]?.string == "v")
        let out = try codec.encode(m, mutation: ["k": "w"]).bytes
        let again = try decodeOne(out)
        #expect(again.attributes["k"]?.string == "w")
        #expect(out.count == bytes.count, "the object attachment was copied unchanged")
        #expect(Array(out.suffix(10)) == hex("48 01 6f 60 91 01 6b 01 77 5a"), "the object attachment was copied as it was")
    }

    @Test func eventsThatAreNotHeartbeats() throws {
        // A one-way event (Dubbo's read-only notice, body "R") is not answered.
        let readonly = hex("da bb a2 00 00 00 00 00 00 00 00 08 00 00 00 02 01 52")
        #expect(try decodeOne(readonly).type == .oneway)
        // A heartbeat reply reports its status byte.
        var failed = DubboFixtures.heartbeatReply
        failed[3] = 80
        #expect(try decodeOne(failed).status == ResponseStatus(category: .serverError, code: 80))
        failed[3] = 21
        #expect(decodeError(codec, failed)?.reason == .invalidValue("response status 21"))
    }

    @Test func responsesAreClassified() throws {
        let ok = try decodeOne(DubboFixtures.responseWithAttachments)
        #expect(ok.type == .response)
        #expect(ok.status?.isSuccess == true)
        #expect(ok.attributes["dubbo"]?.string == "2.0.2")
        #expect(ok.layout.mutableSection == 29..<43)

        let thrown = try decodeOne(DubboFixtures.responseException)
        #expect(thrown.type == .error)
        #expect(thrown.status == ResponseStatus(category: .applicationError, code: 20))

        let failed = try decodeOne(DubboFixtures.responseServiceError)
        #expect(failed.type == .error)
        #expect(failed.status == ResponseStatus(category: .serverError, code: 70))
        #expect(failed.requestID == 45)
    }

    @Test(arguments: [
        (UInt8(20), ResponseStatus.Category.success), (30, .unavailable), (31, .unavailable), (40, .applicationError),
        (50, .serverError), (60, .unavailable), (70, .serverError), (80, .serverError), (90, .applicationError), (100, .unavailable),
    ])
    func everyDubboStatusHasACategory(status: UInt8, category: ResponseStatus.Category) throws {
        var bytes = DubboFixtures.responseServiceError
        bytes[3] = status
        if status == 20 { bytes = DubboFixtures.responseValue }
        #expect(try decodeOne(bytes).status?.category == category)
    }

    @Test func heartbeatsAndOneway() throws {
        let hb = try decodeOne(DubboFixtures.heartbeat)
        #expect(hb.type == .heartbeat)
        #expect(hb.requestID == 7)
        let reply = try codec.encodeHeartbeatReply(to: hb)
        #expect(Array(reply.readableBytesView) == DubboFixtures.heartbeatReply)
        #expect(try decodeOne(DubboFixtures.heartbeatReply).type == .heartbeatReply)

        let oneway = try decodeOne(DubboFixtures.oneway)
        #expect(oneway.type == .oneway)
        #expect(oneway.attributes["method"]?.string == "notify")
        #expect(oneway.attributes["version"]?.string == "")
    }

    @Test func localReplyIsByteExact() throws {
        let request = try decodeOne(DubboFixtures.request)
        let reply = try codec.encodeLocalReply(LocalReplyError(.overLimit, message: "local"), to: request)
        #expect(Array(reply.readableBytesView) == DubboFixtures.overLimitReply)
    }

    @Test(arguments: LocalReplyError.Kind.allCases)
    func everyLocalReplyKindMapsToADubboStatus(kind: LocalReplyError.Kind) throws {
        let expected: [LocalReplyError.Kind: UInt8] = [
            .routeNotFound: 60, .clusterNotFound: 60, .noHealthyUpstream: 80, .badResponse: 50,
            .overLimit: 100, .timeout: 31, .overflow: 100, .unspecified: 80,
        ]
        let request = try decodeOne(DubboFixtures.request)
        let reply = try decodeOne(Array(try codec.encodeLocalReply(LocalReplyError(kind, message: "detail"), to: request).readableBytesView))
        #expect(reply.type == .error)
        #expect(reply.requestID == 42)
        #expect(reply.status?.code == Int32(expected[kind]!))
        #expect(reply.status?.isSuccess == false)
    }

    @Test func changedRequestIDIsWrittenIntoTheFrame() throws {
        var m = try decodeOne(DubboFixtures.request)
        m.requestID = 0x0102_0304_0506_0708
        let encoded = try codec.encode(m)
        #expect(sharesStorage(encoded.rest, m.frame.getSlice(at: 16, length: 107)!), "the body is not copied")
        let out = encoded.bytes
        #expect(Array(out[4..<12]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(out[12...]) == Array(DubboFixtures.request[12...]))
        #expect(Array(m.frame.readableBytesView) == DubboFixtures.request, "the received bytes are not modified")
        let mutated = try decodeOne(try codec.encode(m, mutation: ["a": "b"]).bytes)
        #expect(mutated.requestID == 0x0102_0304_0506_0708)
    }

    /// A mutation writes a new header and new attachments; the arguments between them are sent
    /// from the received bytes.
    @Test func aMutationKeepsTheArgumentsWhereTheyAre() throws {
        let m = try decodeOne(DubboFixtures.request)
        let encoded = try codec.encode(m, mutation: ["x-trace": "abc"])
        let section = m.layout.mutableSection!
        #expect(encoded.head?.readableBytes == 16, "a new header")
        #expect(sharesStorage(encoded.rest, m.frame.getSlice(at: m.frame.readerIndex + 16, length: section.lowerBound - 16)!), "the arguments are not copied")
        #expect(encoded.tail != nil, "the attachments are written anew")
        #expect(try decodeOne(encoded.bytes).attributes["x-trace"]?.string == "abc")
    }

    @Test func framesFedOneByteAtATimeOrAllTogether() throws {
        let stream = DubboFixtures.all.flatMap { $0 }
        let together = try decodeAll(codec, stream)
        let slowly = try decodeByteByByte(codec, stream)
        #expect(together.count == DubboFixtures.all.count)
        #expect(slowly.map(\.requestID) == together.map(\.requestID))
        #expect(slowly.map(\.type) == [.request, .response, .response, .error, .error, .heartbeat, .heartbeatReply, .oneway, .error])
        #expect(together.map(\.frame.readableBytes).reduce(0, +) == stream.count, "every byte belongs to a frame")
    }
}
