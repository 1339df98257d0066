import MetaProtocol
import Testing
import TrafficModel

@testable import Workload

/// Workload scripts: every default filled in and shown, overrides, expectations as sentences,
/// and a bad file refused with its file, line, column, field and what was expected.
@Suite("Workload scripts")
struct WorkloadScriptTests {
    /// A mesh of two hosts; each test adds what it is about.
    static let mesh = """
        proxy:
          inline:
            - apiVersion: mplab.io/v1alpha1
              kind: ProxyConfig
              spec:
                protocol: dubbo
                clusters: [{ name: svc, hosts: ["10.0.0.1:20880", "10.0.0.2:20880"] }]
                routes: [{ name: all, route: [{ destination: { host: svc } }] }]
        """
    static let client = "clients:\n  - name: c\n    arrivals: poisson 10/s"

    static func read(_ extra: String, overrides: [String] = []) throws(ManifestErrors) -> WorkloadScript {
        try WorkloadReader.read(text: mesh + "\n" + extra + "\n", file: "w.yaml", directory: ".", overrides: overrides)
    }

    static func errors(_ extra: String, overrides: [String] = []) -> [String] {
        do {
            _ = try read(extra, overrides: overrides)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// Bad files and the first thing said of each, exactly. Lines count from the mesh's nine.
    static let badFiles: [(String, String)] = [
        (client.replacingOccurrences(of: "arrivals", with: "arivals"), "w.yaml:11:5: clients[0].arivals: unknown field; did you mean 'arrivals'?"),
        (client.replacingOccurrences(of: "poisson", with: "poison"), "w.yaml:11:15: clients[0].arrivals: unknown arrival process \"poison\"; did you mean 'poisson'?"),
        (client.replacingOccurrences(of: "10/s", with: "ten/s"),
         "w.yaml:11:15: clients[0].arrivals: expected poisson RATE or constant RATE (poisson 2000/s), or a mapping such as { flashCrowd: {…} }, not \"poisson ten/s\""),
        ("clients:\n  - name: c\n    arrivals: { flashCrowd: { base: 10/s, multiplier: 3 } }",
         "w.yaml:11:29: clients[0].arrivals.flashCrowd: flashCrowd needs at, rise, hold, decay"),
        (client + "\n    payload: 12 parsecs", "w.yaml:12:14: clients[0].payload: \"12 parsecs\": not a byte count (20, 20B, 1K, 16KB, 1M)"),
        (client + "\nduraton: 10s", "w.yaml:12:1: duraton: unknown field; did you mean 'duration'?"),
        (client + "\nduration: soon", "w.yaml:12:11: duration: expected a duration such as 30s, 100ms or 1m30s, not \"soon\""),
        (client + "\nmode: simulated", "w.yaml:12:7: mode: expected simulate, real or both, not \"simulated\""),
        (client + "\nservices:\n  scv: { workers: 2 }", "w.yaml:13:3: services.scv: no cluster of the proxy is named \"scv\"; did you mean 'svc'?"),
        (client + "\nservices:\n  svc: { workers: 0 }", "w.yaml:13:8: services.svc: workers must be at least 1 (or left out for no limit), found 0"),
        (client + "\nservices:\n  svc: { serviceTime: \"gamma:1ms\" }",
         "w.yaml:13:23: services.svc.serviceTime: unknown distribution \"gamma\" (constant, exp, lognormal, uniform)"),
        (client + "\nfaults:\n  - { at: 1s, crash: 10.0.0.9:20880 }",
         "w.yaml:13:22: faults[0].crash: no host 10.0.0.9:20880 in the proxy's clusters; did you mean '10.0.0.1:20880'?"),
        (client + "\nfaults:\n  - { crash: 10.0.0.1:20880 }", "w.yaml:13:5: faults[0].at: a fault needs at: when it happens"),
        (client + "\nexpectations:\n  - p99(latency) lower than 5ms",
         "w.yaml:13:5: expectations[0]: expected METRIC then a bound: < 20ms, >= 1, == 0, within 0.2 ± 0.02, in 10..20 (or \"conservation holds\")"),
        (client + "\nexpectations:\n  - ejectons >= 1", "w.yaml:13:5: expectations[0]: unknown metric \"ejectons\"; did you mean 'ejections'?"),
        (client + "\nexpectations:\n  - real.p50 / simulated.p50 within 0.5..2",
         "w.yaml:13:5: expectations[0]: \"real.p50 / simulated.p50 within 0.5..2\" reads the real run, but the mode is simulate"),
        (client + "\nwarmUp: 20s\nduration: 10s", "w.yaml:12:9: warmUp: the warm-up (20 s) must end before the duration (10 s)"),
        (client + "\n    mix: [{ weight: 0, attributes: { method: a } }]", "w.yaml:12:10: clients[0].mix: every weight is 0: no call would be sent"),
        (client + "\nexpectations:\n  - added(20B, p50) < 1ms",
         "w.yaml:13:5: expectations[0]: \"added(20B, p50) < 1ms\" reads the overhead round at 20 B, but the workload's overhead.sizes do not have it"),
        (client + "\nexpectations:\n  - p99(latency) within 5ms ± -1ms", "w.yaml:13:5: expectations[0]: the ± part must be 0 or more"),
        ("seed: 1", "w.yaml:1:1: clients: a workload needs clients (who calls, how often, with what), or only an overhead round"),
        (client + "\ncapacity:\n  objective: p99 under 20ms",
         "w.yaml:13:14: capacity.objective: expected a percentile and its bound, such as p99 < 20ms, not \"p99 under 20ms\""),
        (client + "\ncapacity:\n  concurrency: [1, 2, 4]",
         "w.yaml:13:16: capacity.concurrency: the Universal Scalability Law has three coefficients: give at least 4 distinct levels, or [] for no sweep"),
        (client + "\ncapacity:\n  headroom: 1.5", "w.yaml:13:13: capacity.headroom: headroom is a share of the capacity, above 0 and at most 1; found 1.5"),
        (client + "\ncapacity:\n  fillInterval: 10ms", "w.yaml:13:17: capacity.fillInterval: a fill interval under 50ms refills too often to be exact; found 10 ms"),
        (client + "\ncapacity:\n  replicatons: 4", "w.yaml:13:3: capacity.replicatons: unknown field; did you mean 'replications'?"),
        (client + "\ncapacity:\n  maxErrors: lots", "w.yaml:13:14: capacity.maxErrors: expected a share such as 1% or 0.01, not \"lots\""),
        (client + "\nmode: real\nfaults:\n  - { at: 1s, crash: 10.0.0.1:20880 }",
         "w.yaml:14:3: faults: faults run in the simulator only (mode: simulate); a real run cannot crash hosts yet"),
    ]

    @Test(arguments: badFiles.indices)
    func aBadFileIsRefusedWithItsPlaceAndWhatWasExpected(_ i: Int) {
        let (extra, expected) = Self.badFiles[i]
        let errors = Self.errors(extra)
        #expect(errors.first == expected, "all said: \(errors)")
    }

    @Test func aManifestErrorInsideTheWorkloadPointsAtItsLine() {
        let text = """
            proxy:
              inline:
                - apiVersion: mplab.io/v1alpha1
                  kind: ProxyConfig
                  spec:
                    protocol: dubbo
                    clusters: [{ name: svc, hosts: ["10.0.0.1:20880"] }]
                    routes: [{ name: all, route: [{ destination: { host: svc, subst: v1 } }] }]
            \(Self.client)
            """
        do {
            _ = try WorkloadReader.read(text: text, file: "m.yaml", directory: ".")
            Issue.record("accepted")
        } catch {
            #expect(error.errors.map(\.description).first == "m.yaml:8:67: routes[0].route[0].destination.subst: unknown field; did you mean 'subset'?")
        }
    }

    @Test func aCapacitySectionIsReadWithItsDefaults() throws {
        let s = try Self.read(Self.client + "\nmode: both\ncapacity:\n  objective: p99.9 <= 5ms\n  maxErrors: 0.5%\n  whatIf: { multiples: [2], flashCrowd: 0 }")
        let c = try #require(s.capacity)
        #expect(c.percentile == 99.9 && c.bound == 0.005 && c.maxErrorShare == 0.005)
        #expect(c.driver == .both, "the workload's mode unless given")
        #expect(c.whatIfMultiples == [2] && c.flashCrowd == 0)
        #expect(c.headroom == 0.75 && c.fillInterval == .milliseconds(100) && c.concurrency == [1, 2, 4, 8, 16, 32] && c.replications == 8)
        #expect(s.resolvedDescription.contains("objective: p99.9 < 5 ms, errors <= 0.5%"))
        #expect(try Self.read(Self.client).capacity == nil)
    }

    @Test func everyDefaultIsFilledInAndShown() throws {
        let s = try Self.read(Self.client)
        #expect(s.mode == .simulate && s.seed == 1 && s.duration == .seconds(10) && s.warmUp == .zero && s.replications == 1)
        #expect(s.clients[0].payloadSizes == [1024] && s.clients[0].mix.count == 1)
        #expect(s.network.clientToProxy == .constant(0.000_05) && s.network.fromDirectPath)
        #expect(s.proxy.configuration.protocolName == "dubbo" && s.proxy.instances == 1)
        let shown = s.resolvedDescription
        for line in ["mode: simulate", "seed: 1", "duration: 10 s", "warmUp: 0", "clientToProxy: 50 µs one way", "payload: 1 KB", "workers: 1",
                     "serviceTime: exp:1 ms", "queueLimit: unlimited", "svc: (not in the workload: the default host)", "- 10.0.0.1:20880 weight 1 priority 0",
                     "overhead: none", "replications: 1"] {
            #expect(shown.contains(line), "the resolved configuration shows \(line)")
        }
    }

    @Test func overridesAreWrittenOverTheFileBeforeItIsRead() throws {
        let s = try Self.read(Self.client + "\nseed: 3", overrides: ["seed=9", "clients[0].arrivals=constant 50/s", "services.svc.workers=4", "duration=2s"])
        #expect(s.seed == 9 && s.duration == .seconds(2))
        #expect(s.clients[0].arrivals == .constant(rate: 50))
        #expect(s.services.first?.behaviour.workers == 4)
        #expect(Self.errors(Self.client, overrides: ["clients[3].arrivals=poisson 1/s"]) == ["w.yaml: --set clients[3].arrivals: the list has 1 items, no [3]"])
        #expect(Self.errors(Self.client, overrides: ["seed"]) == ["w.yaml: --set seed: expected key=value, such as seed=7 or clients[0].arrivals=poisson 500/s"])
    }

    @Test func severalPayloadSizesSplitTheRateIntoClientsOfTheirOwn() throws {
        let s = try Self.read(Self.client + "\n    payload: [20B, 120KB]")
        let models = s.clientModels
        #expect(models.map(\.name) == ["c 20 B", "c 120 KB"])
        #expect(models.map(\.arrivals) == [.poisson(rate: 5), .poisson(rate: 5)])
        #expect(models.map(\.payloadSize) == [.constant(20), .constant(122_880)])
    }

    @Test func faultsWithADurationAreUndoneAfterIt() throws {
        let s = try Self.read(Self.client + "\nfaults:\n  - { at: 5s, slowDown: 10.0.0.2:20880, factor: 4, for: 2s }\n  - { at: 1s, crash: 10.0.0.1:20880 }")
        #expect(s.faults == [FaultEvent(at: .seconds(1), .crash(host: "10.0.0.1:20880")), FaultEvent(at: .seconds(5), .slowDown(host: "10.0.0.2:20880", factor: 4)),
                             FaultEvent(at: .seconds(7), .slowDown(host: "10.0.0.2:20880", factor: 1))])
    }

