import NIOHTTP1

/// Who may use the admin endpoint. It can swap the configuration, so it trusts neither the
/// network nor the browser:
///
/// - bound to a loopback address, it answers requests whose `Host` names loopback (`localhost`,
///   `127.0.0.1`, `[::1]`): a page that rebinds its own name to 127.0.0.1 sends its own name;
/// - it refuses a request a browser marks as coming from another site (an `Origin` other than
///   the `Host` it was sent to, or `Sec-Fetch-Site: cross-site`/`same-site`): any page can make a
///   browser POST a form to `http://127.0.0.1:15000/config` without asking first;
/// - with a token (required for any other bind, which reaches every host that reaches the
///   machine), every endpoint but `/healthz` wants `Authorization: Bearer <token>`.
public struct AdminAccess: Sendable {
    /// The bearer token requests must carry; nil for none (loopback only).
    public var token: String?
    /// Whether the endpoint listens on loopback only, so that `Host` must name loopback.
    public var loopbackOnly: Bool

    public init(token: String? = nil, loopbackOnly: Bool = true) {
        self.token = token
        self.loopbackOnly = loopbackOnly
    }

    /// Whether `host` (as given to `--admin`) is a loopback address.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The answer that refuses `request`, or nil when it may be served.
    public func refusal(_ request: AdminRequest) -> AdminResponse? {
        let host = request.headers.first(name: "host")
        if loopbackOnly {
            guard let host, Self.isLoopback(Self.hostName(host)) else {
                return AdminResponse(.forbidden, "refused: the admin endpoint answers requests addressed to loopback (Host: localhost, 127.0.0.1 or [::1]); it got \(host ?? "no Host")\n")
            }
        }
        if let site = request.headers.first(name: "sec-fetch-site"), site == "cross-site" || site == "same-site" {
            return AdminResponse(.forbidden, "refused: a request from another site's page (Sec-Fetch-Site: \(site))\n")
        }
        if let origin = request.headers.first(name: "origin"), origin != "http://\(host ?? "")" {
            return AdminResponse(.forbidden, "refused: a request from another origin (Origin: \(origin))\n")
        }
        if let token, request.path != "/healthz" {
            guard let given = request.headers.first(name: "authorization"), Self.sameBytes(given, "Bearer \(token)") else {
                return AdminResponse(.unauthorized, "refused: this admin endpoint wants Authorization: Bearer <the --admin-token>\n")
            }
        }
        return nil
    }

    /// Compares in time that does not depend on where the strings first differ, so the token
    /// cannot be guessed byte by byte from how fast refusals come.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The host part of a `Host` header (`[::1]:15000` → `::1`, `localhost:15000` → `localhost`).
    static func hostName(_ header: String) -> String {
        if header.hasPrefix("["), let close = header.firstIndex(of: "]") {
            return String(header[header.index(after: header.startIndex)..<close])
        }
        return String(header.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }
}
