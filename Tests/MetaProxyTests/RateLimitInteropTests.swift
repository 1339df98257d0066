import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import RateLimitService
import Testing
import Workload

/// The rate-limit service API against an implementation nobody here wrote: gRPC's own Python
/// implementation with Envoy's full protos (PyPI's grpcio and xds-protos), as client of
/// `mplab ratelimit-server`'s service and as the service the proxy's global limits ask.
@Suite("Rate-limit service API: interoperability with gRPC Python and Envoy's protos", .serialized)
struct RateLimitInteropTests {
    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let peer = root.appending(path: "Tests/MetaProxyTests/Peers/rls_peer.py").path
    static var python: String { ProcessInfo.processInfo.environment["MPLAB_PYTHON"] ?? root.appending(path: ".build/venv/bin/python").path }

    struct Answer: Decodable, Equatable {
        struct Status: Decodable, Equatable {
            var code: String
            var limit: Int?
            var unit: String?
            var remaining: Int
        }
        var overall: String
        var statuses: [Status]
    }

    @Test func envoysOwnClientGetsTheServersAnswers() async throws {
        let rules = try RateLimitRules.load([("limits.yaml", """
            domain: production
            descriptors:
              - key: method
                value: sayHello
                rate_limit: { unit: hour, requests_per_unit: 2 }
              - key: method
                rate_limit: { unit: second, requests_per_unit: 100 }
              - key: tenant
                descriptors:
                  - key: method
                    rate_limit: { unit: hour, requests_per_unit: 10 }
            """)])
        let service = try await GlobalRateLimitTests.Service.start(rules)
        let out = try await PeerProcess.run(Self.python, [Self.peer, "client", "\(service.port)"])
        let answers = try out.split(separator: "\n").map { try JSONDecoder().decode(Answer.self, from: Data($0.utf8)) }
        typealias S = Answer.Status
        #expect(answers == [
            Answer(overall: "OK", statuses: [S(code: "OK", limit: 2, unit: "HOUR", remaining: 1)]),
            Answer(overall: "OK", statuses: [S(code: "OK", limit: 2, unit: "HOUR", remaining: 0)]),
            Answer(overall: "OVER_LIMIT", statuses: [S(code: "OVER_LIMIT", limit: 2, unit: "HOUR", remaining: 0)]),
            Answer(overall: "OVER_LIMIT", statuses: [S(code: "OK", limit: 100, unit: "SECOND", remaining: 99), S(code: "OVER_LIMIT", limit: 2, unit: "HOUR", remaining: 0)]),
            Answer(overall: "OK", statuses: [S(code: "OK", limit: 10, unit: "HOUR", remaining: 5)]),
            Answer(overall: "OK", statuses: [S(code: "OK", limit: nil, unit: nil, remaining: 0)]),
        ])
        await service.stop()
    }

    @Test func theProxyAsksAServiceBuiltOnEnvoysProtos() async throws {
        let peer = try RunningPeer(Self.python, [Self.peer, "server"])
        defer { peer.stop() }
        let line = try await peer.line(startingWith: "listening ")
        let port = try #require(Int(line.dropFirst("listening ".count)))
        let servers = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Fixtures.group)
        var config = ProxyConfiguration(protocolName: "livepacket", routes: [RouteConfiguration(name: "r", destinations: [RouteDestination(cluster: "svc")])],
                                        clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))])
        config.globalRateLimit = GlobalRateLimitConfiguration(domain: "mesh", descriptors: [.init(key: "user", attribute: "user")],
                                                              timeout: .seconds(60), denyOnFailure: true, service: "127.0.0.1:\(port)")
        let services = RateLimitServices()
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "livepacket"), codec: LivePacketCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group, rateLimitServices: services)
        let client = try await TestClient.connect(to: proxy.localAddress, protocolName: "livepacket", group: Fixtures.group)
        let allowed = try await client.call([KeyValue("method", "1.1"), KeyValue("user", "alice")])
        let denied = try await client.call([KeyValue("method", "1.1"), KeyValue("user", "deny")])
        #expect(allowed?.status?.isSuccess == true)
        #expect(denied?.status?.isSuccess == false)
        let (core, _) = await proxy.counters()
        #expect(core.globalRateLimitOverLimit == 1 && core.globalRateLimitErrors == 0, "answers with fields the trimmed protos lack still decode")
        // What the peer received, decoded with Envoy's protos.
        let requests = peer.output.filter { $0.hasPrefix("{") }
        #expect(requests == [#"{"domain": "mesh", "descriptors": [[["user", "alice"]]], "hits": 0}"#,
                             #"{"domain": "mesh", "descriptors": [[["user", "deny"]]], "hits": 0}"#])
        await client.close()
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await services.shutdown()
        await servers.stop()
    }
}
