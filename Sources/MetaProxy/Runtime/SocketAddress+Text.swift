import NIOCore

extension SocketAddress {
    /// `host:port` (IPv6 hosts in brackets), as people write addresses.
    public var hostAndPort: String {
        guard let ip = ipAddress, let port else { return description }
        return self.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
