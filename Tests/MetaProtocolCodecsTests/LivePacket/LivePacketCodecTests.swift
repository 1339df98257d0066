import MetaProtocol
import NIOCore
import Testing

@testable import MetaProtocolCodecs

/// LivePacket frames written from its specification (Docs/protocols/livepacket.md).
enum LivePacketFixtures {
    /// The specification's worked example: request 1, cmd 153, sub_cmd 2, uid=42, payload "hi".
    static let request = hex("""
        4c 56                     # magic "LV"
        01                        # version 1
        00                        # kind: request
        00 00 00 22               # frame length 34
        00 00 00 00 00 00 00 01   # request id 1
        00 99                     # cmd 153
        00 02                     # sub_cmd 2
        00 00                     # status (unused in requests)
        00 08                     # key/value block: 8 bytes
        03 75 69 64 00 02 34 32   # "uid" = "42"
        68 69                     # payload "hi"
        """)

    /// ``request`` with the mutation uid=7, trace=ab: uid replaced in place, trace appended.
    static let requestMutated = hex("""
        4c 56 01 00
        00 00 00 2b               # frame length 43
        00 00 00 00 00 00 00 01 00 99 00 02 00 00
        00 11                     # key/value block: 17 bytes
        03 75 69 64 00 01 37      # "uid" = "7"
        05 74 72 61 63 65 00 02 61 62
                                  # "trace" = "ab"
        68 69
        """)

    /// The local reply to ``request`` for over_limit with message "local".
    static let overLimitReply = hex("""
        4c 56 01
        01                        # kind: response
        00 00 00 31               # frame length 49
        00 00 00 00 00 00 00 01 00 99 00 02
        00 05                     # status 5: over limit
        00 19                     # key/value block: 25 bytes
        05 65 72 72 6f 72         # "error"
        00 11 6f 76 65 72 5f 6c 69 6d 69 74 3a 20 6c 6f 63 61 6c
                                  # = "over_limit: local"
        """)

    static let heartbeat = hex("4c 56 01 03 00 00 00 18 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 00")
    static let heartbeatReply = hex("4c 56 01 04 00 00 00 18 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 00")
    static let oneway = hex("4c 56 01 02 00 00 00 1a 00 00 00 00 00 00 00 0a 00 01 00 00 00 00 00 00 ff ff")
    static let okResponse = hex("4c 56 01 01 00 00 00 1b 00 00 00 00 00 00 00 01 00 99 00 02 00 00 00 00 6f 6b 21")

    static var all: [[UInt8]] { [request, requestMutated, overLimitReply, heartbeat, heartbeatReply, oneway, okResponse] }
}

@Suite("LivePacket codec")
struct LivePacketCodecTests {
    let codec = LivePacketCodec()

    private func decodeOne(_ bytes: [UInt8]) throws -> Message {
        let messages = try decodeAll(codec, bytes)
        try #require(messages.count == 1)
        return messages[0]
    }

    @Test func workedExampleDecodes() throws {
        let m = try decodeOne(LivePacketFixtures.request)
        #expect(m.type == .request)
        #expect(m.requestID == 1)
        #expect(m.headerSize == 32)
        #expect(m.bodySize == 2)
        #expect(m.attributes["cmd"]?.string == "153")
        #expect(m.attributes["sub_cmd"]?.string == "2")
        #expect(m.attributes["method"]?.string == "153.2")
        #expect(m.attributes["uid"]?.string == "42")
        #expect(m.attributes.count == 4)
        #expect(isPassThrough(try codec.encode(m), of: m.frame))
    }

    @Test func mutationRewritesTheKeyValueBlockByteExactly() throws {
        let m = try decodeOne(LivePacketFixtures.request)
        let out = try codec.encode(m, mutation: ["uid": "7", "trace": "ab"])
        #expect(out.bytes == LivePacketFixtures.requestMutated)
    }

    @Test func mutationLimitsAreChecked() throws {
        let m = try decodeOne(LivePacketFixtures.request)
        #expect(throws: CodecError.self) { try codec.encode(m, mutation: [String(repeating: "k", count: 256): "v"]) }
        #expect(throws: CodecError.self) { try codec.encode(m, mutation: ["": "v"]) }
        #expect(throws: CodecError.self) { try codec.encode(m, mutation: ["a": String(repeating: "v", count: 40_000), "b": String(repeating: "v", count: 40_000)]) }
    }

