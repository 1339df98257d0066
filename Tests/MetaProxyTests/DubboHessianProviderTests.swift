import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import Testing

/// The other direction of DubboHessianTests: our side writes the calls (the load generator's
/// synthesizer) and Caucho's Hessian2Input reads them in a Java provider, which answers with
/// Hessian2Output; our codec reads those answers. Directly, then through the proxy, whose
/// mutations re-write the attachments the provider reads and the answer the client reads.
@Suite("Proxy on sockets: a Java Hessian provider", .serialized)
struct DubboHessianProviderTests {
    static let service = "org.demo.Greeter"
    /// Not ASCII, with a character outside the BMP: Java holds it as a surrogate pair, which
    /// Hessian writes as two three-byte units (CESU-8), not as one four-byte UTF-8 sequence.
    static let text = "Grüße ☃ 𝄞"

    static func call(_ method: String, _ number: Int, interface: String = service, _ extra: [KeyValue] = []) -> [KeyValue] {
        [KeyValue(AttributeKey.interface, interface), KeyValue(AttributeKey.method, method), KeyValue("x-call", "\(number)")] + extra
    }

    /// The provider's line for call `number` (its attachments carry `x-call`).
    static func line(of number: Int, in peer: RunningPeer) async throws -> String {
        let mark = "\"x-call\": \"\(number)\""
        try await Fixtures.waitUntil { peer.output.contains { $0.contains(mark) } }
        return peer.output.first { $0.contains(mark) }!
    }

    /// Calls numbered from `first` on: what the provider read, and what we read of its answers.
    static func exercise(_ address: SocketAddress, peer: RunningPeer, first: Int, added: [String] = [], stamped: Bool = false) async throws {
        let client = try await TestClient.connect(to: address, protocolName: "dubbo", group: Fixtures.group)
        defer { Task { await client.close() } }

        // An echo with a small and a chunked (over 32 KiB) byte[]; an attachment travels there and back.
        for (n, size) in [(first, 5), (first + 1, 100_000)] {
            let answer = try #require(try await client.call(call("echo", n, [KeyValue("x-echo", text)]), payload: size))
            #expect(answer.status?.category == .success, "\(String(describing: answer.status))")
            #expect(answer.attributes["x-echo"]?.string == text)
            #expect(answer.attributes["dubbo"]?.string == "2.0.2")
            #expect(stamped == (answer.attributes["x-stamp"]?.string == "proxy"))
            let read = try await line(of: n, in: peer)
            let bytes = size == 5 ? "byte[5] 78x5" : "byte[100000] 78x100000"
            #expect(read.hasPrefix("call dubbo=\"2.0.2\" path=\"\(service)\" version=\"0.0.0\" method=\"echo\" types=\"[B\" arguments=[\(bytes)] attachments=java.util.HashMap{"), "\(read)")
            #expect(read.contains("\"x-echo\": \(CauchoHessian.quoted(text))"), "\(read)")
            #expect(read.contains("\"interface\": \"\(service)\""), "\(read)")
            for a in added { #expect(read.contains(a), "\(read) lacks \(a)") }
            #expect(!read.contains("+unread bytes"), "\(read)")
        }

        // A thrown exception and a missing method are OK frames with an exception: application errors.
        for (n, method) in [(first + 2, "fail"), (first + 3, "absent")] {
            let answer = try #require(try await client.call(call(method, n)))
            #expect(answer.status?.category == .applicationError, "\(method): \(String(describing: answer.status))")
            #expect(try await line(of: n, in: peer).contains("method=\"\(method)\""))
        }
        // A service the provider does not export: status 70, SERVICE_ERROR.
        let unknown = try #require(try await client.call(call("echo", first + 4, interface: "org.demo.Nobody")))
        #expect(unknown.status == ResponseStatus(category: .serverError, code: 70), "\(String(describing: unknown.status))")

        // A oneway call gets no answer; the provider shows it arrived whole.
        _ = try await client.call(call("echo", first + 5), payload: 3, oneway: true)
        #expect(try await line(of: first + 5, in: peer).contains("arguments=[byte[3] 78x3]"))
    }

    @Test func javaReadsOurCallsAndWeReadItsAnswersDirectlyAndThroughTheProxy() async throws {
        let (peer, port) = try await CauchoHessian.startProvider()
        defer { peer.stop() }
        let provider = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        try await Self.exercise(provider, peer: peer, first: 1)

        // The proxy inserts an attachment into each call (the encoder re-writes the map) and one
        // into each answer; Hessian must read the first, our codec the second.
        var route = RouteConfiguration(name: "greet", destinations: [RouteDestination(cluster: "greeter")])
        route.requestMutation = [KeyValue("x-added", Self.text)]
        route.responseMutation = [KeyValue("x-stamp", "proxy")]
        let config = try Fixtures.compile(ProxyConfiguration(protocolName: "dubbo", routes: [route],
                                                             clusters: [ClusterConfiguration(name: "greeter", hosts: [HostConfiguration(address: "127.0.0.1:\(port)")])]),
                                          protocolName: "dubbo")
        let proxy = try await ProxyServer.start(configuration: config, codec: DubboCodec.self, host: "127.0.0.1", port: 0, group: Fixtures.group)
        try await Self.exercise(proxy.localAddress, peer: peer, first: 101, added: ["\"x-added\": \(CauchoHessian.quoted(Self.text))"], stamped: true)
        #expect(!peer.output.contains { $0.hasPrefix("unreadable") || $0.hasPrefix("connection failed") }, "\(peer.output)")
        try await Fixtures.waitUntil { await Fixtures.conserved(proxy) }
        await proxy.shutdown()
    }
}
