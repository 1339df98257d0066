import Foundation
import Gate
import Testing

/// `mplab gate` as CI runs it, on test-only injected regressions: it must be able to fail.
@Suite("Gate: mplab gate on injected regressions", .serialized)
struct GateCommandTests {
    static let mplab = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "mplab").path

    struct Outcome {
        var status: Int32
        var output: String
    }

    static func gate(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mplab)
        process.arguments = ["gate"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: text)
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "mplab-gate-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func anExtraCopyOfEachFrameOrExtraWorkFailsTheDeterministicGate() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let suite = dir.appending(path: "det.yaml").path
        try """
            name: det
            instructions: { probes: [core-request, livepacket-codec-1KB], iterations: 500, tolerance: 1% }
            allocations: { probes: [core-request, livepacket-codec-1KB], iterations: 500 }
            """.write(toFile: suite, atomically: true, encoding: .utf8)
        let baseline = dir.appending(path: "det.json").path
        let reports = dir.appending(path: "reports").path
        let recorded = try Self.gate([suite, "--baseline", baseline, "--update-baseline"])
        #expect(recorded.status == 0, "\(recorded.output)")
        let base = try JSONDecoder().decode(GateBaseline.self, from: Data(contentsOf: URL(fileURLWithPath: baseline)))
        #expect(base.metrics.count == 6, "2 instruction counts, 2 × (allocations, bytes)")

        // The same build again: the same counts, so it passes.
        let clean = try Self.gate([suite, "--baseline", baseline, "--reports", reports])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("# Gate `det`: ✅ pass (exit 0)"), "\(clean.output)")

        // An extra copy of each frame: an allocation and a copy more per request.
        let copy = try Self.gate([suite, "--baseline", baseline, "--reports", reports, "--inject-copy"])
        #expect(copy.status == 2, "\(copy.output)")
        for probe in ["core-request", "livepacket-codec-1KB"] {
            #expect(copy.output.contains("| allocations/request \(probe) |") && copy.output.contains("| instructions/request \(probe) |"))
        }
        #expect(!copy.output.contains("✅ pass |"), "every metric regressed: \(copy.output)")

        // Extra arithmetic only: instructions regress, allocations do not.
        let work = try Self.gate([suite, "--baseline", baseline, "--reports", reports, "--inject-work", "5000"])
        #expect(work.status == 2, "\(work.output)")
        let lines = work.output.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("| instructions/request") }.allSatisfy { $0.contains("❌ fail") })
        #expect(lines.filter { $0.hasPrefix("| allocations/request") || $0.hasPrefix("| bytes allocated") }.allSatisfy { $0.contains("✅ pass") })

        // Every run left its three files.
        let runs = try FileManager.default.contentsOfDirectory(atPath: reports + "/det")
        #expect(runs.count >= 1)
        for run in runs {
            for file in ["summary.md", "junit.xml", "gate.json"] { #expect(FileManager.default.fileExists(atPath: "\(reports)/det/\(run)/\(file)")) }
        }
    }

    @Test func aFixedDelayInTheCandidateProxyFailsTheLatencyGate() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let suite = dir.appending(path: "lat.yaml").path
        // Three milliseconds per call at 100 calls/s: many times the loopback round trip
        // however busy the machine (a debug build's proxy beside the whole suite), so a few
        // ABBA pairs show it, and the proxy stays below saturation.
        try """
            name: lat
            latency: { pacing: open, sizes: [20], rate: 100, connections: 2, roundDuration: 1s, rounds: 4, step: 2, maxRounds: 12 }
            """.write(toFile: suite, atomically: true, encoding: .utf8)
        let baseline = dir.appending(path: "lat.json").path
        #expect(try Self.gate([suite, "--baseline", baseline, "--update-baseline"]).status == 0)
        let slow = try Self.gate([suite, "--baseline", baseline, "--reports", dir.appending(path: "r").path, "--baseline-mplab", Self.mplab,
                                  "--inject-delay-us", "3000"])
        #expect(slow.status == 2, "\(slow.output)")
        #expect(slow.output.contains("| latency p50 ratio livepacket 20 B |") && slow.output.contains("❌ fail"), "\(slow.output)")
    }

    @Test func aMissingBaselineIsAnErrorNotAPass() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let suite = dir.appending(path: "x.yaml").path
        try "allocations: { probes: [core-request] }\n".write(toFile: suite, atomically: true, encoding: .utf8)
        let outcome = try Self.gate([suite, "--baseline", dir.appending(path: "none.json").path])
        #expect(outcome.status == 1 && outcome.output.contains("record one with mplab gate --update-baseline"), "\(outcome.output)")
        let bad = try Self.gate([dir.appending(path: "missing.yaml").path])
        #expect(bad.status == 1 && bad.output.contains("cannot read the file"), "\(bad.output)")
    }
}
