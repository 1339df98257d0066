import NIOCore

extension SocketAddress {
    /// `host:port` (IPv6 hosts in brackets), as people write addresses.
    public var hostAndPort: String {
        guard let ip = ipAddress, let port else { return description }
        return self.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// Splits `host:port` at the last colon (IPv6 hosts in brackets). Upstream addresses need a
/// host and a port from 1; a listen address may leave the host out (all interfaces) and ask for
/// port 0 (any free one).
public func splitHostAndPort(_ text: String, listening: Bool = false) -> (host: String, port: Int)? {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (listening ? 0 : 1)...65535 ~= port
    else { return nil }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    if host.isEmpty { return listening ? ("0.0.0.0", port) : nil }
    return (host, port)
}
