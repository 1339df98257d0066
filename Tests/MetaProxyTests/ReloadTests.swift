import Foundation
import MetaProtocol
import MetaProtocolCodecs
import Testing

@testable import MetaProxy

/// Reloads as they happen under a running proxy: a Kubernetes ConfigMap's symlink swap, a file
/// caught part-way through being written, and reloads asked for at once.
@Suite("Proxy reloads", .serialized)
struct ReloadTests {
    /// A ConfigMap volume: `mesh.yaml → ..data/mesh.yaml`, `..data → ..<timestamp>/`; an update
    /// writes a new timestamped directory and renames a new `..data` link over the old one.
    @Test func aConfigMapSymlinkSwapReloadsOnce() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        let volume = FileManager.default.temporaryDirectory.appending(path: "mplab-configmap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: volume) }
        try Self.writeConfigMap(AdminTests.manifests(subset: "v1", servers: servers), in: volume, version: "..2026_12_03_00_00_00.1")
        try FileManager.default.createSymbolicLink(atPath: "\(volume)/mesh.yaml", withDestinationPath: "..data/mesh.yaml")
        let path = "\(volume)/mesh.yaml"
        let listener = try await ManagedProxy.start(files: [(path, try String(contentsOfFile: path, encoding: .utf8))], host: "127.0.0.1", port: 0, group: Fixtures.group)
        let outcomes = RuntimeTests.Outcomes()
        // The files as loaded, taken here: inside the task it would be read whenever the task
        // first runs, which beside the suite can be after the change below.
        let baseline = [ConfigurationWatcher.stamps([path])]
        let watcher = Task {
            await ConfigurationWatcher.watch([([path], listener)], interval: .milliseconds(20), baseline: baseline) { _, result in outcomes.add(result) }
        }
        defer { watcher.cancel() }

        try Self.writeConfigMap(AdminTests.manifests(subset: "v2", servers: servers), in: volume, version: "..2026_12_03_00_01_00.2")
        try FileManager.default.removeItem(atPath: "\(volume)/..2026_12_03_00_00_00.1")
        try await Fixtures.waitUntil(limit: .seconds(600)) { outcomes.count == 1 }
        // Twenty more looks: the swap was one change, and the old directory's removal none.
        try await Task.sleep(for: .milliseconds(400))
        #expect(outcomes.summary == ["applied"])
        #expect(await listener.reloads == 1)
        try await ReloadTests.expectTheSecondSubsetServes(listener, servers, "the swapped-in configuration is in force")
    }

    /// A file cut short (a writer caught part-way, a full disk) that still parses, as a routeless
    /// configuration, is refused and the configuration in force keeps serving.
    @Test func aTruncatedFileIsRefusedAndTheOldConfigurationServesOn() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        let path = FileManager.default.temporaryDirectory.appending(path: "mplab-truncated-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let whole = AdminTests.manifests(subset: "v2", servers: servers)
        try whole.write(toFile: path, atomically: true, encoding: .utf8)
        let listener = try await ManagedProxy.start(files: [(path, whole)], host: "127.0.0.1", port: 0, group: Fixtures.group)
        let outcomes = RuntimeTests.Outcomes()
        // The files as loaded, taken here: inside the task it would be read whenever the task
        // first runs, which beside the suite can be after the change below.
        let baseline = [ConfigurationWatcher.stamps([path])]
        let watcher = Task {
            await ConfigurationWatcher.watch([([path], listener)], interval: .milliseconds(20), baseline: baseline) { _, result in outcomes.add(result) }
        }
        defer { watcher.cancel() }

        // Cut after the MetaRouter's hosts: valid YAML, a MetaRouter with no routes.
        let cut = try #require(whole.range(of: "hosts: [svc]\n")).upperBound
        try String(whole[..<cut]).write(toFile: path, atomically: false, encoding: .utf8)
        try await Fixtures.waitUntil(limit: .seconds(600)) { outcomes.count == 1 }
        #expect(outcomes.summary == ["refused"])
        #expect(await listener.refusedReloads == 1)
        #expect(await listener.reloads == 0)
        #expect(await listener.files.map(\.text) == [whole], "the configuration shown is the one in force")
        do {
            _ = try await listener.reload([("empty.yaml", "")])
            Issue.record("an empty configuration was applied")
        } catch {
            #expect("\(error)".contains("empty.yaml: no routes"))
        }
        try await ReloadTests.expectTheSecondSubsetServes(listener, servers, "the old configuration serves on")
    }

    /// Reloads asked for at once take effect in the order they were asked for: the last one is
    /// in force, and it is the one `GET /config` shows.
    @Test func concurrentReloadsEndWithTheLastInForceAndShown() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        let first = AdminTests.manifests(subset: "v1", servers: servers)
        let listener = try await ManagedProxy.start(files: [("start.yaml", first)], host: "127.0.0.1", port: 0, group: Fixtures.group)
        for attempt in 0..<5 {
            // Route names tell the versions apart.
            let versions = (0..<16).map { k in
                AdminTests.manifests(subset: k % 2 == 0 ? "v1" : "v2", servers: servers).replacingOccurrences(of: "- name: all", with: "- name: r\(attempt)-\(k)")
            }
            let results = try await withThrowingTaskGroup(of: (generation: Int, version: Int).self) { group in
                for (k, text) in versions.enumerated() {
                    // Mixed priorities: an actor runs its waiting jobs highest first, so reloads
                    // resuming after the swap's hop to the event loop can overtake each other.
                    group.addTask(priority: k % 2 == 0 ? .low : .high) { (try await listener.numberedReload([("v\(k).yaml", text)]).generation, k) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let last = try #require(results.max { $0.generation < $1.generation }).version
            let inForce = await listener.server.configuration().source.routes.map(\.name)
            #expect(inForce == ["r\(attempt)-\(last)"], "the reload asked for last is in force")
            #expect(await listener.files.map(\.name) == ["v\(last).yaml"], "and it is the one shown")
        }
        await listener.server.shutdown()
        await servers.stop()
    }

    /// Five calls through `listener` all reach the second of `servers` (subset v2); then both stop.
    static func expectTheSecondSubsetServes(_ listener: ManagedProxy, _ servers: SyntheticServer, _ why: Comment) async throws {
        let client = try await TestClient.connect(to: listener.server.localAddress, protocolName: "livepacket", group: Fixtures.group)
        _ = try await client.calls(5) { _ in [KeyValue("method", "1.1")] }
        #expect(await servers.counters().map(\.calls) == [0, 5], why)
        await client.close()
        await listener.server.shutdown()
        await servers.stop()
    }

    /// Writes `text` as `mesh.yaml` in a new `version` directory and points `..data` at it in
    /// one rename, as the kubelet does.
    static func writeConfigMap(_ text: String, in volume: String, version: String) throws {
        try FileManager.default.createDirectory(atPath: "\(volume)/\(version)", withIntermediateDirectories: true)
        try text.write(toFile: "\(volume)/\(version)/mesh.yaml", atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: "\(volume)/..data_tmp")
        try FileManager.default.createSymbolicLink(atPath: "\(volume)/..data_tmp", withDestinationPath: version)
        guard rename("\(volume)/..data_tmp", "\(volume)/..data") == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
