import ArgumentParser
import Dispatch
import Foundation
import LoadGenerator
import Reporting
import Results
import Runner
import TrafficModel
import Workload

/// `mplab run`: the main job — run workload scripts, check their expectations, write reports.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run workload scripts, check their expectations, and write a report of each.",
        discussion: """
            A workload script says what runs (a simulated mesh, the real proxy on loopback, or \
            both side by side), for how long, and what must hold of the result. Each run \
            writes Reports/runs/<workload>/<run-id>/ with result.json, summary.md, report.html \
            (charts inline, opens offline), CSV tables and .hgrm files.

              mplab run Workloads/quickstart.yaml
              mplab run Workloads/verify/*.yaml --seed 7
              mplab run Workloads/quickstart.yaml --set duration=60s --set 'clients[0].arrivals=poisson 5000/s'
              mplab run Workloads/quickstart.yaml --dry-run        (every value it would use, defaults included)

            Exit status: 0 when every expectation holds, 1 when one fails (named, with what was \
            measured), 2 for a bad workload file (file:line:column: field: why), 130 when \
            interrupted (Ctrl-C stops cleanly and still writes what was measured, marked incomplete).
            """
    )

    @Argument(help: ArgumentHelp("Workload scripts.", valueName: "file"))
    var files: [String]

    @Option(help: "The seed, instead of the workload's.")
    var seed: UInt64?

    @Option(name: .customLong("set"), help: ArgumentHelp("A value over the workload's (repeatable): seed=7, duration=60s, clients[0].arrivals=poisson 500/s.",
                                                       valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "Simulated replications (seeds seed, seed+1, …), instead of the workload's count; the report gives 95 % intervals.")
    var replications: Int?

    @Option(help: ArgumentHelp("Run the i-th of N slices of the replications (merge the slices' results with mplab merge).", valueName: "i/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Where reports go: <folder>/<workload>/<run-id>/.", valueName: "folder"))
    var reports = "Reports/runs"

    @Flag(help: "Print every value the run would use, defaults included, and run nothing.")
    var dryRun = false

    @Flag(help: "Print each workload's result as JSON on standard output (the summary goes to standard error).")
    var json = false

    @Flag(help: "Also write report.png, the report as headless Chromium renders it.")
    var screenshot = false

    func validate() throws {
        if let shard, LoadPlan.Shard(parsing: shard) == nil { throw ValidationError("--shard \(shard): expected i/N with 0 ≤ i < N") }
        if let replications, replications < 1 { throw ValidationError("--replications must be at least 1") }
    }

    func run() async throws {
        let overrides = (seed.map { ["seed=\($0)"] } ?? []) + self.overrides
        // Every file is read before anything runs: a typo in the third stops the first too.
        var scripts: [WorkloadScript] = []
        var bad = false
        for file in files {
            do {
                scripts.append(try WorkloadReader.read(file: file, overrides: overrides))
            } catch {
                bad = true
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        if bad { throw ExitCode(2) }
        if dryRun {
            for s in scripts {
                print("# \(s.file)\n" + s.resolvedDescription)
                for w in s.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            }
            return
        }
        var failed = false
        for script in scripts {
            let outcome = try await Self.runOne(script, command: self, overrides: overrides)
            if !outcome.complete { throw ExitCode(130) }
            if !outcome.passed { failed = true }
        }
        if failed { throw ExitCode(1) }
    }

    static func runOne(_ script: WorkloadScript, command: RunCommand, overrides: [String]) async throws -> WorkloadResult {
        let options = WorkloadRunner.Options(mplab: OverheadCommand.executable, overrides: overrides, replications: command.replications,
                                             shard: command.shard.flatMap(LoadPlan.Shard.init(parsing:)) ?? .whole)
        let display = ProgressDisplay(workload: script.name)
        for w in script.warnings { display.log("warning: \(w)") }
        // Ctrl-C cancels the run; the runner stops its processes and returns what it measured.
        let task = Task { try await WorkloadRunner.run(script, options: options, log: { display.log($0) }, progress: { display.show($0) }) }
        let interrupt = Task {
            _ = await Signals.wait(for: [SIGINT])
            task.cancel()
        }
        let outcome: WorkloadResult
        do {
            outcome = try await task.value
        } catch {
            interrupt.cancel()
            display.finish()
            FileHandle.standardError.write(Data("\(script.file): the run failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
        interrupt.cancel()
        display.finish()
        let startedAt = outcome.provenance.startedAt.flatMap { ISO8601DateFormatter().date(from: $0) }
        var folder = ReportWriter.folder(root: command.reports, workload: script.name, startedAt: startedAt, seed: script.seed)
        if let shard = command.shard { folder = folder.appending(path: "shard-\(shard.replacingOccurrences(of: "/", with: "-of-"))") }
        try ReportWriter.write(outcome, to: folder)
        let html = folder.appending(path: "report.html")
        if command.screenshot {
            do {
                try HeadlessChromium.screenshot(of: html, to: folder.appending(path: "report.png"))
            } catch {
                FileHandle.standardError.write(Data("screenshot: \(error)\n".utf8))
            }
        }
        let summary = SummaryText.table(outcome, reportPath: html.path)
        if command.json {
            FileHandle.standardError.write(Data((summary + "\n").utf8))
            FileHandle.standardOutput.write(try outcome.encoded() + Data("\n".utf8))
        } else {
            print(summary)
        }
        return outcome
    }
}

/// Progress on standard error: a bar redrawn in place on a terminal, a plain line every few
/// seconds otherwise (CI logs).
final class ProgressDisplay: @unchecked Sendable {
    private let workload: String
    private let terminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastLine = ContinuousClock.now - .seconds(60)
    private var lastPhase = ""
    private var drawn = false
    private let started = ContinuousClock.now

    init(workload: String) { self.workload = workload }

    func show(_ p: WorkloadRunner.Progress) {
        lock.withLock {
            let elapsed = (ContinuousClock.now - started).seconds
            if terminal {
                let filled = Int((p.fraction * 24).rounded())
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 24 - filled)
                FileHandle.standardError.write(Data(String(format: "\r\u{1B}[2K%@ %@ %@ %3.0f%%  %5.1fs  %@", workload, p.phase, bar, p.fraction * 100, elapsed, p.detail).utf8))
                drawn = true
            } else if p.phase != lastPhase || ContinuousClock.now - lastLine >= .seconds(5) || p.fraction >= 1 {
                FileHandle.standardError.write(Data(String(format: "%@: %@ %3.0f%% at %.1fs: %@\n", workload, p.phase, p.fraction * 100, elapsed, p.detail).utf8))
                lastLine = ContinuousClock.now
            }
            lastPhase = p.phase
        }
    }

    func log(_ line: String) {
        lock.withLock {
            if drawn { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
            FileHandle.standardError.write(Data("\(workload): \(line)\n".utf8))
        }
    }

    func finish() {
        lock.withLock { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
    }
}
