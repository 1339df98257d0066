import Testing

@testable import MetaProtocol

/// What a client can add to `/metrics` through method names is bounded, and names it makes up
/// one per call cannot push a method that keeps coming back into `other`.
@Suite("Stats: method names are bounded")
struct MethodStatsBoundTests {
    /// One answered call per name, in order.
    static func calls(_ names: [String], on d: TestDriver, from id: inout UInt64) {
        for name in names {
            d.request([("method", name)], id: id)
            id += 1
            d.answer(d.sent.count - 1)
        }
    }

    static func count(_ method: String, in d: TestDriver) -> Int? {
        d.core.routeStats.first?.methods.first { $0.name == method }?.stats.total
    }

    @Test func madeUpNamesFillHalfTheTableAndARecurringMethodStillGetsItsOwnSeries() throws {
        let d = try TestDriver.make(Configs.single())
        var id: UInt64 = 1
        // Below half the table, a name has its series from the first call.
        Self.calls(["sayHello"], on: d, from: &id)
        #expect(Self.count("sayHello", in: d) == 1)

        Self.calls((0..<5000).map { "junk\($0)" }, on: d, from: &id)
        let stats = try #require(d.core.routeStats.first)
        #expect(stats.learnedMethods == RouteStats.openAdmission)
        #expect(Self.count(RouteStats.otherMethod, in: d) == 5001 - RouteStats.openAdmission)

        // A new method that recurs is learned on its second call; the first counts as other.
        Self.calls(Array(repeating: "sayBye", count: 3), on: d, from: &id)
        #expect(Self.count("sayBye", in: d) == 2)
        #expect(Self.count("sayHello", in: d) == 1)
        // Junk seen once stays out, however much of it comes after.
        Self.calls((5000..<6000).map { "junk\($0)" }, on: d, from: &id)
        #expect(stats.learnedMethods == RouteStats.openAdmission + 1)
        #expect(d.core.prometheusText().split(separator: "\n").filter { $0.hasPrefix("mplab_method_requests_total{") }.count == RouteStats.openAdmission + 2)
    }

    @Test func namesThatRecurFillTheTableToItsCapAndNoFurther() throws {
        let d = try TestDriver.make(Configs.single())
        var id: UInt64 = 1
        let names = (0..<400).map { "m\($0)" }
        Self.calls(names + names, on: d, from: &id)
        let stats = try #require(d.core.routeStats.first)
        #expect(stats.learnedMethods == RouteStats.maxMethods)
        #expect(stats.methods.count == RouteStats.maxMethods + 1)  // and other
        #expect(Self.count("m0", in: d) == 2)
        #expect(Self.count(RouteStats.otherMethod, in: d) == 800 - (RouteStats.openAdmission * 2 + (RouteStats.maxMethods - RouteStats.openAdmission)))
    }

    @Test func aLongNameNeverGetsASeries() throws {
        let d = try TestDriver.make(Configs.single())
        var id: UInt64 = 1
        let long = String(repeating: "x", count: RouteStats.maxMethodNameBytes + 1)
        let longest = String(repeating: "y", count: RouteStats.maxMethodNameBytes)
        Self.calls([long, long, long, longest], on: d, from: &id)
        #expect(Self.count(long, in: d) == nil)
        #expect(Self.count(RouteStats.otherMethod, in: d) == 3)
        #expect(Self.count(longest, in: d) == 1)
        #expect(!d.core.prometheusText().contains(long))
    }
}
