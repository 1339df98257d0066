import MetaProtocol
import NIOCore
import Testing

@testable import MetaProtocolCodecs

/// A synthetic Dubbo provider answers in the type of the call's argument, as the called Java
/// method would: a consumer calling `sayHello(String)` can read the answer.
@Suite("Dubbo synthesizer: answers in the argument's type")
struct DubboAnswerTypeTests {
    static let ok = ResponseStatus(category: .success, code: 0)

    /// The call as the codec reads it from `bytes`.
    static func call(_ bytes: [UInt8]) throws -> Message {
        var codec = DubboCodec()
        var buffer = ByteBuffer(bytes: bytes)
        return try #require(try codec.decode(&buffer))
    }

    /// The answer's body after the header: response type, then the value.
    static func body(_ frame: ByteBuffer) -> [UInt8] { Array(frame.readableBytesView.dropFirst(DubboWire.headerSize)) }

    @Test func aStringArgumentIsEchoedAsThatString() throws {
        let call = try Self.call(DubboFixtures.request)
        let answer = try DubboSynthesizer().response(to: call, status: Self.ok, payload: .echo)
        // 0x91: response type 1 (a value), then "world" as the call wrote it.
        #expect(Self.body(answer) == [0x91, 0x05] + Array("world".utf8))
        var codec = DubboCodec()
        var buffer = answer
        let decoded = try #require(try codec.decode(&buffer))
        #expect(decoded.requestID == 42 && decoded.type == .response && decoded.status?.isSuccess == true)
    }

    @Test func aSizedAnswerToAStringCallIsAStringOfThatLength() throws {
        let call = try Self.call(DubboFixtures.request)
        let answer = try DubboSynthesizer().response(to: call, status: Self.ok, payload: .bytes(3))
        #expect(Self.body(answer) == [0x91, 0x03] + Array("xxx".utf8))
        // Past one Hessian chunk (32,768 UTF-16 units) the string is still read whole.
        let long = try DubboSynthesizer().response(to: call, status: Self.ok, payload: .bytes(40_000))
        let value = Self.body(long).dropFirst()
        let read: String? = Array(value).withUnsafeBytes { raw in
            var reader = Hessian2Reader(bytes: raw, from: 0, to: raw.count)
            guard case .string(let s)? = try? reader.readString() else { return nil }
            return s
        }
        #expect(read == String(repeating: "x", count: 40_000))
    }

    @Test func aBinaryArgumentIsAnsweredWithBinary() throws {
        let call = try Self.call(Array(try DubboSynthesizer().request(id: 5, attributes: [], payloadSize: 10, oneway: false).readableBytesView))
        let echo = Self.body(try DubboSynthesizer().response(to: call, status: Self.ok, payload: .echo))
        // 0x91, then binary of 10 bytes (0x20 + length, then the bytes) as the call carried it.
        #expect(echo.count == 1 + 1 + 10 && echo[0] == 0x91 && echo[1] == 0x2a)
        let sized = Self.body(try DubboSynthesizer().response(to: call, status: Self.ok, payload: .bytes(4)))
        #expect(sized.count == 1 + 1 + 4 && sized[1] == 0x24)
    }
}
