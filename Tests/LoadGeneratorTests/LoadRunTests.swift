import Foundation
import LoadGenerator
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import NIOPosix
import Results
import Testing
import TrafficModel

/// The load generator against synthetic servers on loopback: pacing, scoring, merging.
@Suite("Load generator", .serialized)
struct LoadRunTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let call = [CallTemplate(attributes: [KeyValue("method", "1.1")])]

    static func plan(_ server: SyntheticServer, pacing: LoadPlan.Pacing, seconds: Double, warmUp: Double = 0, workers: Int = 1, connections: Int = 2,
                     timeout: Duration = .seconds(30)) -> LoadPlan {
        LoadPlan(port: server.addresses[0].port!, protocolName: "livepacket", pacing: pacing, connections: connections, depth: 64, workers: workers,
                 duration: .seconds(seconds), warmUp: .seconds(warmUp), requestTimeout: timeout, mix: call, payloadSize: .constant(64))
    }

    @Test(arguments: [1, 2])
    func aConstantRateIsSentAsScheduledAndEveryCallScored(workers: Int) async throws {
        // 2000 calls a second for 3 s, the first half second not measured: 5000 measured calls,
        // each sent (late if it must, never skipped) and answered.
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Self.group)
        let report = try await LoadRun.run(Self.plan(server, pacing: .openLoop(.constant(rate: 2000)), seconds: 3, warmUp: 0.5, workers: workers))
        await server.stop()
        let f = report.figures
        #expect(abs(f.attempted - 5000) <= 1, "attempted \(f.attempted)")
        #expect(abs(report.achievedRate - 2000) <= 20, "achieved \(report.achievedRate)/s")
        #expect(f.calls.sent == f.attempted && f.calls.answered == f.calls.sent && f.calls.success == f.calls.answered)
        #expect(f.failures == 0 && f.notSent == 0)
        #expect(f.latency.count == UInt64(f.calls.answered) && f.serviceTime.count == f.latency.count && f.scheduleLag.count == UInt64(f.calls.sent))
        // Latency from the intended send is never below the service time from the actual one.
        #expect(f.latency.nanoseconds(atPercentile: 50) >= f.serviceTime.nanoseconds(atPercentile: 50))
        // The workers' figures merge to the whole exactly.
        var merged = LoadFigures()
        for w in report.perWorker { merged.merge(w) }
        #expect(merged == f && report.perWorker.count == workers)
    }

    @Test(arguments: [(true, false), (true, true), (false, false), (false, true)])
    func thriftInEveryFramingIsSentAndScored(framed: Bool, compact: Bool) async throws {
        // The synthetic server answers in each call's own transport and protocol.
        let server = try await SyntheticServer.start(protocolName: "thrift", ports: [0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0), errors: [.serverError(0.2)]),
                                                     group: Self.group)
        var plan = Self.plan(server, pacing: .openLoop(.constant(rate: 500)), seconds: 1)
        plan.protocolName = "thrift"
        plan.mix = [CallTemplate(attributes: [KeyValue("method", "ping")])]
        let report = try await LoadRun.run(plan, synthesizer: ThriftSynthesizer(framing: ThriftFraming(framed: framed, compact: compact)))
        await server.stop()
        let c = report.figures.calls
        #expect(c.answered == 500 && c.success + c.serverError == 500 && c.serverError > 50, "\(c)")
        #expect(report.figures.protocolErrors == 0 && report.figures.unmatched == 0)
    }

    @Test func poissonArrivalsKeepTheirRate() async throws {
        // 5000 a second for 4 s: 20,000 ± 4·141 calls.
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Self.group)
        let report = try await LoadRun.run(Self.plan(server, pacing: .openLoop(.poisson(rate: 5000)), seconds: 4, workers: 2, connections: 4))
        await server.stop()
        #expect(abs(report.figures.attempted - 20_000) < 570, "\(report.figures.attempted)")
        #expect(report.figures.calls.answered == report.figures.attempted && report.figures.failures == 0)
    }

    @Test func errorStatusesAreScoredFromTheAnswersOwnBytes() async throws {
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0],
                                                     behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0), errors: [.serverError(0.3), ErrorRate(.applicationError, 0.1)]),
                                                     group: Self.group)
        let report = try await LoadRun.run(Self.plan(server, pacing: .openLoop(.constant(rate: 1000)), seconds: 2))
        let served = await server.counters()[0]
        await server.stop()
        let c = report.figures.calls
        #expect(c.answered == 2000 && c.serverError + c.applicationError == served.errors)
        #expect(c.serverError > 450 && c.applicationError > 120 && c.success == c.answered - c.serverError - c.applicationError)
    }

    @Test func callsWithoutAnAnswerTimeOutAndTheRunEnds() async throws {
        // A server that holds every call for an hour: all 100 calls time out after 300 ms.
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(3600)),
                                                     group: Self.group)
        let report = try await LoadRun.run(Self.plan(server, pacing: .openLoop(.constant(rate: 200)), seconds: 0.5, timeout: .milliseconds(300)))
        await server.stop()
        #expect(report.figures.timeouts == 100 && report.figures.calls.answered == 0 && report.figures.failures == 100)
    }

    @Test func answersToNoCallInFlightAreCountedAsUnmatched() async throws {
        // A server that answers every call under another id.
        let server = try await MisnumberingServer.start(group: Self.group)
        let plan = LoadPlan(port: server.localAddress!.port!, protocolName: "livepacket", pacing: .openLoop(.constant(rate: 200)), connections: 1,
                            duration: .milliseconds(500), requestTimeout: .milliseconds(300), mix: Self.call, payloadSize: .constant(8))
        let report = try await LoadRun.run(plan)
        try await server.close()
        #expect(report.figures.unmatched == 100 && report.figures.timeouts == 100 && report.figures.calls.answered == 0)
    }

    @Test func theClosedLoopKeepsItsDepthInFlight() async throws {
        // Two connections of depth 4 against 2 ms calls: never more than 8 in service, and
        // about 8 / 2 ms = 4000 calls a second.
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0.002)),
                                                     group: Self.group)
        var plan = Self.plan(server, pacing: .closedLoop, seconds: 2)
        plan.depth = 4
        let report = try await LoadRun.run(plan)
        let served = await server.counters()[0]
        await server.stop()
        #expect(served.peakConcurrency <= 8 && served.peakConcurrency >= 7)
        #expect(report.figures.calls.answered > 1000 && report.figures.failures == 0)
        #expect(report.figures.serviceTime.nanoseconds(atPercentile: 50) >= 2_000_000)
    }

    @Test func theReportIsAVersionedResult() async throws {
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Self.group)
        let report = try await LoadRun.run(Self.plan(server, pacing: .openLoop(.poisson(rate: 500)), seconds: 1))
        await server.stop()
        let run = report.runResult(provenance: .current(seed: 1))
        let back = try RunResult.decode(try run.encoded())
        #expect(back == run)
        #expect(back.latencies.map(\.name) == ["latency", "service time", "schedule lag"])
        #expect(back.latency("latency")!.samples == UInt64(report.figures.calls.answered))
        #expect(back.load!.target == "127.0.0.1:\(server.addresses[0].port!)" && back.load!.achievedRate == report.achievedRate)
        #expect(back.counters("load generator")!["attempted"] == report.figures.attempted)
    }

    @Test func threeShardsMergedAreTheWholeLoad() async throws {
        // One run at 3000/s, and three shards of it run at once: their schedules interleave into
        // the same 3000/s, so the merged attempted and answered counts equal the whole run's,
        // and the merged histogram is the sum of the three.
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Self.group)
        let whole = Self.plan(server, pacing: .openLoop(.constant(rate: 3000)), seconds: 2, warmUp: 0.5, connections: 3)
        let one = try await LoadRun.run(whole)
        let shards = try await withThrowingTaskGroup(of: LoadReport.self) { tasks in
            for i in 0..<3 {
                var plan = whole
                plan.shard = LoadPlan.Shard(index: i, count: 3)
                plan.connections = 1
                tasks.addTask { try await LoadRun.run(plan) }
            }
            var all: [LoadReport] = []
            for try await r in tasks { all.append(r) }
            return all
        }
        await server.stop()
        let provenance = Provenance.current(seed: 1)
        let merged = try RunResult.merging(shards.map { $0.runResult(provenance: provenance) }, commandLine: ["mplab", "merge"])
        #expect(one.figures.attempted == 4500 && shards.map(\.figures.attempted).reduce(0, +) == 4500)
        #expect(merged.counters("load generator")!["attempted"] == 4500 && merged.calls.answered == one.figures.calls.answered)
        var sum = LatencyDistribution()
        for r in shards { sum.merge(r.figures.latency) }
        #expect(merged.latency("latency")!.distribution == sum && merged.latency("latency")!.samples == 4500)
        #expect(abs(merged.load!.attemptedRate - 3000) < 1 && merged.load!.connections == 3)
    }

    @Test func aRequestLimitEndsTheRunWhenItsCallsAreAnswered() async throws {
        // 1000 calls at most: an open loop at 2000/s for a minute stops at them, and so does a
        // closed loop, on two workers.
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: .instant, group: Self.group)
        var open = Self.plan(server, pacing: .openLoop(.constant(rate: 2000)), seconds: 60, workers: 2)
        open.requestLimit = 1000
        let a = try await LoadRun.run(open)
        var closed = Self.plan(server, pacing: .closedLoop, seconds: 60, workers: 2)
        closed.requestLimit = 1000
        let b = try await LoadRun.run(closed)
        await server.stop()
        #expect(a.figures.calls.sent == 1000 && a.figures.calls.answered == 1000 && a.elapsed < .seconds(30))
        #expect(abs(a.achievedRate - 2000) < 20, "the rate over the calls' own half second: \(a.achievedRate)")
        #expect(b.figures.calls.sent == 1000 && b.figures.calls.answered == 1000 && b.elapsed < .seconds(30))
    }

    @Test func aPlanThatCannotRunIsRefused() async throws {
        await #expect(throws: LoadRun.Failure.badPlan("connections (1) must be at least the workers (2): each worker has its own")) {
            try await LoadRun.run(LoadPlan(port: 1, protocolName: "livepacket", pacing: .closedLoop, connections: 1, workers: 2, duration: .seconds(1)))
        }
        await #expect(throws: LoadRun.Failure.self) {
            try await LoadRun.run(LoadPlan(port: 1, protocolName: "nonsense", pacing: .closedLoop, duration: .seconds(1)))
        }
    }
}

/// A LivePacket server that answers every call, but under its id plus a million.
enum MisnumberingServer {
    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var codec = LivePacketCodec()
        var buffer = ByteBuffer()
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffer.writeBuffer(&bytes)
            while let call = try? codec.decode(&buffer) {
                var wrong = call
                wrong.requestID = call.requestID + 1_000_000
                if let answer = try? LivePacketSynthesizer().response(to: wrong, status: ResponseStatus(category: .success, code: 0), payloadSize: 1) {
                    context.writeAndFlush(NIOAny(answer), promise: nil)
                }
            }
        }
    }

    static func start(group: EventLoopGroup) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler()) } }
            .bind(host: "127.0.0.1", port: 0).get()
    }
}
