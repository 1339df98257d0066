import Foundation
import LoadGenerator
import Results
import Testing

/// `mplab overhead` against real child processes: a proxy slowed by a fixed 1 ms on every call
/// shows that millisecond in what it adds.
@Suite("Load generator: what the proxy adds", .serialized)
struct OverheadTests {
    /// The mplab built beside this test bundle.
    static let mplab = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "mplab").path

    @Test(.enabled(if: isOptimizedBuild)) func aProxySlowedByAMillisecondAddsAMillisecond() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.mplab), "no mplab at \(Self.mplab)")
        // A plain proxy and one that holds every call for 1 ms, in interleaved rounds: the second
        // adds the millisecond over the first. (Optimized builds only: a debug proxy's own cost
        // swings by milliseconds when the rest of the suite runs beside it.)
        let plan = OverheadPlan(mplab: Self.mplab, protocolName: "livepacket", sizes: [64], rounds: 6, roundDuration: .seconds(1), rate: 200,
                                connections: 2, depth: 8, haproxy: false, saturation: .zero, proxyDelay: .milliseconds(1), pin: false)
        let report = try await OverheadRun.run(plan)
        let row = report.rows[0]
        #expect(row.failures(.proxy) == 0 && row.failures(.delayedProxy) == 0 && row.answered(.delayedProxy) == 6 * 160)
        let delay = try #require(row.difference(.delayedProxy, over: .proxy, percentile: 0))
        // The held millisecond is a floor: the delayed proxy's fastest call is at least that much
        // slower than the fastest call straight to the server, which skips the proxy altogether
        // (the proxy's own hops are the margin). The difference of the two proxies' fastest
        // calls is no floor — noise that slows the plain proxy's fastest call shrinks it, and in
        // a fresh-clone run beside the suite it came to 0.945 ms — but it bounds the delay from
        // above: within a quarter of a millisecond of wake-up.
        let delayedFastest = Double(try #require(row.latency(.delayedProxy)).minimum)
        let overDirect = delayedFastest - Double(try #require(row.latency(.direct)).minimum)
        let fastest = delayedFastest - Double(try #require(row.latency(.proxy)).minimum)
        #expect(overDirect > 1e6, "the delayed proxy's fastest call over the direct path's: \(overDirect / 1e6) ms")
        #expect(fastest < 1.25e6, "between the fastest calls: \(fastest / 1e6) ms")
        #expect(delay.value > 0.9e6 && delay.value < 3e6, "between the medians: \(delay.value / 1e6) ms [\(delay.low / 1e6), \(delay.high / 1e6)]")
        print("a 1 ms delay showed as \(overDirect / 1e6) ms over the direct path's fastest call, \(fastest / 1e6) ms between the fastest calls, \(delay.value / 1e6) ms [\(delay.low / 1e6), \(delay.high / 1e6)] between the medians; the plain proxy added \(row.added(.proxy, percentile: 0)!.value / 1e6) ms")
    }
}

/// Whether the tests were built with optimizations.
let isOptimizedBuild: Bool = {
    #if DEBUG
    return false
    #else
    return true
    #endif
}()
