import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import Testing
import TrafficModel

/// A Java Dubbo consumer whose Hessian 2 is Caucho's (Debian's libhessian-java) calls
/// `sayHello(String)` and `echo(byte[])` on `mplab serve`'s synthetic provider, directly and
/// through the proxy, and reads each answer in the argument's type.
@Suite("Proxy on sockets: a Java Hessian consumer", .serialized)
struct DubboHessianTests {
    static let peers = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "Peers")
    static let hessian = "/usr/share/java/hessian.jar"

    /// Compiles the peer into a temporary folder; returns its class path.
    static func compile() async throws -> String {
        guard FileManager.default.fileExists(atPath: hessian) else { throw PeerProcess.Failed(description: "no \(hessian): run scripts/setup") }
        let out = FileManager.default.temporaryDirectory.appending(path: "mplab-hessian-\(UUID().uuidString)").path
        _ = try await PeerProcess.run("javac", ["-cp", hessian, "-d", out, peers.appending(path: "DubboHessianPeer.java").path])
        return "\(hessian):\(out)"
    }

    static func call(_ address: SocketAddress, classPath: String) async throws -> [String] {
        // Hessian 4.0.38 reflects into java.lang when it builds its serializers; Java 17 lets it
        // only when asked.
        let output = try await PeerProcess.run("java", ["--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp", classPath, "DubboHessianPeer", "127.0.0.1", "\(address.port!)"])
        return output.split(separator: "\n").map(String.init)
    }

    @Test func answersComeBackInTheArgumentsTypeDirectlyAndThroughTheProxy() async throws {
        let classPath = try await Self.compile()
        let servers = try await SyntheticServer.start(protocolName: "dubbo", ports: [0], behaviour: .instant, group: Fixtures.group)
        #expect(try await Self.call(servers.addresses[0], classPath: classPath) == ["java.lang.String world", "byte[] [1, 2, 3]"])

        let config = try Fixtures.compile(ProxyConfiguration(protocolName: "dubbo", routes: [RouteConfiguration(name: "greet", destinations: [RouteDestination(cluster: "svc")])],
                                                             clusters: [ClusterConfiguration(name: "svc", hosts: Fixtures.hosts(servers, version: "v1"))]),
                                          protocolName: "dubbo")
        let proxy = try await ProxyServer.start(configuration: config, codec: DubboCodec.self, host: "127.0.0.1", port: 0, group: Fixtures.group)
        #expect(try await Self.call(proxy.localAddress, classPath: classPath) == ["java.lang.String world", "byte[] [1, 2, 3]"])
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
        await servers.stop()
    }
}
