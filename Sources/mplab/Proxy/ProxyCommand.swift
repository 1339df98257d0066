import ArgumentParser
import JemallocStats
import Foundation
import LoadGenerator
import Logging
import MetaProxy
import NIOCore
import NIOPosix
import Results
import TrafficModel

/// `mplab proxy`: the MetaProtocol proxy on real sockets.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the MetaProtocol proxy on real sockets.",
        discussion: """
            A listener reads its configuration from manifests as users write them — Aeraki \
            MetaRouter, Istio DestinationRule and ServiceEntry, MetaProxyLab's ProxyConfig — \
            and speaks the protocol they name (the ServiceEntry port name \
            tcp-metaprotocol-<protocol>-…, or the ProxyConfig's protocol).

              mplab proxy --config Workloads/configs/qza-traffic-split.yaml --listen 0.0.0.0:9000

            More listeners, each with its own files and protocol:

              mplab proxy --listener 0.0.0.0:20880=dubbo.yaml --listener 0.0.0.0:9090=thrift.yaml,limits.yaml

            The admin endpoint (loopback by default) serves /healthz, /stats (JSON), /metrics \
            (Prometheus), /config (GET the files in force; POST new manifests: validated, then \
            swapped atomically, or refused with the errors while the old configuration keeps \
            serving; ?listener=N picks a listener) and /memory (jemalloc). SIGTERM or SIGINT \
            stops accepting, lets requests in progress finish up to --drain-timeout, and exits 0.
            """
    )

    @Option(name: .customLong("config"), help: ArgumentHelp("A manifest file of the first listener (repeat for more files).", valueName: "file"))
    var configFiles: [String] = []

    @Option(help: ArgumentHelp("Where the first listener listens.", valueName: "host:port"))
    var listen = "0.0.0.0:20880"

    @Option(name: .customLong("listener"), help: ArgumentHelp("Another listener and its manifest files (repeatable).", valueName: "host:port=file[,file…]"))
    var extraListeners: [String] = []

    @Option(help: ArgumentHelp("The admin endpoint's address (:15000 or 0.0.0.0:15000 is every interface, and needs --admin-token).", valueName: "host:port"))
    var admin = "127.0.0.1:15000"

    @Option(help: ArgumentHelp("The bearer token the admin endpoint wants (Authorization: Bearer TOKEN) on every path but /healthz; @file reads it from a file, out of sight of ps. Required when --admin is not loopback.",
                               valueName: "token|@file"))
    var adminToken: String?

    @Option(help: "Event loops (threads); each listener, with its client and upstream connections, runs on one of them.")
    var eventLoops = System.coreCount

    @Option(help: ArgumentHelp("Forward frames at least this long as they arrive, routed on their head (20K, 1M; off buffers every frame whole).",
                               valueName: "size"))
    var cutThrough = "16K"

    @Option(help: "Client connections held at once per listener; more are refused, counted.")
    var maxConnections = 10_000

    @Option(help: ArgumentHelp("Close a client connection idle this long (seconds; 0 never).", valueName: "seconds"))
    var idleTimeout = 300.0

    @Option(help: ArgumentHelp("Close a client connection whose frame, once begun, is not all in within this (seconds; 0 never): a client sending a byte a minute holds nothing for long.",
                               valueName: "seconds"))
    var frameTimeout = 60.0

    @Option(help: ArgumentHelp("On SIGTERM/SIGINT, wait this long for requests in progress.", valueName: "seconds"))
    var drainTimeout = 10.0

    @Flag(help: "Reload a listener when one of its files changes (a bad file is refused and logged).")
    var watch = false

    @Option(help: ArgumentHelp("Write an access log line per request to this file (- for standard output).", valueName: "file"))
    var accessLog: String?

    @Option(help: "Seed of the cores' decisions (weighted destinations, balancers, mirrors); drawn when not given.")
    var seed: UInt64?

    @Option(help: ArgumentHelp("On exit, write every listener's counters as a result file (JSON).", valueName: "file"))
    var result: String?

    @Option(name: .customLong("upstream-address"),
            help: ArgumentHelp("Reach the configuration's host FROM at TO instead (repeatable); FROM still names it in balancing, hashing and stats.",
                               valueName: "from=host:port"))
    var upstreamAddresses: [String] = []

    @Option(help: ArgumentHelp("Ask this rate-limit service (Envoy's gRPC API) for every listener's global rate limit, whatever its MetaRouter's rateLimitService names.",
                               valueName: "host:port"))
    var rateLimitService: String?

    @Option(help: ArgumentHelp("Calls to a rate-limit service in flight at most; more fail at once and follow the limit's failure mode.", valueName: "calls"))
    var rateLimitMaxPending = 1024

    @Option(help: ArgumentHelp("TCP keepalive on upstream connections: seconds idle before the first probe, seconds between probes, probes before the connection is dropped; or off.",
                               valueName: "idle,interval,probes"))
    var upstreamKeepalive = "60,10,3"

    @Option(help: .hidden) var injectDelayUs = 0

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        if configFiles.isEmpty && extraListeners.isEmpty { throw ValidationError("give --config FILE (and --listen), or --listener ADDRESS=FILE") }
        if eventLoops < 1 { throw ValidationError("--event-loops must be at least 1") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1 (a listener that refuses every client serves nothing)") }
        _ = try OptionValues.duration(seconds: idleTimeout, "--idle-timeout", zeroAllowed: true)
        _ = try OptionValues.duration(seconds: frameTimeout, "--frame-timeout", zeroAllowed: true)
        _ = try OptionValues.duration(seconds: drainTimeout, "--drain-timeout", zeroAllowed: true)
        for a in upstreamAddresses where a.split(separator: "=").count != 2 {
            throw ValidationError("--upstream-address \(a): expected FROM=host:port")
        }
        if let service = rateLimitService, RateLimitServices.hostAndPort(service) == nil {
            throw ValidationError("--rate-limit-service \(service): expected host:port")
        }
        if upstreamKeepalive != "off", Self.keepalive(upstreamKeepalive) == nil {
            throw ValidationError("--upstream-keepalive \(upstreamKeepalive): expected idle,interval,probes (three positive whole numbers, such as 60,10,3) or off")
        }
        if rateLimitMaxPending < 1 { throw ValidationError("--rate-limit-max-pending must be at least 1") }
        guard let (adminHost, _) = splitHostAndPort(admin, listening: true) else { throw ValidationError("--admin \(admin): expected host:port") }
        if !AdminAccess.isLoopback(adminHost) && adminToken == nil {
            let reach = adminHost == "0.0.0.0" || adminHost == "::" ? "every interface" : adminHost
            throw ValidationError("--admin \(admin) listens on \(reach), and the admin endpoint can swap the configuration: give --admin-token (or keep it on 127.0.0.1)")
        }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level: unknown level \"\(logLevel)\"") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mplab.proxy")
        ProcessLimits.raiseOpenFiles()
        var specs: [(address: String, files: [String])] = configFiles.isEmpty ? [] : [(listen, configFiles)]
        for spec in extraListeners {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--listener \(spec): expected host:port=file[,file…]") }
            specs.append((parts[0], parts[1].split(separator: ",").map(String.init)))
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops)
        let idle = try OptionValues.duration(seconds: idleTimeout, "--idle-timeout", zeroAllowed: true)
        var settings = ProxySettings(maxDownstreamConnections: maxConnections, downstreamIdleTimeout: idle > .zero ? idle : nil,
                                     drainTimeout: try OptionValues.duration(seconds: drainTimeout, "--drain-timeout", zeroAllowed: true),
                                     seed: seed ?? UInt64.random(in: 1...UInt64.max))
        let frame = try OptionValues.duration(seconds: frameTimeout, "--frame-timeout", zeroAllowed: true)
        settings.downstreamFrameTimeout = frame > .zero ? frame : nil
        if injectDelayUs > 0 { settings.injectedDelay = .microseconds(injectDelayUs) }
        settings.upstreamKeepalive = Self.keepalive(upstreamKeepalive)
        if cutThrough == "off" {
            settings.cutThroughThreshold = nil
        } else {
            do {
                settings.cutThroughThreshold = try ByteSize.parse(cutThrough)
            } catch {
                throw ValidationError("--cut-through: \(error) (a size such as 16K, or off)")
            }
        }
        for a in upstreamAddresses {
            let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
            settings.upstreamAddresses[parts[0]] = parts[1]
        }
        // Everything that holds a listener is let go inside `serve`, before the loops stop: a
        // released listener frees its core on its loop.
        try await serve(specs, group: group, settings: settings, logger: logger)
        try await group.shutdownGracefully()
        logger.info("stopped")
    }

    /// The admin token, read from its file when given as `@file` (trailing newline dropped).
    func adminTokenValue() throws -> String? {
        guard let adminToken else { return nil }
        var token = adminToken
        if adminToken.hasPrefix("@") {
            do {
                token = try String(contentsOfFile: String(adminToken.dropFirst()), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw ValidationError("--admin-token \(adminToken): cannot read the file: \(error.localizedDescription)")
            }
        }
        guard !token.isEmpty, token.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
            throw ValidationError("--admin-token: expected a token of printable ASCII without spaces")
        }
        return token
    }

    /// `idle,interval,probes` as keepalive settings (nil for anything else, `off` included).
    static func keepalive(_ text: String) -> TCPKeepalive? {
        let parts = text.split(separator: ",").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }), text.split(separator: ",").count == 3 else { return nil }
        return TCPKeepalive(idleSeconds: parts[0], intervalSeconds: parts[1], probes: parts[2])
    }

    /// Runs the listeners and the admin endpoint until a signal, drains them, and writes the
    /// result file when asked.
    private func serve(_ specs: [(address: String, files: [String])], group: EventLoopGroup, settings: ProxySettings, logger: Logger) async throws {
        let started = Date()
        let uptime = ContinuousClock.now
        let log = try accessLog.map { try FileAccessLog(path: $0) }
        var listeners: [ManagedProxy] = []
        var baseline: [[String?]] = []
        let rateLimitServices = RateLimitServices(override: rateLimitService, addresses: settings.upstreamAddresses, maxInFlight: rateLimitMaxPending)
        for spec in specs {
            guard let (host, port) = splitHostAndPort(spec.address, listening: true) else { throw ValidationError("\(spec.address): expected host:port") }
            // What the watcher compares with is taken before the files are read: an edit in
            // between is reloaded once more, never missed.
            baseline.append(ConfigurationWatcher.stamps(spec.files))
            let files = try spec.files.map { path in
                do {
                    return (name: path, text: try String(contentsOfFile: path, encoding: .utf8))
                } catch {
                    throw ValidationError("cannot read \(path): \(error.localizedDescription)")
                }
            }
            let listener = try await ManagedProxy.start(files: files, host: host, port: port, group: group, settings: settings, accessLog: log,
                                                        rateLimitServices: rateLimitServices)
            logger.info("listening", metadata: ["protocol": "\(listener.protocolName)", "address": "\(listener.server.localAddress.hostAndPort)", "files": "\(spec.files.joined(separator: ","))"])
            listeners.append(listener)
        }
        guard let (adminHost, adminPort) = splitHostAndPort(admin, listening: true) else { throw ValidationError("--admin \(admin): expected host:port") }
        let endpoints = ProxyAdmin(listeners: listeners, memoryReport: { Jemalloc.report() }, rateLimitServices: rateLimitServices, accessLog: log)
        let access = AdminAccess(token: try adminTokenValue(), loopbackOnly: AdminAccess.isLoopback(adminHost))
        let adminServer = try await AdminServer.start(host: adminHost, port: adminPort, group: group, access: access) { await endpoints.respond($0) }
        let reach = adminHost == "0.0.0.0" || adminHost == "::" ? "every interface" : access.loopbackOnly ? "loopback only" : adminHost
        logger.info("admin endpoint", metadata: ["address": "\(adminServer.localAddress.hostAndPort)", "reach": "\(reach)", "token": "\(access.token == nil ? "none" : "required")"])

        let watched = zip(specs, listeners).map { ($0.files, $1) }
        let watcher = watch ? Task {
            await ConfigurationWatcher.watch(watched, baseline: baseline) { listener, outcome in
                switch outcome {
                case .success(let warnings): logger.info("configuration reloaded", metadata: ["listener": "\(listener)", "warnings": "\(warnings.count)"])
                case .failure(let error): logger.error("configuration refused; the one in force keeps serving", metadata: ["listener": "\(listener)", "error": "\(error)"])
                }
            }
        } : nil
        let signal = await Signals.wait(for: [SIGTERM, SIGINT])
        logger.info("stopping: draining requests in progress", metadata: ["signal": "\(signal)"])
        watcher?.cancel()
        await watcher?.value
        await adminServer.stop()
        var unfinished = 0
        for listener in listeners { unfinished += await listener.server.shutdown() }
        if unfinished > 0 { logger.warning("drain timeout passed with requests in progress", metadata: ["requests": "\(unfinished)"]) }
        await rateLimitServices.shutdown()
        if let result {
            let (s, atto) = (ContinuousClock.now - uptime).components
            let seconds = Double(s) + Double(atto) / 1e18
            // The command line that reproduces the run names the seed, drawn or given.
            var command = CommandLine.arguments
            if seed == nil { command += ["--seed", "\(settings.seed!)"] }
            var run = RunResult(provenance: .current(seed: settings.seed!, commandLine: command, startedAt: started), driver: .sockets,
                                window: MeasuredWindow(warmUpSeconds: 0, durationSeconds: seconds, endedAtSeconds: seconds), calls: CallCounts())
            var coverage: [String: Int] = [:]
            for listener in listeners {
                run.counters += await listener.server.counterGroups()
                run.invariants.append(await listener.server.conservation())
                coverage.merge(await listener.server.coverage(), uniquingKeysWith: +)
            }
            run.coverage = coverage.keys.sorted().map { Counter(name: $0, value: coverage[$0]!) }
            try run.encoded().write(to: URL(fileURLWithPath: result))
            logger.info("result written", metadata: ["file": "\(result)"])
        }
    }
}
