import ArgumentParser
import Foundation
import LoadGenerator
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import Results
import TrafficModel

/// `mplab load`: calls on real sockets, paced, scored from the answers' own bytes.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Send RPC calls to a server or a proxy and measure the answers.",
        discussion: """
            Open loop (the default) sends on a schedule whatever the answers do and times each \
            call from when it should have left, so a stall shows instead of hiding (no \
            coordinated omission); calls that cannot leave at once wait for a free slot and \
            count as late, never skipped. Closed loop keeps --depth calls in flight per \
            connection, for throughput. Every answer is scored by the status in its own bytes \
            and matched to its call by request id.

              mplab load --protocol dubbo --target 127.0.0.1:20880 --rate 2000 --duration 30s --warm-up 2s
              mplab load --protocol thrift --target 127.0.0.1:9090 --arrivals poisson --rate 5000 --payload 20,1K,16K,64K,120K
              mplab load --protocol livepacket --target 127.0.0.1:9000 --closed-loop --connections 8 --depth 16

            Each payload size is one run; --result writes each run's versioned result (JSON, \
            with the size in the name when there are several) and its latency percentiles as \
            .hgrm next to it.
            """
    )

    @Option(name: .customLong("protocol"), help: "The protocol: dubbo, thrift, livepacket.")
    var protocolName: String

    @Option(help: ArgumentHelp("The server or proxy.", valueName: "host:port"))
    var target: String

    @Option(help: "Calls per second in all (open loop).")
    var rate = 1000.0

    @Option(help: "How calls are spread in time (open loop): constant or poisson.")
    var arrivals = "constant"

    @Flag(help: "Closed loop: keep --depth calls in flight per connection instead of a schedule.")
    var closedLoop = false

    @Option(help: ArgumentHelp("How long calls are scheduled.", valueName: "duration"))
    var duration = "10s"

    @Option(help: "At most this many calls in all (warm-up included); the run ends when they are answered, or at --duration.")
    var requests: Int?

    @Option(help: ArgumentHelp("Calls scheduled before this are sent but not measured.", valueName: "duration"))
    var warmUp = "1s"

    @Option(help: "Connections in all.")
    var connections = 4

    @Option(help: "Calls in flight per connection at most (closed loop: kept in flight).")
    var depth = 128

    @Option(help: "Threads, each with its own connections.")
    var workers = 1

    @Option(help: ArgumentHelp("A call not answered this long after it left counts as timed out.", valueName: "duration"))
    var timeout = "5s"

    @Option(help: ArgumentHelp("Payload sizes, one run each: 20, 1K, 120KB, or a list 20,1K,16K,64K,120K.", valueName: "sizes"))
    var payload = "1K"

    @Option(help: ArgumentHelp("Thrift's transport and protocol: framed-binary, framed-compact, unframed-binary, unframed-compact.", valueName: "framing"))
    var thriftFraming = "framed-binary"

    @Option(help: ArgumentHelp("An attribute of every call (repeatable): method=sayHello, interface=org.demo.Greeter.", valueName: "key=value"))
    var attribute: [String] = []

    @Option(help: "Seed of the schedule and the payloads.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Run the i-th of N equal slices of this load (its share of the rate and the connections); `mplab merge` adds the slices' results.",
                               valueName: "i/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Write each run's result here (JSON), and its .hgrm next to it.", valueName: "file"))
    var result: String?

    @Flag(help: "Print each run's result as JSON on standard output instead of a summary.")
    var json = false

    func run() async throws {
        guard let (host, port) = splitHostAndPort(target) else { throw ValidationError("--target \(target): expected host:port") }
        let sizes = try ByteSize.parseList(payload)
        let slice = try shard.map { text in
            guard let s = LoadPlan.Shard(parsing: text) else { throw ValidationError("--shard \(text): expected i/N with 0 ≤ i < N") }
            return s
        } ?? .whole
        // --connections is the whole load's: this slice opens its share (at least one per worker).
        let ownConnections = max(workers, connections / slice.count + (slice.index < connections % slice.count ? 1 : 0))
        var plans: [LoadPlan] = []
        for size in sizes {
            let plan = LoadPlan(host: host, port: port, protocolName: protocolName, pacing: try pacing(), connections: ownConnections, depth: depth, workers: workers,
                                duration: try Self.duration(duration, "--duration"), warmUp: try Self.duration(warmUp, "--warm-up"),
                                requestTimeout: try Self.duration(timeout, "--timeout"), mix: [CallTemplate(attributes: try attributes())],
                                payloadSize: .constant(Double(size)), seed: seed, shard: slice)
            var limited = plan
            limited.requestLimit = requests
            if let problem = limited.problem { throw ValidationError(problem) }
            plans.append(limited)
        }
        let terminal = isatty(STDERR_FILENO) == 1
        for (plan, size) in zip(plans, sizes) {
            let label = ByteSize.describe(size)
            let report = try await LoadRun.run(plan, synthesizer: try synthesizer(), progress: { p in
                let f = p.figures
                let line = String(format: "%@ %5.1fs  sent %d  answered %d  failed %d  p99 %.3f ms", label, p.elapsed.seconds, f.calls.sent, f.calls.answered, f.failures,
                                  Double(f.latency.nanoseconds(atPercentile: 99)) / 1e6)
                FileHandle.standardError.write(Data((terminal ? "\r" + line : line + "\n").utf8))
            }, interval: terminal ? .seconds(1) : .seconds(5))
            if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            let run = report.runResult(provenance: .current(seed: seed, startedAt: Date(timeIntervalSinceNow: -report.elapsed.seconds)))
            if json {
                FileHandle.standardOutput.write(try run.encoded() + Data("\n".utf8))
            } else {
                print(Self.summary(report, label: label))
            }
            if let result {
                let path = sizes.count == 1 ? result : Self.path(result, inserting: "-\(size)B")
                try run.encoded().write(to: URL(fileURLWithPath: path))
                try report.figures.latency.hgrm.write(toFile: Self.path(path, replacingExtensionWith: "hgrm"), atomically: true, encoding: .utf8)
            }
        }
    }

    /// The synthesizer of the calls: the protocol's default one, or Thrift in the framing asked for.
    func synthesizer() throws -> (any FrameSynthesizer)? {
        guard protocolName == "thrift" else { return nil }
        let parts = thriftFraming.split(separator: "-").map(String.init)
        guard parts.count == 2, ["framed", "unframed"].contains(parts[0]), ["binary", "compact"].contains(parts[1]) else {
            throw ValidationError("--thrift-framing \(thriftFraming): one of framed-binary, framed-compact, unframed-binary, unframed-compact")
        }
        return ThriftSynthesizer(framing: ThriftFraming(framed: parts[0] == "framed", compact: parts[1] == "compact"))
    }

    func pacing() throws -> LoadPlan.Pacing {
        if closedLoop { return .closedLoop }
        guard rate > 0, rate.isFinite, rate <= 1e9 else { throw ValidationError("--rate \(rate): expected calls per second above 0, at most 1e9") }
        switch arrivals {
        case "constant": return .openLoop(.constant(rate: rate))
        case "poisson": return .openLoop(.poisson(rate: rate))
        default: throw ValidationError("--arrivals \(arrivals): constant or poisson")
        }
    }

    func attributes() throws -> [KeyValue] {
        try attribute.map { entry in
            let kv = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[0].isEmpty else { throw ValidationError("--attribute \(entry): expected key=value") }
            return KeyValue(kv[0], kv[1])
        }
    }

    static func duration(_ text: String, _ option: String) throws -> Duration {
        do {
            guard case .constant(let seconds) = try Distribution(parsing: text) else { throw ValidationError("\(option) \(text): a duration, such as 10s or 500ms") }
            return try OptionValues.duration(seconds: seconds, option, zeroAllowed: true)
        } catch let error as SyntaxError {
            throw ValidationError("\(option): \(error)")
        }
    }

    /// `file.json` with `-120B` before its extension.
    static func path(_ path: String, inserting suffix: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        return url.deletingPathExtension().path + suffix + (ext.isEmpty ? "" : ".\(ext)")
    }

    static func path(_ path: String, replacingExtensionWith ext: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension(ext).path
    }

    /// What a user reads first: rates, outcomes, percentiles.
    static func summary(_ report: LoadReport, label: String) -> String {
        let f = report.figures
        func ms(_ d: LatencyDistribution, _ p: Double) -> String { String(format: "%.3f", Double(d.nanoseconds(atPercentile: p)) / 1e6) }
        var lines = ["\(label): \(report.pacingDescription), \(report.plan.connections) connections × \(report.plan.depth), \(report.plan.workers) worker(s)"]
        lines.append(String(format: "  rate      attempted %.1f/s  achieved %.1f/s  answered %.1f/s", report.attemptedRate, report.achievedRate, report.answeredRate))
        lines.append("  calls     sent \(f.calls.sent)  success \(f.calls.success)  application errors \(f.calls.applicationError)  server errors \(f.calls.serverError)  unavailable \(f.calls.unavailable)")
        lines.append("  problems  late \(f.late)  not sent \(f.notSent)  timeouts \(f.timeouts)  unmatched \(f.unmatched)  dropped \(f.dropped)  protocol errors \(f.protocolErrors)")
        for (name, d) in [("latency", f.latency), ("service", f.serviceTime), ("lag", f.scheduleLag)] {
            lines.append("  \(name.padding(toLength: 8, withPad: " ", startingAt: 0))  p50 \(ms(d, 50))  p90 \(ms(d, 90))  p99 \(ms(d, 99))  p99.9 \(ms(d, 99.9))  max \(String(format: "%.3f", Double(d.maximum) / 1e6)) ms  (\(d.count) samples)")
        }
        return lines.joined(separator: "\n")
    }
}
