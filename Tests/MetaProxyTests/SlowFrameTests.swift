import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import Testing

@testable import MetaProxy

/// A frame begun must be all in within the frame timeout: activity alone keeps the idle timer
/// away, so without it a client sending a byte at a time holds its slot, and the partial frame,
/// for as long as it likes.
@Suite("Proxy on sockets: slow frames", .serialized)
struct SlowFrameTests {
    /// 4 KiB frames are buffered whole; 64 KiB ones are cut through, their head forwarded and
    /// the rest awaited by the upstream connection it is written into.
    @Test(arguments: [4096, 64 << 10])
    func aFrameTrickledInClosesItsConnectionAndWholeFramesNever(payload: Int) async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        var settings = ProxySettings()
        settings.downstreamFrameTimeout = .seconds(1)
        let proxy = try await ProxyServer.start(configuration: try RuntimeTests.simpleConfig(servers), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, settings: settings)
        let slow = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let steady = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)

        // Half a frame, then a byte every 100 ms: never idle, never whole.
        var frame = try slow.synthesizer.request(id: 999, attributes: [KeyValue("method", "1.1")], payloadSize: payload, oneway: false)
        let head = frame.readSlice(length: frame.readableBytes / 2)!
        let tail = frame
        try await slow.channel.writeAndFlush(head)
        let trickle = Task {
            var rest = tail
            while slow.channel.isActive, let byte = rest.readSlice(length: 1) {
                try? await slow.channel.writeAndFlush(byte)
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        // Meanwhile whole frames, spaced out past the timeout, are answered on a connection
        // that stays open. A frame cut through holds the upstream connection it is written
        // into until it is all in: calls sent behind it wait, and fail when its abort closes
        // that connection (the frame timeout is what bounds the wait).
        for _ in 0..<5 {
            let answer = try await steady.call([KeyValue("method", "1.1")])
            if payload <= 16 << 10 { #expect(answer?.status?.isSuccess == true, "\(String(describing: answer?.status))") }
            try await Task.sleep(for: .milliseconds(400))
        }
        // Only the frame timer closes it (the idle timeout is 300 s, and the rest at ten bytes a
        // second takes minutes), however slow the machine.
        // Two minutes is far past the timer's 1.25 s and far short of the trickle's end.
        try await Fixtures.waitUntil(limit: .seconds(120)) { !slow.channel.isActive }
        trickle.cancel()
        #expect(steady.channel.isActive)
        #expect(try await steady.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        let runtime = await proxy.counters().runtime
        #expect(runtime.downstreamFrameTimeouts == 1 && runtime.downstreamIdleClosed == 0, "\(runtime)")
        #expect(runtime.cutThroughFrames == (payload > 16 << 10 ? 1 : 0), "\(runtime)")
        await steady.close()
        try await Fixtures.waitUntil { await Fixtures.conserved(proxy) }
        await proxy.shutdown()
        await servers.stop()
    }
}
