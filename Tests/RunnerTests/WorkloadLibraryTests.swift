import Foundation
import Results
import Testing

@testable import Runner
@testable import Workload

/// The clone this test was built from: workloads are read from its `Workloads/`.
let clone = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The mplab executable built next to the tests (the real-socket parts start it).
let mplabExecutable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "mplab").path

/// A mesh of two Dubbo hosts behind one route, for the tests' own workloads.
let twoHostMesh = """
    proxy:
      inline:
        - apiVersion: mplab.io/v1alpha1
          kind: ProxyConfig
          spec:
            protocol: dubbo
            clusters: [{ name: svc, hosts: ["10.0.0.1:20880", "10.0.0.2:20880"] }]
            routes: [{ name: all, route: [{ destination: { host: svc } }] }]
    """

/// Every workload in `Workloads/` whose drivers it can run here without sockets: the simulated
/// ones. Each must meet its own expectations (the overhead rounds are left to `mplab run`).
let simulatedWorkloads: [String] = {
    var found: [String] = []
    let root = clone.appending(path: "Workloads").path
    for case let name as String in FileManager.default.enumerator(atPath: root)! where name.hasSuffix(".yaml") {
        let path = root + "/" + name
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("\nclients:") else { continue }
        // Capacity studies (a `capacity` section) are run by `mplab capacity` and its tests.
        if let s = try? WorkloadReader.read(file: path), s.mode == .simulate, s.capacity == nil { found.append("Workloads/" + name) }
    }
    return found.sorted()
}()

@Suite("Workloads: the library meets its own expectations")
struct WorkloadLibraryTests {
    @Test func theLibraryHasTheWorkloadsItPromises() {
        for name in ["quickstart.yaml", "winter-olympics-flash-crowd.yaml", "verify/weighted-split.yaml", "verify/consistent-hash.yaml",
                     "verify/breaker-overflow.yaml", "verify/outlier-ejection.yaml", "verify/local-limit.yaml", "verify/global-limit.yaml",
                     "verify/retries-timeouts.yaml", "verify/mirroring.yaml", "verify/priority-failover.yaml", "verify/least-request.yaml",
                     "verify/round-robin.yaml"] {
            #expect(simulatedWorkloads.contains("Workloads/" + name), "\(name) is a simulated workload")
        }
        #expect(FileManager.default.fileExists(atPath: clone.appending(path: "Workloads/latency-sweep.yaml").path))
    }

    @Test(arguments: simulatedWorkloads)
    func aSimulatedWorkloadMeetsItsExpectations(_ file: String) async throws {
        let script = try WorkloadReader.read(file: clone.appending(path: file).path)
        let result = try await WorkloadRunner.run(script, options: .init(mplab: mplabExecutable, commandLine: ["test"], runOverhead: false))
        let checked = result.expectations.filter { $0.subject != "overhead" }
        #expect(!checked.isEmpty, "\(file) checks something")
        for e in checked {
            #expect(e.passed, "\(file): \(e.expectation) [\(e.subject)]: measured \(e.measuredText), expected \(e.expectedText) \(e.problem ?? "")")
        }
        #expect(result.part(.simulated)?.result.invariantsHold == true)
    }

    /// The short real-socket scenario: both drivers, the same mesh, side by side.
    @Test func aWorkloadOnBothDriversMeetsItsExpectationsOnEach() async throws {
        let script = try WorkloadReader.read(file: clone.appending(path: "Workloads/verify/both-split.yaml").path)
        let result = try await WorkloadRunner.run(script, options: .init(mplab: mplabExecutable, commandLine: ["test"]))
        #expect(result.parts.map(\.role) == [.real, .simulated])
        #expect(Set(result.expectations.map(\.subject)) == ["simulated", "real", "real / simulated"])
        // Latency on real sockets is the machine's, and this suite runs everything at once on
        // two cores: the real-to-simulated ratios are measured here, and judged by `mplab run`
        // on a quiet machine; every other expectation must hold here too.
        for e in result.expectations {
            if e.subject == "real / simulated" {
                #expect(e.problem == nil && (e.measured ?? 0) > 0, "\(e.expectation): measured \(e.measuredText)")
            } else {
                #expect(e.passed, "\(e.expectation) [\(e.subject)]: measured \(e.measuredText), expected \(e.expectedText) \(e.problem ?? "")")
            }
        }
        let real = try #require(result.part(.real)?.result)
        #expect(real.hosts.map(\.address) == script.proxy.configuration.clusters[0].hosts.map(\.address), "every host reported, by its manifest address")
        #expect(real.notes.contains { $0.hasPrefix("direct path p50 round trip") })
        #expect(result.comparisons.map(\.name).contains("share of subset v1"))
        #expect(result.figures.map(\.name).contains("real share of subset v1"))
        #expect(result.warnings.contains { $0.hasPrefix("the simulator's links were set from the measured direct path") })
    }

