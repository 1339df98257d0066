import Foundation
import MetaProxy
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// The admin endpoint can swap the configuration, so it refuses what a browser page, a rebound
/// name or another host could send it, and it holds a bounded number of connections for a
/// bounded time.
@Suite("Proxy on sockets: who may use the admin endpoint")
struct AdminAccessTests {
    static func request(_ headers: [(String, String)]) -> AdminRequest { request(.POST, "/config", headers) }

    static func request(_ method: HTTPMethod, _ path: String, _ headers: [(String, String)]) -> AdminRequest {
        AdminRequest(method: method, path: path, headers: HTTPHeaders(headers), body: "")
    }

    @Test func loopbackAcceptsOnlyLoopbackNamesAndSameOriginRequests() {
        let access = AdminAccess()
        for host in ["127.0.0.1:15000", "localhost:15000", "[::1]:15000", "localhost"] {
            #expect(access.refusal(Self.request([("Host", host)])) == nil, "\(host)")
        }
        // A name that a page's DNS rebound to 127.0.0.1 arrives as that name.
        #expect(access.refusal(Self.request([("Host", "attacker.example:15000")]))?.status == .forbidden)
        #expect(access.refusal(Self.request([]))?.status == .forbidden, "no Host at all")
        // A form posted by another site's page.
        #expect(access.refusal(Self.request([("Host", "127.0.0.1:15000"), ("Origin", "http://attacker.example")]))?.status == .forbidden)
        #expect(access.refusal(Self.request([("Host", "127.0.0.1:15000"), ("Origin", "null")]))?.status == .forbidden, "a sandboxed frame's origin")
        #expect(access.refusal(Self.request([("Host", "127.0.0.1:15000"), ("Sec-Fetch-Site", "cross-site")]))?.status == .forbidden)
        #expect(access.refusal(Self.request([("Host", "127.0.0.1:15000"), ("Sec-Fetch-Site", "same-site")]))?.status == .forbidden)
        // The endpoint's own page (or curl, which sends no Origin) is served.
        #expect(access.refusal(Self.request([("Host", "127.0.0.1:15000"), ("Origin", "http://127.0.0.1:15000")])) == nil)
        #expect(access.refusal(Self.request([("Host", "127.0.0.1:15000"), ("Sec-Fetch-Site", "same-origin")])) == nil)
    }

