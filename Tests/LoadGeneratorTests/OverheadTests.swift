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
        // A plain proxy and one that holds every call for 1 ms, in interleaved rounds: what the
        // second adds over the first is the millisecond, within what a busy machine moves a
        // median of 960 calls by. (Optimized builds only: a debug proxy's own cost swings by
        // milliseconds when the rest of the suite runs beside it.)
        let plan = OverheadPlan(mplab: Self.mplab, protocolName: "livepacket", sizes: [64], rounds: 6, roundDuration: .seconds(1), rate: 200,
                                connections: 2, depth: 8, haproxy: false, saturation: .zero, proxyDelay: .milliseconds(1), pin: false)
        let report = try await OverheadRun.run(plan)
        let row = report.rows[0]
        #expect(row.failures(.proxy) == 0 && row.failures(.delayedProxy) == 0 && row.answered(.delayedProxy) == 6 * 160)
        let delay = try #require(row.difference(.delayedProxy, over: .proxy, percentile: 0))
        #expect(delay.value > 0.85e6 && delay.value < 1.3e6, "the 1 ms delay showed as \(delay.value / 1e6) ms [\(delay.low / 1e6), \(delay.high / 1e6)]")
        #expect(try #require(row.added(.delayedProxy, percentile: 0)).low > 0.9e6)
        print("a 1 ms delay showed as \(delay.value / 1e6) ms [\(delay.low / 1e6), \(delay.high / 1e6)] over the plain proxy, which added \(row.added(.proxy, percentile: 0)!.value / 1e6) ms")
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
