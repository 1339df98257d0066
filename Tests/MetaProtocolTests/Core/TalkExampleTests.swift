import Foundation
import Testing
import Workload

@testable import MetaProtocol

/// The talk's MetaRouter example, loaded from the manifests users write and run through the
/// core: `cmd` exactly "153" and `sub_cmd` matching `1|2` splits 20/80 between subsets v1 and
/// v2; anything else has no route.
@Suite("The talk's MetaRouter example")
struct TalkExampleTests {
    /// `Workloads/configs/qza-traffic-split.yaml`: the MetaRouter, DestinationRule and ServiceEntry.
    static let file = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Workloads/configs/qza-traffic-split.yaml")

    static func load() throws -> ConfigurationLoader.Loaded {
        try ConfigurationLoader.load([("qza-traffic-split.yaml", try String(contentsOf: file, encoding: .utf8))])
    }

    @Test func twentyEightySplitOverV1AndV2() throws {
        let loaded = try Self.load()
        #expect(loaded.configuration.protocolName == "livepacket")
        let d = TestDriver()
        d.core = ProxyCore(configuration: try loaded.compile(capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)),
                           clock: d, upstream: d, downstream: d, seed: 2022)
        let n = 20_000
        for i in 0..<n {
            d.request([("cmd", "153"), ("sub_cmd", i % 2 == 0 ? "1" : "2")], id: UInt64(i))
            d.answer(i)
        }
        let v1 = d.sent.filter { d.host(of: $0).hasPrefix("10.1.") }.count
        let v2 = d.sent.filter { d.host(of: $0).hasPrefix("10.2.") }.count
        #expect(v1 + v2 == n)
        // 20 % of 20,000 = 4000, standard error √(20000·0.2·0.8) ≈ 56.6: within four of them.
        #expect(abs(v1 - 4000) < 227, "v1 took \(v1)")
        // Within a subset, round robin spreads evenly.
        let v1a = d.sent.filter { d.host(of: $0).hasPrefix("10.1.0.1") }.count
        #expect(abs(v1a - v1 / 2) <= 1)
    }

    @Test func otherCommandsHaveNoRoute() throws {
        let loaded = try Self.load()
        let d = TestDriver()
        d.core = ProxyCore(configuration: try loaded.compile(capabilities: .init(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)),
                           clock: d, upstream: d, downstream: d, seed: 1)
        d.request([("cmd", "153"), ("sub_cmd", "3")], id: 1)
        d.request([("cmd", "153"), ("sub_cmd", "12")], id: 2)  // the regex must match the whole value
        d.request([("cmd", "1530"), ("sub_cmd", "1")], id: 3)
        d.request([("sub_cmd", "1")], id: 4)
        #expect(d.localReplies.map(\.error.kind) == [.routeNotFound, .routeNotFound, .routeNotFound, .routeNotFound])
        #expect(d.sent.isEmpty)
    }
}
