import ArgumentParser
import Foundation
import LoadGenerator
import Results
import TrafficModel

/// `mplab overhead`: what the proxy adds, next to HAProxy, in one run.
struct OverheadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "Measure what the proxy adds to a call, next to HAProxy, in one run.",
        discussion: """
            Starts mplab serve, mplab proxy (one event loop) and HAProxy (TCP mode, one thread) \
            as child processes on one path, then sends open-loop calls straight to the server, \
            through the proxy and through HAProxy in short interleaved rounds (ABBA) for each \
            payload size. Reports, per percentile, what each proxy adds with a bootstrap 95% \
            interval over the rounds and the ratio between them; the proxy's CPU per 1000 calls, \
            its allocations per call (jemalloc), its memory idle and with 1000 client \
            connections, both proxies at saturation; and the generator's own cost against a \
            minimal C client (added latencies below it are not stated).

              mplab overhead --protocol thrift
              mplab overhead --protocol dubbo --sizes 20,120K --rounds 10 --result runs/overhead.json
            """
    )

    @Option(name: .customLong("protocol"), help: "The protocol: dubbo, thrift, livepacket.")
    var protocolName = "livepacket"

    @Option(help: ArgumentHelp("Payload sizes, one row each.", valueName: "sizes"))
    var sizes = "20,1K,16K,64K,120K"

    @Option(help: "Rounds per path and size (at least 2).")
    var rounds = 6

    @Option(help: ArgumentHelp("How long each round sends.", valueName: "duration"))
    var roundDuration = "2s"

    @Option(help: "Calls per second in each round.")
    var rate = 500.0

    @Option(help: "Connections of each round.")
    var connections = 4

    @Flag(help: "Leave HAProxy out.")
    var noHaproxy = false

    @Flag(help: "Leave the C client's calibration out.")
    var noCalibration = false

    @Option(help: ArgumentHelp("Seconds of closed-loop load through each proxy for its CPU per call at saturation (0: none).", valueName: "duration"))
    var saturation = "3s"

    @Option(help: ArgumentHelp("Also measure a second proxy that holds every call this long: the harness must show it (a check of the harness).",
                               valueName: "duration"))
    var knownDelay: String?

    @Flag(help: "Do not pin the processes to cores.")
    var noPin = false

    @Option(help: ArgumentHelp("Write the measurement as a result file (JSON).", valueName: "file"))
    var result: String?

    func run() async throws {
        // The C client's source sits in the clone this mplab was built from.
        let clone = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = clone.appending(path: "Benchmarks/Calibration/pingpong.c").path
        let plan = OverheadPlan(mplab: Self.executable, protocolName: protocolName, sizes: try ByteSize.parseList(sizes), rounds: rounds,
                                roundDuration: try LoadCommand.duration(roundDuration, "--round-duration"), rate: try OptionValues.number(rate, "--rate", in: 0.001...1e9), connections: connections,
                                haproxy: !noHaproxy, calibrationSource: noCalibration || !FileManager.default.fileExists(atPath: source) ? nil : source,
                                saturation: try LoadCommand.duration(saturation, "--saturation"),
                                proxyDelay: try knownDelay.map { try LoadCommand.duration($0, "--known-delay") }, pin: !noPin)
        let report = try await OverheadRun.run(plan) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        print(report.text)
        if let result {
            try report.runResult(provenance: .current(seed: plan.seed, startedAt: Date())).encoded().write(to: URL(fileURLWithPath: result))
        }
    }

    /// This executable's path, for starting `mplab serve` and `mplab proxy`.
    static var executable: String { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0] }
}
