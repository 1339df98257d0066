import ArgumentParser
import Foundation
import RateLimitService
import Workload

/// `mplab ratelimit-server`: Envoy's rate-limit service API, answering from token buckets.
struct RateLimitServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ratelimit-server",
        abstract: "Serve Envoy's rate-limit service API (gRPC) from limits in envoyproxy/ratelimit's format.",
        discussion: """
            The service a MetaRouter's globalRateLimit asks, on this machine: \
            envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit over gRPC (plaintext \
            HTTP/2), the API of envoyproxy/ratelimit, so a proxy pointed here behaves as it \
            would against the production service. Each file configures one domain:

              domain: production
              descriptors:
                - key: method
                  value: sayHello
                  rate_limit: { unit: second, requests_per_unit: 100 }
                - key: method          # every other method, a bucket per value
                  rate_limit: { unit: second, requests_per_unit: 10 }

            Nested descriptors match requests with several entries; a value ending in * matches \
            by prefix; unlimited: true and shadow_mode: true work as in envoyproxy/ratelimit. Each \
            distinct descriptor has a token bucket of requests_per_unit tokens, refilled at \
            requests_per_unit per unit (envoyproxy/ratelimit counts fixed windows instead: the \
            same rate, smaller bursts here).

              mplab ratelimit-server --config ratelimit.yaml --listen 127.0.0.1:8081
              mplab proxy --config metarouter.yaml --rate-limit-service 127.0.0.1:8081

            Several proxies pointed at one server share its limits. Prints "serving \
            ratelimit on HOST:PORT" once it listens; runs until SIGTERM or SIGINT, then prints \
            what it decided.
            """
    )

    @Option(name: .customLong("config"), help: ArgumentHelp("A limits file, or a folder of them (*.yaml, *.yml); repeatable.", valueName: "path"))
    var configs: [String] = []

    @Option(help: ArgumentHelp("Where to listen; port 0 lets the system choose.", valueName: "host:port"))
    var listen = "127.0.0.1:8081"

    @Option(help: .hidden) var delayMs = 0.0

    func validate() throws {
        if configs.isEmpty { throw ValidationError("give --config FILE (a limits file in envoyproxy/ratelimit's format) or a folder of them") }
        if delayMs < 0 || !delayMs.isFinite { throw ValidationError("--delay-ms must be a finite non-negative number") }
    }

    func run() async throws {
        var files: [(name: String, text: String)] = []
        for path in configs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw ValidationError("--config \(path): no such file") }
            let paths = isFolder.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(path)/\($0)" }
                : [path]
            for p in paths { files.append((p, try String(contentsOfFile: p, encoding: .utf8))) }
        }
        let rules: RateLimitRules
        do {
            rules = try RateLimitRules.load(files)
        } catch {
            throw ValidationError("\(error)")
        }
        let parts = listen.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else { throw ValidationError("--listen \(listen): expected host:port") }
        let server = RateLimitServer(rules: rules, delay: .milliseconds(delayMs))
        let serving = Task {
            try await server.serve(host: parts[0], port: port) { bound in
                ServeCommand.say("serving ratelimit on \(parts[0]):\(bound) (\(rules.domains.count) domains: \(rules.domains.keys.sorted().joined(separator: ", ")))")
            }
        }
        let stop = Task {
            _ = await Signals.wait(for: [SIGTERM, SIGINT])
            serving.cancel()
        }
        let outcome = await serving.result
        stop.cancel()
        let c = server.counters
        ServeCommand.say("ratelimit: \(c.requests) requests, \(c.descriptors) descriptors, \(c.overLimit) over limit (\(c.shadowOverLimit) in shadow mode), \(c.unlimited) under no limit")
        if case .failure(let error) = outcome, !(error is CancellationError) { throw error }
    }
}
