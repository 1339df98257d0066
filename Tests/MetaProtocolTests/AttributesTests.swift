import MetaProtocol
import NIOCore
import Testing

@Suite("Attributes")
struct AttributesTests {
    /// A frame "methodechointerfacesvc" with ranges pointing into it.
    private func sample() -> Attributes {
        let frame = ByteBuffer(string: "XXmethodechointerfacesvc.Greeter")
        var a = Attributes(frame: frame)
        a.append(keyAt: 2, keyLength: 6, valueAt: 8, valueLength: 4)  // method=echo
        a.append(key: "interface", valueAt: 21, valueLength: 11)  // interface=svc.Greeter
        a.append(keyAt: 12, keyLength: 9, value: "ignored-duplicate")  // interface again
        a.append(key: "cmd", value: "153")
        return a
    }

    @Test func lookupReadsRangesAndStrings() {
        let a = sample()
        #expect(a["method"]?.string == "echo")
        #expect(a["interface"]?.string == "svc.Greeter")
        #expect(a["cmd"]?.string == "153")
        #expect(a["absent"] == nil)
        #expect(a.contains("cmd"))
        #expect(!a.contains("cm"))
        #expect(a.count == 4)
    }

    @Test func firstEntryWinsOnDuplicateKeys() {
        #expect(sample()["interface"]?.string == "svc.Greeter")
    }

    @Test func setReplacesTheFirstEntryOrAppends() {
        var a = sample()
        a.set("method", to: "sayHello")
        a.set("group", to: "blue")
        #expect(a["method"]?.string == "sayHello")
        #expect(a["group"]?.string == "blue")
        #expect(a.count == 5)
        #expect(a.pairs.map(\.key) == ["method", "interface", "interface", "cmd", "group"])
    }

    @Test func rangesAreRelativeToTheFramesReaderIndex() {
        var buffer = ByteBuffer(string: "junkKEYvalue")
        buffer.moveReaderIndex(forwardBy: 4)
        var a = Attributes(frame: buffer)
        a.append(keyAt: 0, keyLength: 3, valueAt: 3, valueLength: 5)
        #expect(a["KEY"]?.string == "value")
    }

    @Test func textComparesBytesWhateverItsStorage() {
        let slice = AttributeText(utf8: ByteBuffer(string: "sayHello"))
        let string = AttributeText("sayHello")
        for t in [slice, string] {
            #expect(t.equals("sayHello"))
            #expect(!t.equals("sayHell"))
            #expect(!t.equals("sayHelloo"))
            #expect(t.hasPrefix("say"))
            #expect(t.hasPrefix(""))
            #expect(!t.hasPrefix("Hello"))
            #expect(t.hasSuffix("Hello"))
            #expect(!t.hasSuffix("say"))
            #expect(!t.hasSuffix("xsayHello"))
            #expect(t.utf8Count == 8)
        }
        #expect(slice == string)
        #expect(slice != AttributeText("sayhello"))
        #expect(AttributeText("") == AttributeText(utf8: ByteBuffer()))
        #expect(AttributeText("é").equals("é"))
    }
}

@Suite("Mutation")
struct MutationTests {
    @Test func keepsInsertionOrderAndReplacesInPlace() {
        var m: Mutation = ["b": "1", "a": "2"]
        m["c"] = "3"
        m["b"] = "4"
        #expect(m.entries.map(\.key) == ["b", "a", "c"])
        #expect(m["b"] == "4")
        m["a"] = nil
        #expect(m.entries.map(\.key) == ["b", "c"])
        #expect(m.count == 2)
        #expect(!m.isEmpty)
    }

    @Test func equalityDependsOnOrder() {
        let ab: Mutation = ["a": "1", "b": "2"]
        let ba: Mutation = ["b": "2", "a": "1"]
        #expect(ab == ab)
        #expect(ab != ba)
    }
}

@Suite("Message")
struct MessageTests {
    @Test func operationNameJoinsInterfaceAndMethod() {
        var a = Attributes()
        a.append(key: "method", value: "sayHello")
        var m = Message(type: .request, requestID: 1, headerSize: 0, bodySize: 0, attributes: a, frame: ByteBuffer())
        #expect(m.operationName == "sayHello")
        m.attributes.append(key: "interface", value: "org.demo.Greeter")
        #expect(m.operationName == "org.demo.Greeter/sayHello")
    }

    @Test func replyTypes() {
        #expect(MessageType.allCases.filter(\.isReply) == [.response, .heartbeatReply, .error])
    }

    @Test func codecErrorNamesProtocolOffsetAndReason() {
        let e = CodecError(protocolName: "dubbo", offset: 17, reason: .frameTooLarge(size: 20_000_000, limit: 16_777_216))
        #expect(e.description == "dubbo: invalid bytes at offset 17: frame of 20000000 bytes is over the 16777216-byte limit")
        #expect(LocalReplyError(.overLimit, message: "local rate limit").description == "over_limit: local rate limit")
    }
}