    @Test func aSimulatedRunGivesTheSameBytesTwice() async throws {
        let script = try WorkloadReader.read(file: clone.appending(path: "Workloads/verify/outlier-ejection.yaml").path)
        let options = WorkloadRunner.Options(mplab: mplabExecutable, commandLine: ["test"], runOverhead: false)
        let a = try await WorkloadRunner.run(script, options: options), b = try await WorkloadRunner.run(script, options: options)
        #expect(try a.encoded() == b.encoded())
        #expect(a.provenance.startedAt == nil, "a simulation holds no wall-clock time")
    }
}

@Suite("Workloads: checking expectations")
struct ExpectationCheckTests {
    static func script(_ expectations: [String], extra: String = "") throws -> WorkloadScript {
        let text = """
            seed: 4
            duration: 5s
            \(twoHostMesh)
            services:
              svc: { workers: 10, serviceTime: constant:2ms }
            clients:
              - name: c
                arrivals: constant 200/s
                mix: [{ attributes: { interface: org.example.E, method: call } }]
            \(extra)
            expectations:
            \(expectations.map { "  - \"\($0)\"" }.joined(separator: "\n"))
            """
        return try WorkloadReader.read(text: text, file: "e.yaml", directory: ".")
    }

    static func outcomes(_ expectations: [String], extra: String = "") async throws -> [ExpectationOutcome] {
        try await WorkloadRunner.run(try script(expectations, extra: extra), options: .init(mplab: mplabExecutable, commandLine: ["test"])).expectations
    }

    @Test func aFailedExpectationSaysWhatWasMeasured() async throws {
        let o = try await Self.outcomes(["p50(latency) < 1ms", "calls == 1000", "p50(latency) within 2.2ms ± 0.01ms"])
        #expect(o.map(\.passed) == [false, true, true])
        // Every call takes the 2 ms service time plus 100 µs of links each way.
        #expect(o[0].measuredText == "2.2 ms" && o[0].expectedText == "< 1 ms" && o[0].subject == "simulated")
        #expect(abs((o[0].measured ?? 0) - 0.0022) < 0.000_01)
    }

    @Test func aFigureTheResultLacksFailsAndSaysSo() async throws {
        let o = try await Self.outcomes(["p99(latency of method nope) < 1s", "share(subset v9) < 1"])
        #expect(o.map(\.passed) == [false, false])
        #expect(o[0].problem?.contains("no latency figure \"latency of method nope\"") == true)
        #expect(o[1].problem == "no cluster has a subset \"v9\"")
    }

    @Test func replicationsGiveIntervalsAndShardsSplitThem() async throws {
        let script = try Self.script(["calls == 1000"], extra: "replications: 4")
        let whole = try await WorkloadRunner.run(script, options: .init(mplab: mplabExecutable, commandLine: ["test"]))
        #expect(whole.parts.map(\.name) == ["simulated", "replication 2 (seed 5)", "replication 3 (seed 6)", "replication 4 (seed 7)"])
        let p50 = try #require(whole.figures.first { $0.name == "p50 latency" })
        #expect(p50.low! <= p50.value && p50.value <= p50.high! && p50.note.contains("4 replications"))
        let second = try await WorkloadRunner.run(script, options: .init(mplab: mplabExecutable, shard: .init(index: 1, count: 2), commandLine: ["test"]))
        #expect(second.parts.map(\.name) == ["replication 2 (seed 5)", "replication 4 (seed 7)"])
        #expect(second.parts.map(\.result) == [whole.parts[1].result, whole.parts[3].result], "a shard's replications are the whole run's")
    }
}