    @Test func localReplyIsByteExact() throws {
        let m = try decodeOne(LivePacketFixtures.request)
        let reply = try codec.encodeLocalReply(LocalReplyError(.overLimit, message: "local"), to: m)
        #expect(Array(reply.readableBytesView) == LivePacketFixtures.overLimitReply)
        let decoded = try decodeOne(LivePacketFixtures.overLimitReply)
        #expect(decoded.type == .error)
        #expect(decoded.status == ResponseStatus(category: .unavailable, code: 5))
        #expect(decoded.attributes["error"]?.string == "over_limit: local")
    }

    @Test(arguments: LocalReplyError.Kind.allCases)
    func everyLocalReplyKindHasAStatus(kind: LocalReplyError.Kind) throws {
        let expected: [LocalReplyError.Kind: (Int32, ResponseStatus.Category)] = [
            .routeNotFound: (2, .unavailable), .clusterNotFound: (2, .unavailable), .noHealthyUpstream: (3, .unavailable),
            .overflow: (3, .unavailable), .timeout: (4, .unavailable), .overLimit: (5, .unavailable),
            .unspecified: (6, .serverError), .badResponse: (7, .unavailable),
        ]
        let m = try decodeOne(LivePacketFixtures.request)
        let reply = try decodeOne(Array(try codec.encodeLocalReply(LocalReplyError(kind), to: m).readableBytesView))
        #expect(reply.status == ResponseStatus(category: expected[kind]!.1, code: expected[kind]!.0))
        #expect(reply.requestID == 1)
        #expect(reply.attributes["cmd"]?.string == "153")
    }

    @Test func heartbeatsOnewayAndResponses() throws {
        let hb = try decodeOne(LivePacketFixtures.heartbeat)
        #expect(hb.type == .heartbeat)
        #expect(Array(try codec.encodeHeartbeatReply(to: hb).readableBytesView) == LivePacketFixtures.heartbeatReply)
        #expect(try decodeOne(LivePacketFixtures.heartbeatReply).type == .heartbeatReply)
        #expect(try decodeOne(LivePacketFixtures.oneway).type == .oneway)
        let ok = try decodeOne(LivePacketFixtures.okResponse)
        #expect(ok.type == .response)
        #expect(ok.status?.isSuccess == true)
    }

    @Test func changedRequestIDIsWrittenIntoTheFrame() throws {
        var m = try decodeOne(LivePacketFixtures.request)
        m.requestID = 0xABCD
        let renumbered = try codec.encode(m)
        #expect(renumbered.head?.readableBytes == 24, "only the header is rewritten")
        #expect(sharesStorage(renumbered.rest, m.frame.getSlice(at: 24, length: m.frame.readableBytes - 24)!), "key/values and payload are not copied")
        #expect(try decodeOne(renumbered.bytes).requestID == 0xABCD)
        #expect(try decodeOne(try codec.encode(m, mutation: ["x": "y"]).bytes).requestID == 0xABCD)
        #expect(Array(m.frame.readableBytesView) == LivePacketFixtures.request, "the received bytes are not modified")
    }

    /// A mutation rewrites the header and the key/value block; the payload after them is sent
    /// from the received bytes, so a traced 120 KB call copies no payload.
    @Test func aMutationKeepsThePayloadWhereItIs() throws {
        let synthesizer = LivePacketSynthesizer()
        let frame = try synthesizer.request(id: 5, attributes: [KeyValue("method", "1.2"), KeyValue("k", "v")], payloadSize: 120 << 10, oneway: false)
        let m = try decodeOne(Array(frame.readableBytesView))
        let encoded = try codec.encode(m, mutation: ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
        let payloadStart = m.layout.mutableSection!.upperBound
        #expect(sharesStorage(encoded.rest, m.frame.getSlice(at: m.frame.readerIndex + payloadStart, length: m.frame.readableBytes - payloadStart)!),
                "the payload is a slice of the received frame")
        #expect(encoded.head!.readableBytes < 200, "only the header and key/values are written")
        let decoded = try decodeOne(encoded.bytes)
        #expect(decoded.attributes["traceparent"]?.string.hasPrefix("00-0af7") == true)
        #expect(decoded.attributes["k"]?.string == "v")
        #expect(decoded.bodySize == m.bodySize)
    }

    @Test func framesFedOneByteAtATimeOrAllTogether() throws {
        let stream = LivePacketFixtures.all.flatMap { $0 }
        let together = try decodeAll(codec, stream)
        let slowly = try decodeByteByByte(codec, stream)
        #expect(together.count == LivePacketFixtures.all.count)
        #expect(slowly.map(\.type) == [.request, .request, .error, .heartbeat, .heartbeatReply, .oneway, .response])
        #expect(slowly.map(\.requestID) == together.map(\.requestID))
    }

