import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import NIOEmbedded
import Testing

@testable import MetaProxy

/// The proxy's frame reader on a stream whose reads never end on a frame boundary, as a busy
/// connection's do: every frame comes out whole and in order, and what it buffers stays the size
/// of a frame, not of everything the connection has carried.
@Suite("Proxy connections: the frame reader")
struct FrameReaderTests {
    /// Keeps the last few messages it was handed, as the core holds a frame until it is written.
    final class HoldingSink: FrameSink {
        var ids: [UInt64] = []
        var held: [Message] = []
        let cutThroughThreshold: Int? = nil

        func received(_ message: Message) {
            ids.append(message.requestID)
            held.append(message)
            if held.count > 4 { held.removeFirst() }
        }

        func receivedRest(_ bytes: ByteBuffer, remaining: Int) {
            Issue.record("no frame is cut through with no threshold")
        }
    }

    @Test(arguments: [120 << 10, 1 << 10])
    func backToBackFramesReadInChunksThatStraddleThemStayAFrameBig(frameSize: Int) throws {
        let synthesizer = try #require(CodecRegistry.makeSynthesizer(named: "livepacket"))
        let frames = 64
        var stream = ByteBufferAllocator().buffer(capacity: frames * (frameSize + 64))
        for id in 1...frames {
            var frame = try synthesizer.request(id: UInt64(id), attributes: [KeyValue("method", "1.1")], payloadSize: frameSize, oneway: false)
            stream.writeBuffer(&frame)
        }
        let frameLength = stream.readableBytes / frames
        let sink = HoldingSink()
        let reader = FrameReader(codec: LivePacketCodec(), sink: sink)
        let channel = EmbeddedChannel(handler: reader)
        // A chunk size prime to the frame length: almost every read ends inside a frame.
        let chunk = frameLength * 3 / 7 + 1
        var largest = 0
        while stream.readableBytes > 0 {
            let bytes = stream.readSlice(length: min(chunk, stream.readableBytes))!
            try channel.writeInbound(bytes)
            largest = max(largest, reader.bufferedCapacity)
        }
        #expect(sink.ids == (1...frames).map(UInt64.init), "every frame whole, in order")
        #expect(reader.bufferedCapacity == 0, "nothing left over")
        // A frame not yet whole plus one read, with room to grow into: a small multiple of a
        // frame. Keeping what was handed on grows this to the whole stream (64 frames).
        #expect(largest <= 4 * max(frameLength, chunk), "buffered at most \(largest) bytes for \(frameLength)-byte frames")
        _ = try channel.finish()
    }
}
