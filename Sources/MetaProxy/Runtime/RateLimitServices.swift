import MetaProtocol
import RateLimitService
import Synchronization

/// The rate-limit services a proxy process talks to, one client (one kept connection) per
/// address, shared by every listener: what the MetaRouters' `globalRateLimit.rateLimitService`
/// name, or the one `mplab proxy --rate-limit-service` sets for all of them.
public final class RateLimitServices: Sendable {
    /// The service every listener uses, whatever its configuration names (`host:port`).
    public let override: String?
    /// Where to reach a named service instead (as ``ProxySettings/upstreamAddresses``).
    public let addresses: [String: String]
    /// Calls in flight per service, at most.
    public let maxInFlight: Int
    private let clients = Mutex<[String: RateLimitServiceClient]>([:])

    public init(override: String? = nil, addresses: [String: String] = [:], maxInFlight: Int = 1024) {
        self.override = override
        self.addresses = addresses
        self.maxInFlight = maxInFlight
    }

    /// The client for a configuration's service (nil when it names none, or names something
    /// that is not an address: its calls then fail and the failure mode applies).
    public func client(for configuration: ProxyConfiguration) -> RateLimitServiceClient? {
        guard configuration.globalRateLimit != nil, let named = override ?? configuration.globalRateLimit?.service else { return nil }
        guard let (host, port) = Self.hostAndPort(addresses[named] ?? named) else { return nil }
        let address = "\(host):\(port)"
        return clients.withLock { clients in
            if let client = clients[address] { return client }
            guard let client = try? RateLimitServiceClient(host: host, port: port, maxInFlight: maxInFlight) else { return nil }
            clients[address] = client
            return client
        }
    }

    /// Every client's counters, by address.
    public var counters: [(address: String, counters: RateLimitServiceClient.Counters)] {
        clients.withLock { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value.counters) } }
    }

    /// Closes every connection.
    public func shutdown() async {
        let all = clients.withLock { Array($0.values) }
        for client in all { await client.shutdown() }
    }

    /// `host:port`, `[v6]:port`, or an Istio cluster name `outbound|PORT|SUBSET|HOST` → host and port.
    public static func hostAndPort(_ name: String) -> (String, Int)? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false)
        if parts.count == 4, let port = Int(parts[1]), !parts[3].isEmpty { return (String(parts[3]), port) }
        guard let colon = name.lastIndex(of: ":"), let port = Int(name[name.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(name[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
