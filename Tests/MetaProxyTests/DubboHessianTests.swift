import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import Testing
import TrafficModel

/// Dubbo with Hessian 2 bodies against Caucho's implementation (Debian's libhessian-java): a
/// Java consumer calls `mplab serve`'s synthetic provider, directly and through the proxy, and
/// reads each answer in the argument's type; a Java provider (DubboHessianProviderTests.swift)
/// reads the calls our side writes and answers them, directly and through the proxy.
@Suite("Proxy on sockets: a Java Hessian consumer and provider", .serialized)
struct DubboHessianTests {
    static func call(_ address: SocketAddress, _ calls: [String] = []) async throws -> [String] {
        try await CauchoHessian.run("DubboHessianPeer", ["127.0.0.1", "\(address.port!)"] + calls)
    }

    @Test func answersComeBackInTheArgumentsTypeDirectlyAndThroughTheProxy() async throws {
        // The synthetic provider echoes the argument; nothing() has none, so its answer is null.
        let calls = ["sayHello", "echo", "nothing"], answers = ["java.lang.String world", "byte[] [1, 2, 3]", "null"]
        let servers = try await SyntheticServer.start(protocolName: "dubbo", ports: [0], behaviour: .instant, group: Fixtures.group)
        #expect(try await Self.call(servers.addresses[0], calls) == answers)

        let config = try Fixtures.compile(ProxyConfiguration(protocolName: "dubbo", routes: [RouteConfiguration(name: "greet", destinations: [RouteDestination(cluster: "svc")])],
                                                             clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))]),
                                          protocolName: "dubbo")
        let proxy = try await ProxyServer.start(configuration: config, codec: DubboCodec.self, host: "127.0.0.1", port: 0, group: Fixtures.group)
        #expect(try await Self.call(proxy.localAddress, calls) == answers)
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }
}
