import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import Testing

/// Frames written by each protocol's synthesizer decode, with the codec, to what they were
/// built from: type, id, attributes, payload size, and for answers the status category.
@Suite("Frame synthesizers")
struct SynthesisTests {
    static let categories: [ResponseStatus.Category] = [.success, .applicationError, .serverError, .unavailable]
    static let sizes = [0, 20, 1024, 120 * 1024]

    /// Decodes one whole frame, checking nothing is left.
    func decode(_ codec: some MetaCodec, _ frame: ByteBuffer) throws -> Message {
        var codec = codec
        var buffer = frame
        let message = try #require(try codec.decode(&buffer))
        #expect(buffer.readableBytes == 0)
        return message
    }

    /// A synthesized call, and each kind of answer to it, read back by `codec` (as the category
    /// `readAs` says: a protocol may have no way to say one).
    func roundTrip(_ synthesizer: some FrameSynthesizer, _ codec: some MetaCodec, attributes: [KeyValue], expected: [(String, String)],
                   id: UInt64, expectedID: UInt64? = nil, readAs: (ResponseStatus.Category) -> ResponseStatus.Category = { $0 }) throws {
        var previous = -1
        for size in Self.sizes {
            let frame = try synthesizer.request(id: id, attributes: attributes, payloadSize: size, oneway: false)
            let call = try decode(codec, frame)
            #expect(call.type == .request)
            #expect(call.requestID == (expectedID ?? id))
            for (k, v) in expected { #expect(call.attributes[k]?.string == v, "\(k)") }
            #expect(frame.readableBytes - previous > 0 && (previous < 0 || frame.readableBytes - previous >= size - Self.sizes[Self.sizes.firstIndex(of: size)! - 1]),
                    "the payload is on the wire")
            previous = frame.readableBytes
            for category in Self.categories {
                let answer = try decode(codec, try synthesizer.response(to: call, status: ResponseStatus(category: category, code: 0), payloadSize: size))
                #expect(answer.requestID == call.requestID)
                #expect(answer.status?.category == readAs(category), "\(category)")
                #expect(answer.type == (category == .success ? .response : .error))
            }
            let ok = try synthesizer.response(to: call, status: ResponseStatus(category: .success, code: 0), payloadSize: size)
            let error = try synthesizer.response(to: call, status: ResponseStatus(category: .serverError, code: 0), payloadSize: size)
            #expect(ok.readableBytes >= size && error.readableBytes < 200, "only successes carry the payload")
        }
        let oneway = try decode(codec, try synthesizer.request(id: id, attributes: attributes, payloadSize: 10, oneway: true))
        #expect(oneway.type == .oneway)
    }

    @Test func dubbo() throws {
        try roundTrip(DubboSynthesizer(), DubboCodec(),
                      attributes: [KeyValue("interface", "org.demo.Greeter"), KeyValue("method", "sayHello"), KeyValue("version", "1.0.0"),
                                   KeyValue("group", "live"), KeyValue("uid", "42")],
                      expected: [("interface", "org.demo.Greeter"), ("method", "sayHello"), ("version", "1.0.0"), ("group", "live"), ("uid", "42")],
                      id: 1 << 40)
        // Error statuses keep a given code when Dubbo reads it the same way.
        let call = try decode(DubboCodec(), try DubboSynthesizer().request(id: 9, attributes: [], payloadSize: 1, oneway: false))
        #expect(call.attributes["method"]?.string == "call" && call.attributes["interface"]?.string == "org.mplab.Synthetic")
        let timeout = try decode(DubboCodec(), try DubboSynthesizer().response(to: call, status: ResponseStatus(category: .unavailable, code: 31), payloadSize: 0))
        #expect(timeout.status == ResponseStatus(category: .unavailable, code: 31))
        let odd = try decode(DubboCodec(), try DubboSynthesizer().response(to: call, status: ResponseStatus(category: .unavailable, code: 80), payloadSize: 0))
        #expect(odd.status == ResponseStatus(category: .unavailable, code: 100), "80 is a server error in Dubbo: the category wins")
    }

    @Test(arguments: [(true, false), (true, true), (false, false), (false, true)])
    func thrift(framed: Bool, compact: Bool) throws {
        let synthesizer = ThriftSynthesizer(framing: ThriftFraming(framed: framed, compact: compact))
        // Thrift has one server-side failure (TApplicationException INTERNAL_ERROR): unavailable
        // is written, and read, as a server error.
        try roundTrip(synthesizer, ThriftCodec(), attributes: [KeyValue("method", "blob")], expected: [("method", "blob")], id: 7,
                      readAs: { $0 == .unavailable ? .serverError : $0 })
        // Sequence ids are 32 bits; a service name travels as the multiplexed prefix.
        let mux = try decode(ThriftCodec(), try synthesizer.request(id: 0x1_0000_0005, attributes: [KeyValue("interface", "Echo"), KeyValue("method", "ping")],
                                                                      payloadSize: 3, oneway: false))
        #expect(mux.requestID == 5)
        #expect(mux.attributes["interface"]?.string == "Echo" && mux.attributes["method"]?.string == "ping")
        // A server answers in the call's transport and protocol, whatever its own default.
        let call = try decode(ThriftCodec(), try synthesizer.request(id: 9, attributes: [KeyValue("method", "ping")], payloadSize: 3, oneway: false))
        var reader = ThriftCodec()
        var answer = try ThriftSynthesizer(framing: ThriftFraming(framed: !framed, compact: !compact)).response(to: call, status: ResponseStatus(category: .success, code: 0), payloadSize: 3)
        #expect(try reader.decode(&answer)?.requestID == 9)
        #expect(reader.framing == ThriftFraming(framed: framed, compact: compact))
    }

    @Test func livePacket() throws {
        try roundTrip(LivePacketSynthesizer(), LivePacketCodec(), attributes: [KeyValue("cmd", "153"), KeyValue("sub_cmd", "2"), KeyValue("uid", "7")],
                      expected: [("cmd", "153"), ("sub_cmd", "2"), ("method", "153.2"), ("uid", "7")], id: 99)
        let byMethod = try decode(LivePacketCodec(), try LivePacketSynthesizer().request(id: 1, attributes: [KeyValue("method", "7.8")], payloadSize: 0, oneway: false))
        #expect(byMethod.attributes["cmd"]?.string == "7" && byMethod.attributes["sub_cmd"]?.string == "8")
        #expect(throws: CodecError.self) { try LivePacketSynthesizer().request(id: 1, attributes: [KeyValue("cmd", "play")], payloadSize: 0, oneway: false) }
    }

    @Test func theRegistryHasASynthesizerForEveryCodec() throws {
        for name in CodecRegistry.protocolNames {
            let synthesizer = try #require(CodecRegistry.makeSynthesizer(named: name))
            #expect(type(of: synthesizer).protocolName == name)
            var codec = try #require(CodecRegistry.makeCodec(named: name))
            var frame = try synthesizer.request(id: 3, attributes: [KeyValue("method", "1.2")], payloadSize: 100, oneway: false)
            #expect(try codec.decode(&frame)?.requestID == 3)
        }
    }
}
