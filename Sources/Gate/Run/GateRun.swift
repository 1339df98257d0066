import Foundation
import Results
import Workload

/// One gate run: the suite's figures measured, each judged, and the verdict.
public struct GateOutcome: Codable, Sendable {
    public var suite: String
    public var suiteFile: String
    public var verdict: GateVerdict
    public var metrics: [GateMetric]
    public var build: String
    public var machine: Machine
    /// The baseline's build and when it was recorded (nil when recording one).
    public var baselineBuild: String?
    public var baselineRecordedAt: String?
    public var startedAt: String
    public var seconds: Double
    public var commandLine: [String]
    public var dedicated: Bool
    /// What was injected, when a test-only regression was (never in a real gate run).
    public var injected: String?

    public var exitCode: Int32 { verdict.exitCode }

    public init(suite: String, suiteFile: String, verdict: GateVerdict, metrics: [GateMetric], build: String, machine: Machine, baselineBuild: String?,
                baselineRecordedAt: String?, startedAt: String, seconds: Double, commandLine: [String], dedicated: Bool, injected: String?) {
        self.suite = suite
        self.suiteFile = suiteFile
        self.verdict = verdict
        self.metrics = metrics
        self.build = build
        self.machine = machine
        self.baselineBuild = baselineBuild
        self.baselineRecordedAt = baselineRecordedAt
        self.startedAt = startedAt
        self.seconds = seconds
        self.commandLine = commandLine
        self.dedicated = dedicated
        self.injected = injected
    }
}

/// Runs a gate suite against a baseline.
public enum GateRun {
    public struct Options: Sendable {
        /// The candidate build's `mplab` (the one running, usually).
        public var mplab: String
        /// `Reports/baselines/<suite>.json` unless given.
        public var baselineFile: String
        /// Record the figures as the new baseline instead of judging them.
        public var updateBaseline = false
        /// The baseline build's `mplab` for the latency comparison; built from the baseline's
        /// revision when nil.
        public var baselineMplab: String?
        /// The repository the baseline build is made from.
        public var repository: String
        /// Leave out the latency comparison (the deterministic figures only).
        public var skipLatency = false
        /// Test-only regressions: in the candidate's probes, and a delay in its proxy.
        public var probeInjection = HotPathProbe.Injection()
        public var proxyDelay: Duration?
        public var commandLine: [String] = CommandLine.arguments

        public init(mplab: String, baselineFile: String, repository: String) {
            self.mplab = mplab
            self.baselineFile = baselineFile
            self.repository = repository
        }
    }

