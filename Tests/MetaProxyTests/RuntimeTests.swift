import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import TrafficModel
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

    @Test func connectionsOverTheLimitAreRefusedAndCounted() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        let proxy = try await ProxyServer.start(configuration: try Self.simpleConfig(servers), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, settings: ProxySettings(maxDownstreamConnections: 2))
        let a = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let b = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        #expect(try await a.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        #expect(try await b.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        let c = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        try await c.channel.closeFuture.get()
        #expect(await proxy.counters().runtime.downstreamRefused == 1, "the third is refused")
        // A place freed is taken again.
        await a.close()
        try await Fixtures.waitUntil { await proxy.counters().runtime.downstreamActive == 1 }
        let d = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        #expect(try await d.call([KeyValue("method", "1.1")])?.status?.isSuccess == true)
        await b.close()
        await d.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }

    @Test func idleConnectionsAreClosedAndCounted() async throws {
        // Nothing but the idle timer can close these: however slow the machine, both close
        // after it and are counted; nothing waits on a deadline of its own.
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        let proxy = try await ProxyServer.start(configuration: try Self.simpleConfig(servers), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, settings: ProxySettings(downstreamIdleTimeout: .milliseconds(500)))
        let a = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let b = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        try await a.channel.closeFuture.get()
        try await b.channel.closeFuture.get()
        try await Fixtures.waitUntil { await proxy.counters().runtime.downstreamActive == 0 }
        let runtime = await proxy.counters().runtime
        #expect(runtime.downstreamIdleClosed == 2 && runtime.downstreamAccepted == 2)
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }

    @Test func aClientThatDoesNotReadIsNotReadEither() async throws {
        // 120 KB answers to a client that reads nothing: once the proxy holds 256 KB of writes
        // for it (beyond what the kernel buffers take), it stops reading the client's calls, so
        // calls stop reaching the server. Reading again lets everything through.
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        let proxy = try await ProxyServer.start(configuration: try Self.simpleConfig(servers), codec: LivePacketCodec.self, host: "127.0.0.1", port: 0,
                                                group: Fixtures.group, settings: ProxySettings(writeBufferHighWatermark: 256 << 10, writeBufferLowWatermark: 64 << 10))
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group, autoRead: false)
        let total = 600
        async let answers = client.calls(total, concurrency: total, payload: 120 << 10) { _ in [KeyValue("method", "1.1")] }
        var served = -1
        try await Fixtures.waitUntil { await servers.counters()[0].calls > 0 }
        try await Fixtures.waitUntil {
            // Stable for a second: the flow has stopped. (Were the proxy still reading, all 600
            // would reach the server within that second; a stall of the machine shorter than it
            // only makes this wait longer.)
            let now = await servers.counters()[0].calls
            defer { served = now }
            if now == served { return true }
            try? await Task.sleep(for: .seconds(1))
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
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
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
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        let path = FileManager.default.temporaryDirectory.appending(path: "mplab-watch-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AdminTests.manifests(subset: "v1", servers: servers).write(toFile: path, atomically: true, encoding: .utf8)
        let listener = try await ManagedProxy.start(files: [(path, try String(contentsOfFile: path, encoding: .utf8))], host: "127.0.0.1", port: 0, group: Fixtures.group)
        let outcomes = Outcomes()
        // Changes count from the file as loaded, however late the watcher's first look.
        let baseline = [ConfigurationWatcher.stamps([path])]
        let watcher = Task { await ConfigurationWatcher.watch([([path], listener)], interval: .milliseconds(20), baseline: baseline) { _, result in outcomes.add(result) } }
        defer { watcher.cancel() }
        try AdminTests.manifests(subset: "v2", servers: servers).write(toFile: path, atomically: true, encoding: .utf8)
        try await Fixtures.waitUntil(limit: .seconds(600)) { outcomes.count == 1 }
        try "kind: [".write(toFile: path, atomically: true, encoding: .utf8)
        try await Fixtures.waitUntil(limit: .seconds(600)) { outcomes.count == 2 }
        #expect(outcomes.summary == ["applied", "refused"])
        try await ReloadTests.expectTheSecondSubsetServes(listener, servers, "the good reload is in force")
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

    @Test func syntheticServersQueueAndTurnAwayCallsBeyondTheirLine() async throws {
        // One call at a time, two may wait, and nothing finishes while the test runs: of five
        // calls, one is served, two wait and two are turned away at once — whatever the timing.
        let limited = try await SyntheticServer.start(protocolName: "dubbo", ports: [0], behaviour: HostBehaviour(workers: 1, queueLimit: 2, serviceTime: .constant(3600)),
                                                      group: Fixtures.group)
        let client = try await TestClient.connect(to: limited.addresses[0], protocolName: "dubbo", group: Fixtures.group)
        let calls = (0..<5).map { _ in Task { try await client.call([KeyValue("method", "get")]) } }
        try await Fixtures.waitUntil { await limited.counters()[0].answered == 2 }
        let c = await limited.counters()[0]
        #expect(c.calls == 5 && c.rejected == 2 && c.errors == 0 && c.peakConcurrency == 1 && c.host.inSystem == 3)
        await limited.stop()
        var unavailable = 0, closed = 0
        for call in calls {
            do {
                if try await call.value?.status?.category == .unavailable { unavailable += 1 }
            } catch is TestClient.Closed {
                closed += 1
            }
        }
        #expect(unavailable == 2 && closed == 3, "two turned away, three lost with the server")
    }

    @Test func syntheticServersFollowTheirPhasesOnTheirClock() async throws {
        // Errors from the start, then from 30 s every call closes its connection. The test
        // moves the servers' clock itself: no wall-clock deadline to race.
        let clock = ManualClock()
        let behaviour = HostBehaviour(workers: nil, serviceTime: .constant(0),
                                      phases: [HostPhase(at: .zero, errors: [.serverError(1)]), HostPhase(at: .seconds(30), closesConnections: true)])
        let phased = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: behaviour, group: Fixtures.group, clock: { clock.now })
        let p = try await TestClient.connect(to: phased.addresses[0], protocolName: "livepacket", group: Fixtures.group)
        #expect(try await p.call([KeyValue("method", "1.1")])?.status?.category == .serverError)
        #expect(try await p.call([KeyValue("method", "1.1")])?.status?.category == .serverError)
        clock.now = .seconds(30)
        await #expect(throws: TestClient.Closed.self) { try await p.call([KeyValue("method", "1.1")]) }
        let c = await phased.counters()[0]
        #expect(c.closedByPhase == 1 && c.errors == 2)
        await phased.stop()
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Duration.zero
    var now: Duration {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
