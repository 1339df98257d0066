import MetaProtocol
import MetaProtocolCodecs
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

@testable import MetaProxy
import TrafficModel
import Testing

/// A host that accepts and never answers, on real sockets: the request timeouts it causes eject
/// it, and from then on it gets no new call; every call is answered, its own with a timeout.
@Suite("Proxy on sockets: a black-holed host", .serialized)
struct BlackHoleTests {
    @Test func aBlackHoledHostStopsGettingCallsOnceTheTimeoutsItCausesEjectIt() async throws {
        let healthy = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        // Accepts, reads, and holds every call for an hour: a black hole for this test.
        let hole = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(3600)),
                                                   group: Fixtures.group)
        let outlier = OutlierDetectionPolicy(baseEjectionTime: .seconds(3600), maxEjectionTime: .seconds(3600))
        let config = ProxyConfiguration(
            protocolName: "livepacket",
            routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")], timeout: .milliseconds(500))],
            clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(healthy, version: "v1") + Fixtures.hosts(hole, version: "v1"), outlierDetection: outlier)])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group, settings: ProxySettings(seed: 11))
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let concurrency = 8

        // Every call gets an answer (a hung one fails the test): a timeout from the hole, a
        // success from the others.
        let first = try await client.calls(120, concurrency: concurrency) { _ in [KeyValue("method", "1.1")] }
        let toHole = await hole.counters()[0].calls
        let coverage = await proxy.coverage()
        #expect(coverage["ejection svc consecutive_5xx"] == 1, "\(coverage)")
        // What reached the hole before the fifth failure ejected it: at most what the client
        // had in flight, twice over (the failures end the first tries together, and a freed
        // slot may send one more there before the fifth is counted).
        #expect(toHole >= 5 && toHole <= 2 * concurrency, "\(toHole) calls reached the hole")
        #expect(first.count == 120)
        #expect(first.filter { $0.status?.isSuccess == true }.count == 120 - toHole)

        // Ejected: none of the next calls goes there, and all of them succeed.
        let second = try await client.calls(300, concurrency: concurrency) { _ in [KeyValue("method", "1.1")] }
        #expect(second.allSatisfy { $0.status?.isSuccess == true })
        #expect(await hole.counters()[0].calls == toHole)
        let (core, _) = await proxy.counters()
        #expect(core.timeouts >= 3, "the first failures are timeouts (later ones may be the resets of the retired connection)")

        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await healthy.stop()
        await hole.stop()
    }

    #if os(Linux)
    @Test(arguments: [TCPKeepalive(idleSeconds: 7, intervalSeconds: 3, probes: 2), nil])
    func upstreamConnectionsProbeAnIdlePeerAsConfigured(keepalive: TCPKeepalive?) async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        let config = ProxyConfiguration(protocolName: "livepacket", routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")])],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        var settings = ProxySettings()
        settings.upstreamKeepalive = keepalive
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group, settings: settings)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        #expect(try await client.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        let upstream = try #require(await proxy.upstreamChannels().first)
        func option(_ level: NIOBSDSocket.OptionLevel, _ name: CInt) async throws -> Int {
            try await upstream.getOption(ChannelOptions.Types.SocketOption(level: level, name: .init(rawValue: name))).get()
        }
        #expect(try await option(.socket, SO_KEEPALIVE) == (keepalive == nil ? 0 : 1))
        if let keepalive {
            #expect(try await option(.tcp, TCP_KEEPIDLE) == keepalive.idleSeconds)
            #expect(try await option(.tcp, TCP_KEEPINTVL) == keepalive.intervalSeconds)
            #expect(try await option(.tcp, TCP_KEEPCNT) == keepalive.probes)
        }
        await client.close()
        await proxy.shutdown()
        await servers.stop()
    }
    #endif
}
