import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import Testing

/// A real Apache Thrift Python client calls a real Apache Thrift Python server through the
/// proxy, in every transport and protocol: answers, declared exceptions and oneway calls pass
/// through; rate-limited and unroutable calls surface in Python as `TApplicationException`.
@Suite("Proxy on sockets: Apache Thrift at both ends", .serialized)
struct ThriftEndToEndTests {
    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let peer = root.appending(path: "Tests/MetaProxyTests/Peers/thrift_e2e.py").path
    static var python: String { ProcessInfo.processInfo.environment["MPLAB_PYTHON"] ?? root.appending(path: ".build/venv/bin/python").path }

    /// Stops the server and checks that it went: a peer left running outlives the suite (they
    /// did, when SIGTERM came to them blocked from the test process).
    static func stop(_ server: Process) {
        server.terminate()
        let deadline = Date().addingTimeInterval(30)
        while server.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!server.isRunning, "the Python Thrift server did not stop on SIGTERM")
        if server.isRunning { kill(server.processIdentifier, SIGKILL) }
    }

    /// Starts the Python server; returns the process and its port. With `notifications`, the
    /// server appends a line `notify EVENT` to that file for each oneway `notify` it handles.
    static func startServer(framed: Bool, proto: String, notifications: URL? = nil) throws -> (Process, Int) {
        guard FileManager.default.isExecutableFile(atPath: python) else { throw PeerProcess.Failed(description: "no Python at \(python): run scripts/setup") }
        let process = Process()
        process.executableURL = URL(filePath: python)
        process.arguments = [peer, "serve", framed ? "framed" : "unframed", proto] + (notifications.map { [$0.path] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is "port N".
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw PeerProcess.Failed(description: "the Thrift server exited before saying its port") }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let port = Int(text.split(separator: "\n")[0].dropFirst("port ".count)) else { throw PeerProcess.Failed(description: "unexpected: \(text)") }
        return (process, port)
    }

    static func runClient(port: Int, framed: Bool, proto: String) async throws -> String {
        try await PeerProcess.run(python, [peer, "call", String(port), framed ? "framed" : "unframed", proto])
    }

    @Test(arguments: [(true, "binary"), (true, "compact"), (false, "binary"), (false, "compact")])
    func pythonClientThroughTheProxyToPythonServer(framed: Bool, proto: String) async throws {
        // The oneway call gets no answer, so only the server can say it arrived: it writes
        // each notify it handles to this file.
        let notifications = FileManager.default.temporaryDirectory.appending(path: "mplab-thrift-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: notifications) }
        let (server, port) = try Self.startServer(framed: framed, proto: proto, notifications: notifications)
        defer { Self.stop(server) }
        var config = ProxyConfiguration(protocolName: "thrift",
                                        routes: [RouteConfiguration(name: "echo", match: [AttributeCondition("method", .regex("echo|ping|notify"))],
                                                                    destinations: [RouteDestination(cluster: "python")])],
                                        clusters: [ClusterConfiguration(name: "python", hosts: [HostConfiguration(address: "127.0.0.1:\(port)")])])
        config.localRateLimit = LocalRateLimitConfiguration(tokenBucket: nil, conditions: [
            .init(match: [AttributeCondition("method", .exact("ping"))], tokenBucket: TokenBucketSpec(maxTokens: 3, tokensPerFill: 3, fillInterval: .seconds(60))),
        ])
        let proxy = try await ProxyServer.start(configuration: try Fixtures.compile(config, protocolName: "thrift"), codec: ThriftCodec.self,
                                                host: "127.0.0.1", port: 0, group: Fixtures.group)
        let summary = try await Self.runClient(port: proxy.localAddress.port!, framed: framed, proto: proto)
        #expect(summary.contains("\"echo\": 20"), "\(summary)")
        try await Fixtures.waitUntil { await proxy.counters().core.onewayForwarded == 1 }
        // Forwarded is the proxy's word; the server must have decoded and handled it, once
        // (a frame mangled on the way, or sent twice, fails here).
        func notified() -> [String] {
            ((try? String(contentsOf: notifications, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        try await Fixtures.waitUntil(limit: .seconds(30)) { notified().contains("notify started") }
        #expect(notified() == ["notify started"], "the server saw \(notified())")
        let (core, runtime) = await proxy.counters()
        #expect(core.accepted == 20 + 1 + 1 + 5 + 1)
        #expect(core.localReplies[Int(LocalReplyError.Kind.overLimit.rawValue)] == 2)
        #expect(core.localReplies[Int(LocalReplyError.Kind.routeNotFound.rawValue)] == 1)
        #expect(runtime.downstreamProtocolErrors == 0 && runtime.upstreamProtocolErrors == 0)
        #expect(await Fixtures.conserved(proxy))
        await proxy.shutdown()
    }
}
