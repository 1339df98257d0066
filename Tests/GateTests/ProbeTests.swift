import Gate
import Testing

@Suite("Gate: hot-path probes")
struct ProbeTests {
    @Test(arguments: HotPathProbe.names)
    func everyProbeRunsInProcess(name: String) throws {
        let probe = try #require(HotPathProbe.named(name))
        var between = 0, after = 0
        probe.run(iterations: 200, warmUp: 20, injection: .init(copyFrames: true, extraWork: 3), between: { between += 1 }, after: { after += 1 })
        #expect(between == 1 && after == 1)
    }
}
