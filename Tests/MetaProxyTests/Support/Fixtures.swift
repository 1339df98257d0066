import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import NIOPosix

/// Shared pieces of the end-to-end tests: an event-loop group, and a proxy with its synthetic
/// cluster on loopback.
enum Fixtures {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// `host:port` of a synthetic server's address.
    static func address(_ a: SocketAddress) -> String { "127.0.0.1:\(a.port!)" }

    /// Hosts for the synthetic servers, labelled with `version`.
    static func hosts(_ server: SyntheticServer, version: String) -> [HostConfiguration] {
        server.addresses.map { HostConfiguration(address: address($0), labels: ["version": version]) }
    }

    static func codec(_ protocolName: String) -> any MetaCodec.Type { CodecRegistry.codecTypes.first { $0.protocolName == protocolName }! }

    static func compile(_ configuration: ProxyConfiguration, protocolName: String) throws -> CompiledConfiguration {
        try CompiledConfiguration.compile(configuration, capabilities: codec(protocolName).capabilities)
    }

    struct TimedOut: Error {}

    /// Waits, polling every millisecond, until `condition` holds; fails after `limit`.
    static func waitUntil(limit: Duration = .seconds(60), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw TimedOut() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Checks that the proxy answered or counted every request, and holds none.
    static func conserved(_ proxy: ProxyServer) async -> Bool {
        let (core, _) = await proxy.counters()
        return core.isConserved && core.active == 0
    }
}
