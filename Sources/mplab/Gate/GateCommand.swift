import ArgumentParser
import Foundation
import Gate
import MetaProtocol
import Reporting
import Workload

/// `mplab gate`: the release gate. Deterministic figures against a committed baseline, latency
/// against the baseline build in the same run, and a verdict a CI job can act on.
struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Fail a release on a performance regression that a noisy machine cannot fake.",
        discussion: """
            Runs a gate suite (Workloads/gate/*.yaml) and compares it with its baseline \
            (Reports/baselines/<suite>.json):

              1. deterministic figures, judged within the suite's tolerance: the simulator's \
            results (each workload run twice: the same seed must give the same trace), \
            instructions per request of the codec and core hot paths under valgrind's \
            callgrind, and allocations and bytes allocated per request from jemalloc;
              2. latency: this build's proxy against the baseline revision's (built by the gate), \
            in interleaved ABBA rounds in one run, judged by a bootstrap interval on the median \
            ratio, a Mann-Whitney test and a minimum effect; more rounds while inconclusive, \
            then "inconclusive" without failing;
              3. absolute bounds, failing only on a machine the suite declares dedicated.

            Exit status: 0 pass, 2 regression, 4 improvement only (update the baseline), 1 error. \
            Writes summary.md (for a CI job page), junit.xml and gate.json into \
            Reports/gate/<suite>/<run-id>/.

              mplab gate Workloads/gate/quick.yaml
              mplab gate Workloads/gate/full.yaml --baseline-mplab /opt/mplab-1.2/mplab
              mplab gate Workloads/gate/quick.yaml --update-baseline
            """
    )

    @Argument(help: ArgumentHelp("The gate suite.", valueName: "suite.yaml"))
    var file: String

    @Option(help: ArgumentHelp("The baseline file (default Reports/baselines/<suite>.json).", valueName: "file"))
    var baseline: String?

    @Flag(help: "Record this build's figures as the suite's baseline (with the machine and build they came from) instead of judging them.")
    var updateBaseline = false

    @Option(help: ArgumentHelp("The baseline build's mplab for the latency comparison (default: built from the baseline's revision).", valueName: "path"))
    var baselineMplab: String?

    @Flag(help: "Leave out the latency comparison: deterministic figures only.")
    var noLatency = false

    @Option(help: ArgumentHelp("Where reports go: <folder>/<suite>/<run-id>/.", valueName: "folder"))
    var reports = "Reports/gate"

    @Flag(help: "List the hot-path probes a suite can name, and exit.")
    var listProbes = false

    // Test-only regressions, so that the gate's own tests (and its trust figures) can show it fails.
    @Flag(help: .hidden) var injectCopy = false
    @Option(help: .hidden) var injectWork = 0
    @Option(help: .hidden) var injectDelayUs = 0

    func run() async throws {
        if listProbes {
            for p in HotPathProbe.all { print("\(p.name)\t\(p.summary)") }
            return
        }
        let suite: GateSuite
        do {
            suite = try GateSuiteReader.read(file: file, probes: HotPathProbe.names)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        var options = GateRun.Options(mplab: OverheadCommand.executable, baselineFile: baseline ?? "Reports/baselines/\(suite.name).json",
                                      repository: FileManager.default.currentDirectoryPath)
        options.updateBaseline = updateBaseline
        options.baselineMplab = baselineMplab
        options.skipLatency = noLatency
        options.probeInjection = HotPathProbe.Injection(copyFrames: injectCopy, extraWork: injectWork)
        if injectDelayUs > 0 { options.proxyDelay = .microseconds(injectDelayUs) }
        let started = ContinuousClock.now
        let outcome: GateOutcome
        do {
            outcome = try await GateRun.run(suite, options: options) { line in
                FileHandle.standardError.write(Data(String(format: "gate %6.1fs  %@\n", (ContinuousClock.now - started).seconds, line).utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("\(file): the gate could not decide: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if updateBaseline {
            let recorded = GateBaseline(suite: suite.name, build: outcome.build, revision: GateBaseline.currentRevision(), machine: outcome.machine, recordedAt: Date(),
                                        commandLine: CommandLine.arguments, metrics: outcome.metrics)
            try recorded.write(options.baselineFile)
            print("recorded \(recorded.metrics.count) figures of build \(recorded.build) as \(options.baselineFile)")
            if let failed = outcome.metrics.first(where: { $0.verdict == .fail }) {
                FileHandle.standardError.write(Data("but \(failed.name) failed in this run: \(failed.detail)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        let folder = ReportWriter.folder(root: reports, workload: suite.name, startedAt: Date(), seed: 0).path
        try GateReport.write(outcome, to: folder)
        print(GateReport.markdown(outcome))
        print("reports: \(folder)/{summary.md,junit.xml,gate.json}")
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}