    @Test func aTokenGuardsEveryPathButHealthz() {
        let access = AdminAccess(token: "s3cret", loopbackOnly: false)
        #expect(access.refusal(Self.request([("Host", "proxy.internal:15000")]))?.status == .unauthorized)
        #expect(access.refusal(Self.request(.GET, "/stats", [("Host", "proxy.internal:15000"), ("Authorization", "Bearer s3cre")]))?.status == .unauthorized)
        #expect(access.refusal(Self.request(.GET, "/stats", [("Host", "proxy.internal:15000"), ("Authorization", "Bearer s3cret2")]))?.status == .unauthorized)
        #expect(access.refusal(Self.request(.GET, "/stats", [("Host", "proxy.internal:15000"), ("Authorization", "Bearer s3cret")])) == nil)
        #expect(access.refusal(Self.request([("Host", "10.0.0.7:15000"), ("Authorization", "Bearer s3cret")])) == nil, "any Host once the token is right")
        #expect(access.refusal(Self.request(.GET, "/healthz", [("Host", "10.0.0.7:15000")])) == nil, "probes need no token")
        #expect(access.refusal(Self.request([("Host", "10.0.0.7:15000"), ("Authorization", "Bearer s3cret"), ("Origin", "http://attacker.example")]))?.status
                == .forbidden, "a token does not make a cross-site request acceptable")
    }

    /// An endpoint whose answers count the requests that reached it.
    final class Served: Sendable {
        let count = NIOLockedValueBox(0)
        func respond(_ request: AdminRequest) -> AdminResponse {
            count.withLockedValue { $0 += 1 }
            return AdminResponse("served \(request.path)\n")
        }
    }

    @Test func aRefusedRequestNeverReachesTheEndpoint() async throws {
        let served = Served()
        let admin = try await AdminServer.start(port: 0, group: Fixtures.group) { served.respond($0) }
        let port = admin.localAddress.port!
        let crossSite = try await RawHTTP.exchange(port: port, "POST /config HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: http://attacker.example\r\n"
                                                   + "Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nkind")
        #expect(crossSite.hasPrefix("HTTP/1.1 403 Forbidden") && crossSite.contains("another origin"), "\(crossSite)")
        let rebound = try await RawHTTP.exchange(port: port, "GET /stats HTTP/1.1\r\nHost: attacker.example\r\n\r\n")
        #expect(rebound.hasPrefix("HTTP/1.1 403 Forbidden"), "\(rebound)")
        #expect(served.count.withLockedValue { $0 } == 0)
        let plain = try await RawHTTP.exchange(port: port, "GET /stats HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
        #expect(plain.hasPrefix("HTTP/1.1 200 OK") && plain.hasSuffix("served /stats\n"), "\(plain)")
        #expect(served.count.withLockedValue { $0 } == 1)
        await admin.stop()
    }

    @Test func connectionsPastTheCapAreClosedAtOnce() async throws {
        let served = Served()
        let admin = try await AdminServer.start(port: 0, group: Fixtures.group, maxConnections: 2, requestTimeout: .seconds(3600)) { served.respond($0) }
        let port = admin.localAddress.port!
        let held = [try await RawHTTP.open(port: port), try await RawHTTP.open(port: port)]
        // The first two are held (never sending); the third is closed by the server unasked.
        try await Fixtures.waitUntil(limit: .seconds(600)) { held.allSatisfy { $0.isActive } }
        let third = try await RawHTTP.open(port: port)
        try await third.closeFuture.get()
        #expect(admin.refusedConnections == 1)
        #expect(held.allSatisfy { $0.isActive })
        for c in held { try? await c.close() }
        // Once they are gone, a request is served again.
        try await Fixtures.waitUntil(limit: .seconds(600)) {
            (try? await RawHTTP.exchange(port: port, "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))?.contains("served /x") == true
        }
        await admin.stop()
    }

    @Test func aRequestTrickledByteByByteIsCutOffAtTheTimeout() async throws {
        let served = Served()
        let admin = try await AdminServer.start(port: 0, group: Fixtures.group, requestTimeout: .seconds(1)) { served.respond($0) }
        let channel = try await RawHTTP.open(port: admin.localAddress.port!)
        // A byte at a time, each well inside the timeout (an idle timer would be reset by each).
        let trickle = Task {
            for byte in "GET /stats HTTP/1.1\r\nHost: localhost\r\nX-Padding: ".utf8 + Array(repeating: UInt8(ascii: "a"), count: 10_000) {
                guard channel.isActive else { return }
                try? await channel.writeAndFlush(ByteBuffer(bytes: [byte]))
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try await channel.closeFuture.get()
        trickle.cancel()
        #expect(admin.timedOutConnections == 1)
        #expect(served.count.withLockedValue { $0 } == 0)
        await admin.stop()
    }
}

/// Plain bytes to an HTTP server, for requests a URL session would not send as written.
enum RawHTTP {
    /// Collects what the server writes until it closes.
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var received = ByteBuffer()
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            received.writeBuffer(&chunk)
        }
    }

    static func open(port: Int, collector: Collector = Collector()) async throws -> Channel {
        try await ClientBootstrap(group: Fixtures.group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
    }

    /// Sends `text` and returns everything the server wrote before it closed the connection (or,
    /// for a kept-alive answer, once a whole response with its body has arrived).
    static func exchange(port: Int, _ text: String) async throws -> String {
        let collector = Collector()
        let channel = try await open(port: port, collector: collector)
        try await channel.writeAndFlush(ByteBuffer(string: text))
        try await Fixtures.waitUntil(limit: .seconds(600)) {
            let done = try? await channel.eventLoop.submit { !channel.isActive || Self.whole(String(buffer: collector.received)) }.get()
            return done ?? true
        }
        let received = try await channel.eventLoop.submit { String(buffer: collector.received) }.get()
        try? await channel.close()
        return received
    }

    /// Whether `text` holds a response head and as many body bytes as its Content-Length says.
    static func whole(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return false }
        return text[end.upperBound...].utf8.count >= length
    }
}