    public static func run(_ suite: GateSuite, options: Options, log: @escaping @Sendable (String) -> Void) async throws -> GateOutcome {
        let started = Date()
        let baseline = options.updateBaseline ? nil : try GateBaseline.read(options.baselineFile)
        var measured: [GateMetric] = []

        if let s = suite.simulation {
            for file in s.workloads {
                log("simulation: \((file as NSString).lastPathComponent), twice with its seed")
                measured += try SimulationFigures.measure(file, tolerance: s.tolerance)
            }
        }
        let scratch = FileManager.default.temporaryDirectory.appending(path: "mplab-gate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var counter: ProbeCounter?
        if suite.instructions != nil || suite.allocations != nil {
            counter = ProbeCounter(executable: try ProbeCounter.executable(besides: options.mplab), injection: options.probeInjection)
        }
        if let p = suite.instructions, let counter = try counter?.forCallgrind(in: scratch) {
            for probe in p.probes {
                let value = try counter.instructions(probe, iterations: p.iterations)
                log("instructions: \(probe): \(GateFormat.number(value)) per request")
                measured.append(GateMetric(name: "instructions/request \(probe)", group: .instructions, unit: "instructions", value: value,
                                           tolerance: p.tolerance, direction: .lowerIsBetter, samples: p.iterations))
            }
        }
        if let p = suite.allocations, let counter {
            for probe in p.probes {
                let (count, bytes) = try counter.allocations(probe, iterations: p.iterations)
                log("allocations: \(probe): \(GateFormat.number(count)) (\(GateFormat.number(bytes)) B) per request")
                measured.append(GateMetric(name: "allocations/request \(probe)", group: .allocations, unit: "allocations", value: count,
                                           tolerance: p.tolerance, direction: .lowerIsBetter, samples: p.iterations))
                measured.append(GateMetric(name: "bytes allocated/request \(probe)", group: .allocations, unit: "bytes", value: bytes,
                                           tolerance: p.tolerance, direction: .lowerIsBetter, samples: p.iterations))
            }
        }
        // Deterministic figures judged against the recorded ones (the in-run determinism checks
        // are judged already).
        var metrics = measured.map { m in
            m.direction == .exact || baseline == nil ? m : m.judged(against: baseline!.value(of: m.name))
        }
        if let baseline {
            let seen = Set(metrics.map(\.name))
            let groups = Set(metrics.map(\.group))
            for r in baseline.metrics where !seen.contains(r.name) && groups.contains(r.group) {
                metrics.append(GateMetric(name: r.name, group: r.group, unit: r.unit, value: .nan, baseline: r.value, tolerance: 0, direction: .exact,
                                          samples: 0, verdict: .fail, detail: "in the baseline but no longer measured"))
            }
        }

        if let l = suite.latency, !options.skipLatency, !options.updateBaseline {
            let baselineMplab: String
            if let given = options.baselineMplab {
                baselineMplab = given
            } else if let revision = baseline?.revision {
                baselineMplab = try BaselineBuild.mplab(revision: revision, repository: options.repository, log: log)
            } else {
                throw GateError.usage("the latency comparison needs the baseline build: the baseline records no revision; give --baseline-mplab")
            }
            let extra = options.proxyDelay.map { ["--inject-delay-us", "\($0.nanoseconds / 1000)"] } ?? []
            metrics += try await LatencyComparison(baselineMplab: baselineMplab, candidateMplab: options.mplab, plan: l, candidateProxyArguments: extra).run(log: log)
        }

        metrics += thresholds(suite, metrics)
        if let baseline, baseline.machine.cpuModel != Machine.current.cpuModel || baseline.machine.cores != Machine.current.cores {
            // Instruction counts follow the CPU (glibc picks memcpy by its features): say so
            // rather than let a different machine pass for a regression silently.
            metrics.append(GateMetric(name: "baseline machine", group: .absolute, unit: "", value: .nan, tolerance: 0, direction: .exact, samples: 0,
                                      verdict: .warning,
                                      detail: "the baseline was recorded on \(baseline.machine.cores) cores, \(baseline.machine.cpuModel); this is \(Machine.current.cores) cores, \(Machine.current.cpuModel)"))
        }
        var injected: [String] = []
        if options.probeInjection.copyFrames { injected.append("an extra copy of each frame in the probes") }
        if options.probeInjection.extraWork > 0 { injected.append("\(options.probeInjection.extraWork) rounds of extra work per probe request") }
        if let d = options.proxyDelay { injected.append("a \(d.nanoseconds / 1000) µs busy delay per request in the candidate proxy") }
        return GateOutcome(suite: suite.name, suiteFile: suite.file, verdict: options.updateBaseline ? .pass : GateVerdict.overall(metrics.map(\.verdict)),
                           metrics: metrics, build: Provenance.currentBuild, machine: .current, baselineBuild: baseline?.build,
                           baselineRecordedAt: baseline?.recordedAt, startedAt: ISO8601DateFormatter().string(from: started),
                           seconds: Date().timeIntervalSince(started), commandLine: options.commandLine, dedicated: suite.dedicated,
                           injected: injected.isEmpty ? nil : injected.joined(separator: "; "))
    }

    /// The suite's absolute bounds: failing only on a dedicated machine, warnings elsewhere.
    static func thresholds(_ suite: GateSuite, _ metrics: [GateMetric]) -> [GateMetric] {
        suite.thresholds.map { t in
            guard let m = metrics.first(where: { $0.name == t.metric }) else {
                return GateMetric(name: "bound on \(t.metric)", group: .absolute, unit: "", value: .nan, tolerance: 0, direction: .exact, samples: 0,
                                  verdict: .inconclusive, detail: "no such metric in this run")
            }
            let broken = (t.max.map { m.value > $0 } ?? false) || (t.min.map { m.value < $0 } ?? false)
            let bound = [t.min.map { "≥ \(GateFormat.number($0))" }, t.max.map { "≤ \(GateFormat.number($0))" }].compactMap { $0 }.joined(separator: " and ")
            let verdict: GateVerdict = !broken ? .pass : suite.dedicated ? .fail : .warning
            return GateMetric(name: "bound on \(t.metric)", group: .absolute, unit: m.unit, value: m.value, tolerance: 0, direction: .exact, samples: m.samples,
                              verdict: verdict, detail: "\(GateFormat.number(m.value)) \(m.unit), bound \(bound)"
                                  + (broken && !suite.dedicated ? " (broken; warn-only: the machine is not declared dedicated)" : ""))
        }
    }
}