    @Test func expectationsReadAsTheyAreWritten() throws {
        func check(_ text: String) throws -> Workload.Expectation.Check { try Workload.Expectation(parsing: text).check }
        #expect(try check("share(subset v1) within 0.20 ± 0.02") == .value(.metric(.share(.subset("v1")), driver: nil), .around(0.2, 0.02)))
        #expect(try check("p99(latency) < 20ms") == .value(.metric(.percentile(99, figure: "latency"), driver: nil), .below(0.02, inclusive: false)))
        #expect(try check("ejections >= 1") == .value(.metric(.count("ejections"), driver: nil), .above(1, inclusive: true)))
        #expect(try check("real.p50 / simulated.p50 within 0.5..2")
                == .value(.ratio(.metric(.percentile(50, figure: "latency"), driver: .real), .metric(.percentile(50, figure: "latency"), driver: .simulated)), .between(0.5, 2)))
        #expect(try check("real.conservation holds") == .invariantsHold(driver: .real))
        #expect(try check("added(120KB, p99.9) < 5ms") == .value(.metric(.added(size: 122_880, percentile: 99.9, haproxy: false), driver: nil), .below(0.005, inclusive: false)))
        #expect(try check("errorRate <= 1%") == .value(.metric(.count("errorRate"), driver: nil), .below(0.01, inclusive: true)))
        #expect(Workload.Expectation.Bound.around(0.2, 0.02).holds(0.22) && !Workload.Expectation.Bound.around(0.2, 0.02).holds(0.2201))
        #expect(Workload.Expectation.Bound.between(1, 2).describe(duration: false) == "1–2")
        #expect(Workload.Expectation.Bound.below(0.02, inclusive: false).describe(duration: true) == "< 20 ms")
    }

    @Test func didYouMeanSuggestsOnlyCloseNames() {
        #expect(Suggestion.closest(to: "arivals", in: ["arrivals", "mix"]) == "arrivals")
        #expect(Suggestion.closest(to: "wrokers", in: ["workers", "queueLimit"]) == "workers", "a swap of neighbours is one edit")
        #expect(Suggestion.closest(to: "colour", in: ["name", "match", "route"]) == nil)
    }
}
