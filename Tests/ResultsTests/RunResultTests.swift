import Foundation
import MetaProtocol
import Testing
import TrafficModel

@testable import Results

/// The versioned run result: exact merging, deterministic bytes, lossless decoding.
@Suite("Results: the run result")
struct RunResultTests {
    static func distribution(_ values: [UInt64]) -> LatencyDistribution {
        var d = LatencyDistribution()
        for v in values { d.record(nanoseconds: v) }
        return d
    }

    static func sample() -> RunResult {
        var calls = CallCounts()
        calls.sent = 10
        calls.answered = 9
        calls.addAnswer(.success)
        calls.addLocalReply(.overLimit, count: 3)
        var counters = CoreCounters()
        counters.accepted = 10
        counters.localReplies[Int(LocalReplyError.Kind.overLimit.rawValue)] = 3
        counters.filterReplies = ["local_ratelimit": 3, "fault": 1]
        var window = TimeWindow(start: 0)
        window.sent = 10
        let provenance = Provenance(build: "v0-test", machine: Machine(cores: 2, cpuModel: "test", operatingSystem: "linux"), seed: 42,
                                    workload: WorkloadSource(path: "Workloads/x.yaml", hash: "xxh64:1"), commandLine: ["mplab", "run", "x.yaml"])
        return RunResult(provenance: provenance, driver: .simulation, window: MeasuredWindow(warmUpSeconds: 1, durationSeconds: 10, endedAtSeconds: 10.5),
                         calls: calls,
                         latencies: [LatencyFigure(name: "latency", measurement: .simulatedCall, distribution: distribution([1_000, 2_000, 3_000_000, 7]))],
                         counters: [CounterGroup(name: "proxy", counters: counters.namedCounters)],
                         timeSeries: TimeSeries(intervalSeconds: 1, windows: [window]), invariants: [InvariantOutcome(name: "conservation", violations: [])],
                         coverage: [Counter(name: "retry", value: 2)])
    }

    @Test func histogramsMergeExactly() {
        // Recorded apart and merged, or recorded together: the same buckets and percentiles.
        var random = SeededRandom(seed: 1)
        let values = (0..<20_000).map { _ in 1 + random.next(below: 50_000_000) }
        var merged = Self.distribution(Array(values[..<7000]))
        merged.merge(Self.distribution(Array(values[7000...])))
        let whole = Self.distribution(values)
        #expect(merged == whole)
        for p in [50.0, 90, 99, 99.9, 100] { #expect(merged.nanoseconds(atPercentile: p) == whole.nanoseconds(atPercentile: p)) }
        #expect(merged.count == 20_000)
    }

    @Test func encodingTheSameResultTwiceGivesTheSameBytesAndDecodesToIt() throws {
        let result = Self.sample()
        let a = try result.encoded(), b = try result.encoded()
        #expect(a == b)
        let decoded = try RunResult.decode(a)
        #expect(decoded == result)
        #expect(try decoded.encoded() == a)
        #expect(decoded.latency("latency")!.summary.p50 == result.latency("latency")!.distribution.nanoseconds(atPercentile: 50))
        #expect(decoded.latency("latency")!.samples == 4)
        #expect(decoded.calls.localReplies(.overLimit) == 3)
        let text = String(decoding: a, as: UTF8.self)
        #expect(text.contains("\"schemaVersion\" : 1") && text.contains("\"over_limit\""))
    }

    @Test(arguments: [[5000, 5000, 5000], [7], [3, 3], [1, 5000, 5000], [0, 0, 12_345_678], [2047, 2048, 2049, 2049]] as [[UInt64]])
    func distributionsDecodeToThemselvesWhateverTheirExtremesShare(_ values: [UInt64]) throws {
        // Several samples at the maximum, the minimum in the maximum's bucket, zeros: the decoded
        // distribution has the same buckets, count and exact extremes.
        let d = Self.distribution(values)
        let back = try JSONDecoder().decode(LatencyDistribution.self, from: try JSONEncoder().encode(d))
        #expect(back == d && back.maximum == values.max()! && back.minimum == values.min()!)
        #expect(back.nanoseconds(atPercentile: 100) == d.nanoseconds(atPercentile: 100))
    }

    @Test func aResultOfANewerSchemaIsRefused() throws {
        var json = String(decoding: try Self.sample().encoded(), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"schemaVersion\" : 1", with: "\"schemaVersion\" : 99")
        #expect(throws: ResultError.newerSchema(found: 99, supported: 1)) { try RunResult.decode(Data(json.utf8)) }
    }

    @Test func aDistributionWhoseBucketsDoNotAddUpIsRefused() throws {
        var json = String(decoding: try Self.sample().encoded(), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"count\" : 4,", with: "\"count\" : 5,")
        #expect(throws: DecodingError.self) { try RunResult.decode(Data(json.utf8)) }
    }

    @Test func everyCoreCounterIsNamedAndReadBack() throws {
        // Every stored property of CoreCounters must be in the named list: a new counter that
        // is not would be lost from results.
        let named = Set(CoreCounters.namedFields.map { "\($0.field)" })
        for child in Mirror(reflecting: CoreCounters()).children {
            let label = child.label!
            let covered = ["localReplies", "filterReplies", "filterDelays"].contains(label) || named.contains { $0.hasSuffix(".\(label)") }
            #expect(covered, "CoreCounters.\(label) has no name in results")
        }
        var c = CoreCounters()
        for (i, f) in CoreCounters.namedFields.enumerated() { c[keyPath: f.field] = i + 1 }
        c.localReplies = c.localReplies.indices.map { 100 + $0 }
        c.filterReplies = ["fault": 7]
        c.filterDelays = ["fault": 8]
        #expect(try CoreCounters(namedCounters: c.namedCounters) == c)
        #expect(throws: ResultError.unknown("core counter named nonsense")) { try CoreCounters(namedCounters: [Counter(name: "nonsense", value: 1)]) }
    }

    @Test func hostFiguresComeFromTheHostsStats() {
        var host = SyntheticHost(name: "10.0.0.1:9000", behaviour: HostBehaviour(workers: 1, serviceTime: .constant(1)), seed: 1)
        guard case .serving(let s) = host.arrive(SyntheticHost.Call(ticket: 1, payloadBytes: 0, oneway: false), at: 0) else { Issue.record(); return }
        _ = host.complete(s, at: s.endsAt)
        let r = HostResult(address: host.name, stats: host.stats.closed(at: 2_000_000_000), digest: host.digest)
        #expect(r.completions == 1 && r.meanInSystem == 0.5 && r.throughput == 0.5 && r.meanSojourn == 1 && r.meanBusy == 0.5 && r.windowSeconds == 2)
        #expect(r.decisionDigest == "0x" + String(host.digest, radix: 16))
    }
}
