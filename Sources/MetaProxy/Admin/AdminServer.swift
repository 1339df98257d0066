import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP request to the admin endpoint, read whole.
public struct AdminRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query.
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: String

    public init(method: HTTPMethod, path: String, query: [String: String] = [:], headers: HTTPHeaders = ["Host": "127.0.0.1"], body: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
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
/// `maxBody` bytes), checked by `access` and answered by `respond`. Loopback by default: it can
/// change the configuration. It holds at most `maxConnections` connections (more are closed at
/// once) and closes one that has not sent a whole request within `requestTimeout` of opening or
/// of its last answer: a client sending a byte now and then holds nothing for long.
public final class AdminServer: Sendable {
    public let localAddress: SocketAddress
    private let channel: Channel
    /// Connections closed at once because `maxConnections` were open.
    public var refusedConnections: Int { refused.withLockedValue { $0 } }
    /// Connections closed because a request did not arrive whole in time.
    public var timedOutConnections: Int { timedOut.withLockedValue { $0 } }
    private let refused: NIOLockedValueBox<Int>
    private let timedOut: NIOLockedValueBox<Int>

    private init(channel: Channel, refused: NIOLockedValueBox<Int>, timedOut: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.refused = refused
        self.timedOut = timedOut
        localAddress = channel.localAddress!
    }

    public static func start(host: String = "127.0.0.1", port: Int, group: EventLoopGroup, maxBody: Int = 4 << 20,
                             access: AdminAccess = AdminAccess(), maxConnections: Int = 64, requestTimeout: TimeAmount = .seconds(30),
                             respond: @escaping @Sendable (AdminRequest) async -> AdminResponse) async throws -> AdminServer {
        let open = NIOLockedValueBox(0), refused = NIOLockedValueBox(0), timedOut = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let admitted = open.withLockedValue { count in
                    guard count < maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else {
                    refused.withLockedValue { $0 += 1 }
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(maxBody: maxBody, access: access, requestTimeout: requestTimeout,
                                                                                timedOut: timedOut, respond: respond))
                }
            }
            .bind(host: host, port: port)
            .get()
        return AdminServer(channel: channel, refused: refused, timedOut: timedOut)
    }

    public func stop() async { try? await channel.close() }
}

private final class AdminHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let maxBody: Int
    let access: AdminAccess
    let requestTimeout: TimeAmount
    let timedOut: NIOLockedValueBox<Int>
    let respond: @Sendable (AdminRequest) async -> AdminResponse
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    private var deadline: Scheduled<Void>?

    init(maxBody: Int, access: AdminAccess, requestTimeout: TimeAmount, timedOut: NIOLockedValueBox<Int>,
         respond: @escaping @Sendable (AdminRequest) async -> AdminResponse) {
        self.maxBody = maxBody
        self.access = access
        self.requestTimeout = requestTimeout
        self.timedOut = timedOut
        self.respond = respond
    }

    func handlerAdded(context: ChannelHandlerContext) { armDeadline(context.channel) }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    /// Closes the connection unless a whole request arrives within the timeout. Each answer
    /// written re-arms it, so a kept-alive connection may wait that long between requests.
    private func armDeadline(_ channel: Channel) {
        deadline?.cancel()
        let timedOut = timedOut
        deadline = channel.eventLoop.scheduleTask(in: requestTimeout) {
            timedOut.withLockedValue { $0 += 1 }
            channel.close(promise: nil)
        }
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
            deadline?.cancel()
            deadline = nil
            let keepAlive = head.isKeepAlive
            let channel = context.channel
            if tooLarge {
                Self.write(AdminResponse(.payloadTooLarge, "body over \(maxBody) bytes\n"), version: head.version, keepAlive: false, to: channel)
                return
            }
            let (path, query) = Self.split(head.uri)
            let request = AdminRequest(method: head.method, path: path, query: query, headers: head.headers, body: String(buffer: body))
            if let refusal = access.refusal(request) {
                Self.write(refusal, version: head.version, keepAlive: false, to: channel)
                return
            }
            let respond = respond
            Task {
                let response = await respond(request)
                Self.write(response, version: head.version, keepAlive: keepAlive, to: channel)
                if keepAlive { channel.eventLoop.execute { self.armDeadline(channel) } }
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
