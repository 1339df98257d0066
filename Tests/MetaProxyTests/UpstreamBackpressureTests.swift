import MetaProtocol
import MetaProtocolCodecs
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import MetaProxy

/// A host that accepts and then reads nothing until told to: what the proxy writes to it can
/// only pile up in the proxy.
final class StalledHost: @unchecked Sendable {
    let channel: Channel
    private let accepted = NIOLockedValueBox<[Channel]>([])

    var address: String { "127.0.0.1:\(channel.localAddress!.port!)" }

    init(group: EventLoopGroup) async throws {
        let accepted = self.accepted
        channel = try await ServerBootstrap(group: group)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.socketOption(.so_rcvbuf), value: 64 << 10)
            .childChannelInitializer { child in
                accepted.withLockedValue { $0.append(child) }
                return child.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// Reads (and throws away) everything from now on.
    func startReading() async throws {
        for child in accepted.withLockedValue({ $0 }) {
            try await child.setOption(.autoRead, value: true).get()
            child.read()
        }
    }

    func stop() async {
        for child in accepted.withLockedValue({ $0 }) { try? await child.close() }
        try? await channel.close()
    }
}

/// Oneway calls take no breaker slot and get no answer, so nothing but backpressure bounds what
/// a client can pile up in the proxy for a host that stopped reading.
@Suite("Proxy on sockets: backpressure from a stalled host", .serialized)
struct UpstreamBackpressureTests {
    @Test func onewayCallsToAStalledHostStopBeingReadAndAllGoOnceItReads() async throws {
        let host = try await StalledHost(group: Fixtures.group)
        let config = try Fixtures.compile(ProxyConfiguration(protocolName: "dubbo", routes: [RouteConfiguration(name: "all", destinations: [RouteDestination(cluster: "svc")])],
                                                             clusters: [ClusterConfiguration(name: "svc", hosts: [HostConfiguration(address: host.address)])]),
                                          protocolName: "dubbo")
        let proxy = try await ProxyServer.start(configuration: config, codec: DubboCodec.self, host: "127.0.0.1", port: 0, group: Fixtures.group,
                                                settings: ProxySettings(writeBufferHighWatermark: 256 << 10, writeBufferLowWatermark: 64 << 10))
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "dubbo", group: Fixtures.group)
        // 6000 oneway calls of 8 KiB: 48 MB, far more than the kernel's buffers and the
        // proxy's 256 KiB watermark together.
        let total = 6000
        let sending = Task {
            for _ in 0..<total { _ = try await client.call([], payload: 8 << 10, oneway: true) }
        }
        var forwarded = -1
        try await Fixtures.waitUntil { await proxy.counters().core.onewayForwarded > 0 }
        try await Fixtures.waitUntil {
            // Stable for a second: the proxy stopped reading. (Were it still reading, the rest
            // would be forwarded into its memory within that second.)
            let now = await proxy.counters().core.onewayForwarded
            defer { forwarded = now }
            if now == forwarded { return true }
            try? await Task.sleep(for: .seconds(1))
            return false
        }
        #expect(forwarded > 0 && forwarded < total / 2, "the proxy took \(forwarded) of \(total) calls for a host reading nothing")
        #expect(await proxy.counters().runtime.downstreamReadPauses >= 1)

        // The host reads: every call goes through, none lost.
        try await host.startReading()
        try await sending.value
        try await Fixtures.waitUntil { await proxy.counters().core.onewayForwarded == total }
        #expect(await Fixtures.conserved(proxy))
        await client.close()
        await proxy.shutdown()
        await host.stop()
    }
}
