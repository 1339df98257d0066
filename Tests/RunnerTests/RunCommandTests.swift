import Foundation
import Results
import Testing

/// `mplab run` and its neighbours as a user runs them: exit codes, messages, report folders.
@Suite("mplab run, validate, list, compare")
struct RunCommandTests {
    struct Outcome {
        var status: Int32
        var output: String
        var errors: String
    }

    static func mplab(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mplabExecutable)
        process.arguments = arguments
        process.currentDirectoryURL = clone
        let out = FileManager.default.temporaryDirectory.appending(path: "mplab-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        FileManager.default.createFile(atPath: out.path + ".out", contents: nil)
        FileManager.default.createFile(atPath: out.path + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out.path + ".out")
            try? FileManager.default.removeItem(atPath: out.path + ".err")
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out.path + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: out.path + ".err"))
        try process.run()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: try String(contentsOfFile: out.path + ".out", encoding: .utf8),
                       errors: try String(contentsOfFile: out.path + ".err", encoding: .utf8))
    }

    static func temporary() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "mplab-run-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let workload = """
        # A two-host mesh for the command's tests.
        seed: 4
        duration: 3s
        \(twoHostMesh)
        clients:
          - name: c
            arrivals: constant 100/s
            mix: [{ attributes: { interface: org.example.E, method: call } }]
        expectations:
          - calls == 300
        """

    @Test func exitStatusSaysPassFailOrBadFile() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appending(path: "good.yaml"), failing = dir.appending(path: "failing.yaml"), bad = dir.appending(path: "bad.yaml")
        try Self.workload.write(to: good, atomically: true, encoding: .utf8)
        try Self.workload.replacingOccurrences(of: "calls == 300", with: "calls == 301").write(to: failing, atomically: true, encoding: .utf8)
        try Self.workload.replacingOccurrences(of: "    arrivals:", with: "    arivals:").write(to: bad, atomically: true, encoding: .utf8)
        let reports = dir.appending(path: "reports").path

        let pass = try Self.mplab(["run", good.path, "--reports", reports])
        #expect(pass.status == 0, "\(pass.errors)")
        #expect(pass.output.contains("calls == 300") && pass.output.contains("all 1 expectation(s) hold"))
        #expect(FileManager.default.fileExists(atPath: reports + "/good/seed-4/report.html"))

        let fail = try Self.mplab(["run", failing.path, "--reports", reports])
        #expect(fail.status == 1)
        #expect(fail.output.contains("calls == 301") && fail.output.contains("300  (expected = 301)   FAIL"), "names it with the measured value: \(fail.output)")

        let refused = try Self.mplab(["run", good.path, bad.path, "--reports", reports])
        #expect(refused.status == 2, "a bad file stops every run before it starts")
        #expect(refused.errors.contains("\(bad.path):14:5: clients[0].arivals: unknown field; did you mean 'arrivals'?"))
        #expect(!refused.output.contains("good (simulate"), "nothing ran")

        let validate = try Self.mplab(["validate", good.path, bad.path])
        #expect(validate.status == 2 && validate.output.contains("good.yaml: ok"))
    }

    @Test func replicationShardsMergeIntoTheWholeRun() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appending(path: "w.yaml")
        try Self.workload.write(to: file, atomically: true, encoding: .utf8)
        let reports = dir.appending(path: "r").path
        #expect(try Self.mplab(["run", file.path, "--replications", "4", "--reports", reports]).status == 0)
        for i in 0..<2 { #expect(try Self.mplab(["run", file.path, "--replications", "4", "--shard", "\(i)/2", "--reports", reports]).status == 0) }
        let merged = try Self.mplab(["merge", reports + "/w/seed-4/shard-0-of-2", reports + "/w/seed-4/shard-1-of-2", "--output", reports + "/merged"])
        #expect(merged.status == 0, "\(merged.errors)")
        let whole = try WorkloadResult.decode(Data(contentsOf: URL(fileURLWithPath: reports + "/w/seed-4/result.json")))
        let pooled = try WorkloadResult.decode(Data(contentsOf: URL(fileURLWithPath: reports + "/merged/result.json")))
        // The same runs, whatever command line ran them.
        func runs(_ r: WorkloadResult) -> [RunResult] { r.parts.map { var x = $0.result; x.provenance.commandLine = []; return x } }
        #expect(pooled.parts.map(\.name) == whole.parts.map(\.name))
        #expect(runs(pooled) == runs(whole), "the shards' replications are the whole run's, in order")
        #expect(pooled.figures == whole.figures && pooled.expectations == whole.expectations)
    }

    /// The bytes of the one `result.json` under `root` (a report folder tree of one run).
    static func onlyResult(under root: String) throws -> Data {
        let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { $0.hasSuffix("result.json") }
        try #require(files.count == 1, "one result under \(root): \(files)")
        return try Data(contentsOf: URL(fileURLWithPath: root + "/" + files[0]))
    }

    /// Semantics: the same workload, seed and build give identical result bytes on two runs.
    /// Two separate `mplab` processes, not two calls in one, so nothing a process keeps (a
    /// cache, a dictionary's per-process hash seed, the order threads finish replications in)
    /// can make the runs agree by accident. The workload has a slow phase, per-try timeouts,
    /// retries with jittered backoff and route timeouts; three replications run in parallel.
    /// The command lines are identical (they are part of the provenance in the bytes), so the
    /// second run writes into the same folder after the first one's bytes were read and the
    /// folder removed. Every field counts, not a chosen few: a map encoded in hash order, a
    /// figure taken from the wall clock or a replication stored in completion order fails here.
    @Test func twoProcessesGiveTheSameResultBytes() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reports = dir.appending(path: "r").path
        let arguments = ["run", "Workloads/verify/retries-timeouts.yaml", "--replications", "3", "--reports", reports]

        // Status 0 or 1: the run completed; whether its expectations hold is not this test's
        // business (a run that fails writes no result and fails below).
        let first = try Self.mplab(arguments)
        #expect([0, 1].contains(first.status), "\(first.errors)")
        let firstBytes = try Self.onlyResult(under: reports)
        try FileManager.default.removeItem(atPath: reports)
        let second = try Self.mplab(arguments)
        #expect([0, 1].contains(second.status), "\(second.errors)")
        let secondBytes = try Self.onlyResult(under: reports)

        #expect(firstBytes.count > 1000, "a whole result, not an empty file")
        #expect(firstBytes == secondBytes, "the same workload, seed and build wrote different result.json bytes")
        // The bytes hold the whole run: the simulation and its two further replications.
        let result = try WorkloadResult.decode(firstBytes)
        #expect(result.parts.count == 3)
        let hash = try #require(result.part(.simulated)?.result.simulation?.traceHash)

        // Another seed is another run (its hash differs, so the comparison above is not of
        // two empty runs).
        try FileManager.default.removeItem(atPath: reports)
        let other = try Self.mplab(arguments + ["--seed", "24"])
        #expect([0, 1].contains(other.status), "\(other.errors)")
        let otherResult = try WorkloadResult.decode(try Self.onlyResult(under: reports))
        #expect(otherResult.part(.simulated)?.result.simulation?.traceHash != hash)
    }

    @Test func anInterruptedRunKeepsWhatItMeasuredMarkedIncomplete() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reports = dir.appending(path: "r").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mplabExecutable)
        process.arguments = ["run", "Workloads/verify/both-split.yaml", "--reports", reports]
        process.currentDirectoryURL = clone
        let log = dir.appending(path: "run.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // Interrupted while the real part's clients send (it runs first): the simulation never
        // starts. The wait is for a line, with a deadline only a broken run reaches.
        let deadline = Date().addingTimeInterval(120)
        while !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("proxy on 127.0.0.1") && Date() < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let folders = try FileManager.default.contentsOfDirectory(atPath: reports + "/both-split")
        #expect(folders.count == 1)
        let result = try WorkloadResult.decode(Data(contentsOf: URL(fileURLWithPath: reports + "/both-split/\(folders[0])/result.json")))
        #expect(!result.complete && !result.passed)
        #expect(result.parts.map(\.role) == [.real], "what was measured is kept; what had not started is not there")
        let html = try String(contentsOfFile: reports + "/both-split/\(folders[0])/report.html", encoding: .utf8)
        #expect(html.contains("Interrupted: the figures cover what ran before the stop."))
    }

    @Test func dryRunShowsEveryValueAndRunsNothing() throws {
        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appending(path: "w.yaml")
        try Self.workload.write(to: file, atomically: true, encoding: .utf8)
        let r = try Self.mplab(["run", file.path, "--dry-run", "--seed", "77", "--set", "duration=9s", "--reports", dir.appending(path: "r").path])
        #expect(r.status == 0)
        #expect(r.output.contains("seed: 77") && r.output.contains("duration: 9 s") && r.output.contains("warmUp: 0") && r.output.contains("workers: 1"))
        #expect(!FileManager.default.fileExists(atPath: dir.appending(path: "r").path))
    }

    @Test func listAndCompare() throws {
        let list = try Self.mplab(["list"])
        #expect(list.status == 0)
        #expect(list.output.contains("Workloads/quickstart.yaml") && list.output.contains("The talk's 20/80 split"))
        #expect(!list.output.contains("kubernetes"), "manifests beside the workloads are not listed")

        let dir = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appending(path: "w.yaml")
        try Self.workload.write(to: file, atomically: true, encoding: .utf8)
        let reports = dir.appending(path: "r").path
        #expect(try Self.mplab(["run", file.path, "--reports", reports]).status == 0)
        #expect(try Self.mplab(["run", file.path, "--reports", reports, "--seed", "5"]).status == 0)
        let compare = try Self.mplab(["compare", reports + "/w/seed-4", reports + "/w/seed-5"])
        #expect(compare.status == 0, "\(compare.errors)")
        #expect(compare.output.contains("simulated latency p50") && compare.output.contains("B / A"))
        #expect(compare.output.contains("calls == 300 [simulated]: A pass (300), B pass (300)"))
        let rerender = try Self.mplab(["report", reports + "/w/seed-4"])
        #expect(rerender.status == 0 && rerender.output.contains("all 1 expectation(s) hold"))
    }
}