    @Test func malformedFrames() {
        var r = LivePacketFixtures.request
        #expect(decodeError(codec, [0x4c, 0x57])?.reason == .badMagic(found: 0x4c57))
        #expect(decodeError(codec, [0x4c, 0x56, 0x02])?.reason == .unsupported("version 2"))
        r[3] = 9
        #expect(decodeError(codec, r)?.reason == .unknownType("kind", code: 9))
        r = LivePacketFixtures.request
        r[7] = 0x10  // frame length 16
        #expect(decodeError(codec, r)?.reason == .invalidValue("frame length 16, shorter than the 24-byte header"))
        r = LivePacketFixtures.request
        r[4] = 0x02  // 32 MiB + 34
        #expect(decodeError(codec, r)?.reason == .frameTooLarge(size: 0x0200_0022, limit: 16 << 20))
        r = LivePacketFixtures.request
        r[23] = 0x0b  // key/value block longer than the frame
        #expect(decodeError(codec, r)?.reason == .truncated("key/value block: 11 bytes in a 34-byte frame"))
        r = LivePacketFixtures.request
        r[24] = 0  // empty key
        let e = decodeError(codec, r)
        #expect(e?.reason == .invalidValue("empty key in key/value block"))
        #expect(e?.offset == 24)
        r = LivePacketFixtures.request
        r[24] = 6  // key runs past the block
        #expect(decodeError(codec, r)?.reason == .truncated("key/value entry"))
        r = LivePacketFixtures.request
        r[29] = 3  // value runs past the block
        #expect(decodeError(codec, r)?.reason == .truncated("key/value entry value"))
        r = LivePacketFixtures.okResponse
        r[21] = 99
        #expect(decodeError(codec, r)?.reason == .invalidValue("status 99"))
    }

    @Test func corruptedFramesNeverCrashOrHang() {
        #expect(LivePacketWire.maxEntries == 1024)
        let outcome = fuzz({ LivePacketCodec() }, streams: LivePacketFixtures.all + [LivePacketFixtures.all.flatMap { $0 }], iterations: 20_000, seed: 0x4C56)
        #expect(outcome.errors > 1000)
        #expect(outcome.waiting > 1000)
        #expect(outcome.decoded > 100)
    }
}

@Suite("LivePacket codec: limits of what it writes")
struct LivePacketLimitTests {
    @Test func longErrorMessagesAreCutOnACharacterBoundary() throws {
        var codec = LivePacketCodec()
        var buffer = ByteBuffer(bytes: LivePacketFixtures.request)
        let request = try #require(try codec.decode(&buffer))
        let message = String(repeating: "é", count: 40_000)  // 80,000 bytes
        let reply = try codec.encodeLocalReply(LocalReplyError(.unspecified, message: message), to: request)
        var replyBuffer = reply
        let decoded = try #require(try codec.decode(&replyBuffer))
        let text = try #require(decoded.attributes["error"]?.string)
        #expect(text.hasPrefix("unspecified: éé"))
        #expect(text.utf8.count <= 65_527)
        #expect(!text.contains("\u{FFFD}"), "no character was split")
    }

    @Test func mutationMayNotGrowAFramePastTheCap() throws {
        var codec = LivePacketCodec(maxFrameSize: 40)
        var buffer = ByteBuffer(bytes: LivePacketFixtures.request)
        let m = try #require(try codec.decode(&buffer))
        #expect(throws: CodecError(protocolName: "livepacket", offset: 0, reason: .frameTooLarge(size: 45, limit: 40))) {
            try codec.encode(m, mutation: ["trace": "abc"])
        }
    }
}

@Suite("LivePacket codec: entry cap")
struct LivePacketEntryCapTests {
    /// A request with `n` entries "k" = "".
    private func request(entries n: Int) -> [UInt8] {
        var kv: [UInt8] = []
        for _ in 0..<n { kv += [0x01, 0x6b, 0x00, 0x00] }
        var frame = hex("4c 56 01 00") + be32(UInt32(24 + kv.count)) + hex("00 00 00 00 00 00 00 01 00 99 00 02 00 00")
        frame += [UInt8(kv.count >> 8), UInt8(kv.count & 0xff)] + kv
        return frame
    }

    private func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }

    @Test func atMost1024Entries() throws {
        #expect(try decodeAll(LivePacketCodec(), request(entries: 1024)).first?.attributes.count == 3 + 1024)
        #expect(decodeError(LivePacketCodec(), request(entries: 1025))?.reason == .invalidValue("more than 1024 key/value entries"))
    }
}
