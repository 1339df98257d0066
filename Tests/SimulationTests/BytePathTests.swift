import MetaProtocol
import TrafficModel
import MetaProtocolCodecs
import Testing

@testable import Simulation

/// Runs on the byte path — every hop a real frame, written by a synthesizer or the proxy's
/// codec and read by a codec — against the same runs with messages as values.
@Suite("Simulation: the byte path")
struct BytePathTests {
    /// Three hosts with errors behind a local limit, constant latencies, no bandwidth model: the
    /// bytes change nothing but the bytes.
    static func scenario(seed: UInt64 = 3) -> SimulationConfiguration {
        var c = Scenarios.simple(seed: seed, hosts: 3, behaviour: HostBehaviour(workers: 2, serviceTime: .exponential(mean: 0.004), errors: [.serverError(0.1)]),
                                 rate: 400, duration: .seconds(5))
        c.network = NetworkModel(clientToProxy: LinkModel(latency: .constant(0.0002)), proxyToHost: LinkModel(latency: .constant(0.0003)))
        c.proxy.localRateLimit = LocalRateLimitConfiguration(tokenBucket: TokenBucketSpec(maxTokens: 300, tokensPerFill: 300, fillInterval: .seconds(1)))
        c.clients[0].mix = [CallTemplate(weight: 3, attributes: [KeyValue("method", "153.2"), KeyValue("uid", "7")]),
                            CallTemplate(weight: 1, attributes: [KeyValue("method", "153.9")], oneway: true)]
        return c
    }

    @Test(arguments: ["dubbo", "livepacket"])
    func framesChangeNothingButTheBytes(protocolName: String) throws {
        let values = try Simulation.run(Self.scenario())
        var config = Self.scenario()
        config.bytePath = BytePath(codec: { CodecRegistry.makeCodec(named: protocolName)! }, synthesizer: CodecRegistry.makeSynthesizer(named: protocolName)!)
        let frames = try Simulation.run(config)
        #expect(values.violations == [] && frames.violations == [])
        #expect(frames.calls == values.calls, "the same calls, answers, errors and over-limit replies")
        #expect(frames.calls.localReplies(.overLimit) > 0 && frames.calls.serverError > 0 && frames.calls.oneway > 0)
        #expect(frames.latency == values.latency)
        #expect(frames.traceHash == values.traceHash, "the same events at the same times")
        #expect(frames.proxy.unknownResponses == 0, "hosts do not answer oneway calls")
        // Headers and framing are on the wire now.
        #expect(frames.wireBytes.clientsToProxies > values.wireBytes.clientsToProxies + 24 * frames.calls.sent)
        #expect(frames.wireBytes.proxiesToClients > values.wireBytes.proxiesToClients)
    }

    @Test func mutationsAndRenumberedIdsTravelInTheFrames() throws {
        var config = Self.scenario()
        config.proxy.localRateLimit = nil
        config.proxy.routes[0].requestMutation = [KeyValue("x-env", "canary")]
        config.bytePath = BytePath(codec: { LivePacketCodec() }, synthesizer: LivePacketSynthesizer())
        let r = try Simulation.run(config)
        #expect(r.violations == [])
        // Each call gains one entry on its way to the host: 1 + 5 + 2 + 6 bytes.
        #expect(r.wireBytes.proxiesToHosts - r.wireBytes.clientsToProxies == 14 * r.calls.sent)
    }

    @Test(arguments: [ThriftFraming(framed: true, compact: false), ThriftFraming(framed: false, compact: true)])
    func thriftWithItsThirtyTwoBitIds(framing: ThriftFraming) throws {
        var config = Self.scenario()
        config.clients[0].mix = [CallTemplate(attributes: [KeyValue("method", "blob")])]
        config.bytePath = BytePath(codec: { ThriftCodec() }, synthesizer: ThriftSynthesizer(framing: framing))
        let r = try Simulation.run(config)
        #expect(r.violations == [])
        #expect(r.calls.answered == r.calls.sent && r.calls.success > 0 && r.calls.serverError > 0)
    }

    @Test func payloadSizesBecomeFrameSizesOnTheWire() throws {
        // 120 KB calls at 1 Gbit/s: the frame, header and all, is what the link carries.
        var config = Self.scenario()
        config.proxy.localRateLimit = nil
        config.clients[0].mix = [CallTemplate(attributes: [KeyValue("method", "1.1")])]
        config.clients[0].payloadSize = .constant(122_880)
        let link = LinkModel(latency: .constant(0.0002), bandwidth: 125_000_000)
        config.network = NetworkModel(clientToProxy: link, proxyToHost: link)
        config.bytePath = BytePath(codec: { LivePacketCodec() }, synthesizer: LivePacketSynthesizer())
        let r = try Simulation.run(config)
        #expect(r.violations == [])
        #expect(r.wireBytes.clientsToProxies == r.calls.sent * (122_880 + 24))
        // Successful answers echo the payload (errors carry none).
        #expect(Double(r.successLatency.valueAtPercentile(1)) / 1e9 > 4 * 122_880 / 125e6, "four hops of 120 KB at 1 Gbit/s")
    }

    @Test func faultsLeaveNoFrameBehind() throws {
        // Crashes drop queued calls, partitions lose frames both ways: every frame held for a
        // call must be let go (a leftover is an invariant violation).
        var base = Self.scenario()
        base.proxy.routes[0].retry = RetryPolicy(numRetries: 2, retryOn: .default.union(.perTryTimeout), perTryTimeout: .milliseconds(50))
        base.proxy.routes[0].timeout = .milliseconds(300)
        base.bytePath = BytePath(codec: { DubboCodec() }, synthesizer: DubboSynthesizer())
        let report = try FaultCampaign(base: base, runs: 6, faultsPerRun: 3...5, kinds: [.crash, .partition, .errorBurst]).run()
        #expect(report.violations == [], "\(report.violations.prefix(3))")
        #expect(report.runs(firing: "per-try timeout") > 0 && report.runs(firing: "reset") + report.runs(firing: "connect failure") > 0)
    }
}
