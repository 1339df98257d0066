import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP request to the admin endpoint, read whole.
public struct AdminRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query.
    public var path: String
    public var query: [String: String]
    public var body: String
}

/// The admin endpoint's answer.
public struct AdminResponse: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: String

    public init(status: HTTPResponseStatus, contentType: String, body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A 200 with `body` as plain text (or `contentType`).
    public init(contentType: String = "text/plain; charset=utf-8", _ body: String) {
        self.init(status: .ok, contentType: contentType, body: body)
    }

    /// `status` with `body` as plain text.
    public init(_ status: HTTPResponseStatus, _ body: String) {
        self.init(status: status, contentType: "text/plain; charset=utf-8", body: body)
    }
}

/// A small HTTP/1.1 server for the admin endpoint: each request is read whole (bodies up to
/// `maxBody` bytes) and answered by `respond`. Loopback by default: it can change the
/// configuration.
public final class AdminServer: Sendable {
    public let localAddress: SocketAddress
    private let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
        localAddress = channel.localAddress!
    }

    public static func start(host: String = "127.0.0.1", port: Int, group: EventLoopGroup, maxBody: Int = 4 << 20,
                             respond: @escaping @Sendable (AdminRequest) async -> AdminResponse) async throws -> AdminServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(maxBody: maxBody, respond: respond))
                }
            }
            .bind(host: host, port: port)
            .get()
        return AdminServer(channel: channel)
    }

    public func stop() async { try? await channel.close() }
}

private final class AdminHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let maxBody: Int
    let respond: @Sendable (AdminRequest) async -> AdminResponse
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(maxBody: Int, respond: @escaping @Sendable (AdminRequest) async -> AdminResponse) {
        self.maxBody = maxBody
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
            tooLarge = false
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes > maxBody { tooLarge = true } else { body.writeBuffer(&chunk) }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let channel = context.channel
            if tooLarge {
                Self.write(AdminResponse(.payloadTooLarge, "body over \(maxBody) bytes\n"), version: head.version, keepAlive: false, to: channel)
                return
            }
            let (path, query) = Self.split(head.uri)
            let request = AdminRequest(method: head.method, path: path, query: query, body: String(buffer: body))
            let respond = respond
            Task {
                let response = await respond(request)
                Self.write(response, version: head.version, keepAlive: keepAlive, to: channel)
            }
        }
    }

    private static func write(_ response: AdminResponse, version: HTTPVersion, keepAlive: Bool, to channel: Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: response.status, headers: headers)), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: response.body))), promise: nil)
        let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
    }

    private static func split(_ uri: String) -> (String, [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[String(kv[0])] = kv.count == 2 ? String(kv[1]) : ""
            }
        }
        return (String(parts[0]), query)
    }
}
