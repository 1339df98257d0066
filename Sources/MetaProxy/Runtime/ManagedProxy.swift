import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import Workload

/// A proxy listener with the configuration files it was started from: what the admin endpoint
/// and the file watcher reload. A reload that does not load or compile is refused with its
/// errors (file, line, column, field) and the configuration in force keeps serving.
public actor ManagedProxy {
    public nonisolated let server: ProxyServer
    public nonisolated let protocolName: String
    /// The files of the configuration in force, as loaded.
    public private(set) var files: [(name: String, text: String)]
    public private(set) var reloads = 0
    public private(set) var refusedReloads = 0

    private init(server: ProxyServer, protocolName: String, files: [(name: String, text: String)]) {
        self.server = server
        self.protocolName = protocolName
        self.files = files
    }

    /// Loads `files` (manifests), and starts a listener on `host:port` for the protocol they
    /// name (or `protocolName`).
    public static func start(files: [(name: String, text: String)], protocolName: String? = nil, host: String, port: Int,
                             group: EventLoopGroup, settings: ProxySettings = ProxySettings(), accessLog: AccessLogSink? = nil,
                             rateLimitServices: RateLimitServices? = nil) async throws -> ManagedProxy {
        let loaded = try ConfigurationLoader.load(files, protocolName: protocolName)
        let name = loaded.configuration.protocolName
        guard let codec = CodecRegistry.codecTypes.first(where: { $0.protocolName == name }) else {
            throw ProxyStartError.unknownProtocol(name)
        }
        let compiled = try loaded.compile(capabilities: codec.capabilities)
        let server = try await ProxyServer.start(configuration: compiled, codec: codec, host: host, port: port, group: group,
                                                 settings: settings, accessLog: accessLog, rateLimitServices: rateLimitServices)
        return ManagedProxy(server: server, protocolName: name, files: files)
    }

    /// Swaps to the configuration in `files`, or throws why not (and keeps the current one).
    /// Returns the loader's warnings.
    ///
    /// Reloads take effect in the order they were asked for, one at a time: the swap itself
    /// waits for the listener's event loop, and without the queue a reload asked for later
    /// could finish first, leaving ``files`` showing a configuration that is not in force.
    @discardableResult
    public func reload(_ newFiles: [(name: String, text: String)]) async throws -> [String] {
        try await numberedReload(newFiles).warnings
    }

    /// ``reload(_:)``, also telling the reload's place in the order they were asked for
    /// (1 for the first since start; a refused one takes a place too).
    public func numberedReload(_ newFiles: [(name: String, text: String)]) async throws -> (warnings: [String], generation: Int) {
        requested += 1
        let generation = requested
        let previous = lastReload
        let attempt = Task { () async throws -> [String] in
            await previous?.value
            return try await self.swap(to: newFiles)
        }
        lastReload = Task { _ = try? await attempt.value }
        return (try await attempt.value, generation)
    }

    /// Reloads asked for so far, and the last of them (each waits for the one before).
    private var requested = 0
    private var lastReload: Task<Void, Never>?

    private func swap(to newFiles: [(name: String, text: String)]) async throws -> [String] {
        do {
            let loaded = try ConfigurationLoader.load(newFiles, protocolName: protocolName)
            guard !loaded.configuration.routes.isEmpty else { throw ReloadRefusal.noRoutes(newFiles.map(\.name)) }
            guard let codec = CodecRegistry.codecTypes.first(where: { $0.protocolName == protocolName }) else { throw ProxyStartError.unknownProtocol(protocolName) }
            let compiled = try loaded.compile(capabilities: codec.capabilities)
            await server.apply(compiled)
            files = newFiles
            reloads += 1
            return loaded.warnings
        } catch {
            refusedReloads += 1
            throw error
        }
    }
}

/// Why a reload was refused though its files load.
public enum ReloadRefusal: Error, CustomStringConvertible {
    /// The files give no route: an empty file, or one caught part-way through being written.
    case noRoutes([String])

    public var description: String {
        switch self {
        case .noRoutes(let files):
            "\(files.joined(separator: ", ")): no routes (an empty or partial configuration, perhaps a file caught mid-write); a listener keeps at least one route"
        }
    }
}

/// Why a proxy could not start.
public enum ProxyStartError: Error, CustomStringConvertible {
    case unknownProtocol(String)

    public var description: String {
        switch self {
        case .unknownProtocol(let name): "no codec for protocol \"\(name)\" (known: \(CodecRegistry.protocolNames.joined(separator: ", ")))"
        }
    }
}
