import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import Testing

/// The socket runtime's own protections and tools: connection limit, idle timeout, access log,
/// the configuration watcher, and the synthetic servers' concurrency, line and phases.
@Suite("Proxy on sockets: runtime", .serialized)
struct RuntimeTests {
    static func simpleConfig(_ servers: SyntheticServer, protocolName: String = "livepacket") throws -> CompiledConfiguration {
        try Fixtures.compile(ProxyConfiguration(protocolName: protocolName, routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")])],
                                                clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))]),
                             protocolName: protocolName)
    }

    @Test func connectionsOverTheLimitAndIdleOnesAreClosedAndCounted() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .init(), group: Fixtures.group)
        let proxy = try await ProxyServer.start(configuration: try Self.simpleConfig(servers), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, settings: ProxySettings(maxDownstreamConnections: 2, downstreamIdleTimeout: .seconds(2)))
        let a = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let b = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        #expect(try await a.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        let c = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        try await c.channel.closeFuture.get()
        #expect(await proxy.counters().runtime.downstreamRefused == 1, "the third is refused")
        // Idle for the timeout: both close.
        try await a.channel.closeFuture.get()
        try await b.channel.closeFuture.get()
        let runtime = await proxy.counters().runtime
        #expect(runtime.downstreamIdleClosed == 2 && runtime.downstreamActive == 0)
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }

    @Test func aClientThatDoesNotReadIsNotReadEither() async throws {
        // 120 KB answers to a client that reads nothing: once the proxy holds 256 KB of writes
        // for it (beyond what the kernel buffers take), it stops reading the client's calls, so
        // calls stop reaching the server. Reading again lets everything through.
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .init(), group: Fixtures.group)
        let proxy = try await ProxyServer.start(configuration: try Self.simpleConfig(servers), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, settings: ProxySettings(writeBufferHighWatermark: 256 << 10, writeBufferLowWatermark: 64 << 10))
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group, autoRead: false)
        let total = 600
        async let answers = client.calls(total, concurrency: total, payload: 120 << 10) { _ in [KeyValue("method", "1.1")] }
        var served = -1
        try await Fixtures.waitUntil {
            // Stable for 200 ms: the flow has stopped.
            let now = await servers.counters()[0].calls
            defer { served = now }
            if now == served { return true }
            try? await Task.sleep(for: .milliseconds(200))
            return false
        }
        #expect(served > 0 && served < total, "the proxy stopped reading after \(served) calls")
        try await client.startReading()
        #expect(try await answers.count == total)
        #expect(await servers.counters()[0].calls == total)
        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }

    @Test func theAccessLogHasALinePerRequest() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .init(), group: Fixtures.group)
        let path = FileManager.default.temporaryDirectory.appending(path: "mplab-access-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try FileAccessLog(path: path)
        let proxy = try await ProxyServer.start(configuration: try Self.simpleConfig(servers), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, accessLog: log)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        _ = try await client.calls(25) { _ in [KeyValue("method", "153.2")] }
        await client.close()
        await proxy.shutdown()  // flushes
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 25)
        #expect(lines.allSatisfy { $0.contains("route=r cluster=svc") })
        await servers.stop()
    }

    @Test func theWatcherReloadsChangedFilesAndRefusesBadOnes() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .init(), group: Fixtures.group)
        let path = FileManager.default.temporaryDirectory.appending(path: "mplab-watch-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AdminTests.manifests(subset: "v1", servers: servers).write(toFile: path, atomically: true, encoding: .utf8)
        let listener = try await ManagedProxy.start(files: [(path, try String(contentsOfFile: path, encoding: .utf8))], host: "127.0.0.1", port: 0, group: Fixtures.group)
        let outcomes = Outcomes()
        let watcher = Task { await ConfigurationWatcher.watch([([path], listener)], interval: .milliseconds(20)) { _, result in outcomes.add(result) } }
        defer { watcher.cancel() }
        try await Task.sleep(for: .milliseconds(60))
        try AdminTests.manifests(subset: "v2", servers: servers).write(toFile: path, atomically: true, encoding: .utf8)
        try await Fixtures.waitUntil { outcomes.count == 1 }
        try "kind: [".write(toFile: path, atomically: true, encoding: .utf8)
        try await Fixtures.waitUntil { outcomes.count == 2 }
        #expect(outcomes.summary == ["applied", "refused"])
        let client = try await TestClient.connect(to: listener.server.localAddress, protocolName: "livepacket", group: Fixtures.group)
        _ = try await client.calls(5) { _ in [KeyValue("method", "1.1")] }
        #expect(await servers.counters().map(\.calls) == [0, 5], "the good reload is in force")
        await client.close()
        await listener.server.shutdown()
        await servers.stop()
    }

    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ r: Result<[String], Error>) {
            lock.lock()
            items.append((try? r.get()) != nil ? "applied" : "refused")
            lock.unlock()
        }
        var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }
        var summary: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }

    @Test func syntheticServersQueueRejectAndFollowTheirPhases() async throws {
        // One call at a time, two may wait: of five sent at once, two are turned away.
        let limited = try await SyntheticServer.start(protocolName: "dubbo", ports: [0], behaviour: .init(serviceTime: .constant(0.05), concurrency: 1, queueLimit: 2),
                                                      group: Fixtures.group)
        let client = try await TestClient.connect(to: limited.addresses[0], protocolName: "dubbo", group: Fixtures.group)
        let answers = try await client.calls(5, concurrency: 5) { _ in [KeyValue("method", "get")] }
        #expect(answers.filter { $0.status?.isSuccess == true }.count == 3)
        #expect(answers.filter { $0.status?.category == .unavailable }.count == 2)
        let c = await limited.counters()[0]
        #expect(c.rejected == 2 && c.peakConcurrency == 1)
        await client.close()
        await limited.stop()

        // Errors from 0 s, then from 0.3 s every call closes its connection.
        let phased = try await SyntheticServer.start(protocolName: "livepacket", ports: [0],
                                                     behaviour: .init(phases: [.init(at: .zero, errorRate: 1), .init(at: .milliseconds(300), closesConnections: true)]),
                                                     group: Fixtures.group)
        let p = try await TestClient.connect(to: phased.addresses[0], protocolName: "livepacket", group: Fixtures.group)
        #expect(try await p.call([KeyValue("method", "1.1")])?.status?.category == .serverError)
        try await Task.sleep(for: .milliseconds(350))
        await #expect(throws: TestClient.Closed.self) { try await p.call([KeyValue("method", "1.1")]) }
        #expect(await phased.counters()[0].closedByPhase == 1)
        await phased.stop()
    }
}
