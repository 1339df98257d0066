import ArgumentParser
import Capacity
import Dispatch
import Foundation
import LoadGenerator
import Reporting
import Results
import Workload

/// `mplab capacity`: how much a workload's service takes within its SLO, and the rate limit
/// that keeps it there.
struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Find a workload's capacity within its SLO and recommend the local rate limit that keeps it.",
        discussion: """
            Searches the offered load — simulated, on real sockets, or both — for the highest \
            rate whose percentile stays under the objective (on the upper end of its 95 % \
            interval) with errors under the bound: steps up, then bisects. Sweeps the number of \
            closed-loop callers and fits the Universal Scalability Law. Recommends a token \
            bucket per service and per method at capacity × headroom, written into the \
            workload's MetaRouter (ready for mplab proxy --config), with an autoscaling trigger \
            on rate-limited calls per 30 s; then replays the recommendation in simulation at \
            1×, 2× and 5× the capacity and under a flash crowd. The workload's `capacity` \
            section sets the objective and the rest (Workloads/README.md).

              mplab capacity Workloads/capacity-qza-live.yaml
              mplab capacity Workloads/capacity-thrift-sample.yaml --driver real
              mplab capacity W.yaml --set capacity.objective='p99 < 5ms'

            Writes Reports/capacity/<workload>/<run-id>/ with capacity.json, summary.md, \
            report.html, recommended-ratelimit.yaml and CSVs. Exit status: 0 when a capacity \
            was found, 1 when no rate kept the objective, 2 for a bad workload file, 130 when \
            interrupted (what was measured is written, marked incomplete).
            """
    )

    @Argument(help: ArgumentHelp("A workload script.", valueName: "file"))
    var file: String

    @Option(help: "simulate, real or both, instead of the workload's capacity.driver.")
    var driver: String?

    @Option(help: "The seed, instead of the workload's.")
    var seed: UInt64?

    @Option(name: .customLong("set"), help: ArgumentHelp("A value over the workload's (repeatable): capacity.objective=p99 < 5ms.", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Where reports go: <folder>/<workload>/<run-id>/.", valueName: "folder"))
    var reports = "Reports/capacity"

    @Flag(help: "Skip the closed-loop sweep (no USL fit).")
    var noSweep = false

    @Flag(help: "Skip the what-if replays of the recommendation.")
    var noWhatIf = false

    @Flag(help: "Print the result as JSON on standard output (the summary goes to standard error).")
    var json = false

    func validate() throws {
        if let driver, WorkloadScript.Mode(rawValue: driver) == nil { throw ValidationError("--driver \(driver): expected simulate, real or both") }
    }

    func run() async throws {
        let overrides = (seed.map { ["seed=\($0)"] } ?? []) + self.overrides
        let script: WorkloadScript
        do {
            script = try WorkloadReader.read(file: file, overrides: overrides)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        for w in script.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        let options = CapacityStudy.Options(mplab: OverheadCommand.executable, overrides: overrides, driver: driver.flatMap(WorkloadScript.Mode.init(rawValue:)),
                                            sweep: !noSweep, whatIf: !noWhatIf)
        let started = ContinuousClock.now
        let name = script.name
        let task = Task {
            try await CapacityStudy.run(script, options: options) { p in
                let elapsed = (ContinuousClock.now - started).seconds
                FileHandle.standardError.write(Data(String(format: "%@ %@ %6.1fs  %@\n", name, p.driver, elapsed, p.line).utf8))
            }
        }
        let interrupt = Task {
            _ = await Signals.wait(for: [SIGINT])
            task.cancel()
        }
        let result: CapacityResult
        do {
            result = try await task.value
        } catch {
            interrupt.cancel()
            FileHandle.standardError.write(Data("\(file): the capacity study failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
        interrupt.cancel()
        let startedAt = result.provenance.startedAt.flatMap { ISO8601DateFormatter().date(from: $0) }
        let folder = ReportWriter.folder(root: reports, workload: script.name, startedAt: startedAt, seed: script.seed)
        _ = try CapacityReport.write(result, to: folder)
        let summary = CapacityReport.markdown(result) + "\nreport: \(folder.appending(path: "report.html").path)\n"
        if json {
            FileHandle.standardError.write(Data(summary.utf8))
            FileHandle.standardOutput.write(try result.encoded() + Data("\n".utf8))
        } else {
            print(summary)
        }
        if !result.complete { throw ExitCode(130) }
        if result.searches.contains(where: { $0.capacity == nil }) { throw ExitCode(1) }
    }
}
