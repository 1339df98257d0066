import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import TrafficModel
import NIOCore
import Testing

/// The admin endpoint over real HTTP: health, stats, metrics, and configuration swaps that are
/// applied when valid and refused, with the old configuration kept, when not.
@Suite("Proxy on sockets: admin endpoint", .serialized)
struct AdminTests {
    static func manifests(subset: String, servers: SyntheticServer) -> String {
        let endpoints = servers.addresses.enumerated().map { i, a in
            "    - { address: 127.0.0.1, ports: { tcp-metaprotocol-livepacket-svc: \(a.port!) }, labels: { version: v\(i + 1) } }"
        }.joined(separator: "\n")
        return """
            apiVersion: metaprotocol.aeraki.io/v1alpha1
            kind: MetaRouter
            metadata: { name: r }
            spec:
              hosts: [svc]
              routes:
                - name: all
                  route: [{ destination: { host: svc, subset: \(subset) } }]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: DestinationRule
            metadata: { name: svc }
            spec:
              host: svc
              subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: ServiceEntry
            metadata: { name: svc }
            spec:
              hosts: [svc]
              ports: [{ number: 1, name: tcp-metaprotocol-livepacket-svc, protocol: TCP }]
              endpoints:
            \(endpoints)

            """
    }

    static func http(_ method: String, _ url: String, body: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        // The answer is written by a task on the cooperative pool, which the suite's simulations
        // can hold for longer than URLSession's default 60 s on two cores (a fresh-clone run timed
        // out so). What is tested is the answer, not how soon it comes.
        request.timeoutInterval = 600
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    @Test func configurationSwapsAreAppliedOrRefusedWhole() async throws {
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0, 0], behaviour: .instant, group: Fixtures.group)
        let listener = try await ManagedProxy.start(files: [("svc.yaml", Self.manifests(subset: "v1", servers: servers))], host: "127.0.0.1", port: 0, group: Fixtures.group)
        let endpoints = ProxyAdmin(listeners: [listener])
        let admin = try await AdminServer.start(port: 0, group: Fixtures.group) { await endpoints.respond($0) }
        let base = "http://127.0.0.1:\(admin.localAddress.port!)"
        let client = try await TestClient.connect(to: listener.server.localAddress, protocolName: "livepacket", group: Fixtures.group)

        #expect(try await Self.http("GET", base + "/healthz") == (200, "ok\n"))
        _ = try await client.calls(10) { _ in [KeyValue("method", "1.1")] }
        #expect(await servers.counters().map(\.calls) == [10, 0], "v1 is host 0")

        // A configuration with an error anywhere is refused whole, saying where; v1 keeps serving.
        let bad = Self.manifests(subset: "v2", servers: servers) + "---\napiVersion: v1\nkind: Bogus\nspec: {}\n"
        let (refused, why) = try await Self.http("POST", base + "/config", body: bad)
        #expect(refused == 400)
        #expect(why.contains("POST /config:") && why.contains("unknown kind \"Bogus\""), "\(why)")
        _ = try await client.calls(10) { _ in [KeyValue("method", "1.1")] }
        #expect(await servers.counters().map(\.calls) == [20, 0])

        // A good one is swapped in at once.
        let (applied, _) = try await Self.http("POST", base + "/config", body: Self.manifests(subset: "v2", servers: servers))
        #expect(applied == 200)
        _ = try await client.calls(10) { _ in [KeyValue("method", "1.1")] }
        #expect(await servers.counters().map(\.calls) == [20, 10])
        let (_, config) = try await Self.http("GET", base + "/config")
        #expect(config.contains("subset: v2"))

        let (_, stats) = try await Self.http("GET", base + "/stats")
        #expect(stats.contains("\"accepted\": 30") && stats.contains("\"reloads\": 1") && stats.contains("\"refused_reloads\": 1"))
        let (_, metrics) = try await Self.http("GET", base + "/metrics")
        #expect(metrics.contains("mplab_requests_accepted_total 30\n") && metrics.contains("mplab_configuration_swaps_total 1\n"))
        #expect(try await Self.http("DELETE", base + "/config").0 == 405)
        #expect(try await Self.http("GET", base + "/nothing").0 == 404)

        await client.close()
        #expect(await Fixtures.conserved(listener.server))
        await admin.stop()
        await listener.server.shutdown()
        await servers.stop()
    }
}
