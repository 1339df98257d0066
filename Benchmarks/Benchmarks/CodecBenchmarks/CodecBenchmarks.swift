import Benchmark
import MetaProtocol
import MetaProtocolCodecs
import NIOCore

/// Decode + renumber + encode of one frame, per codec and payload size: what the proxy does to
/// every request it forwards unchanged. Throughput is frames per second on one core; the malloc
/// metrics are per frame (scaled iterations).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .mallocBytesCount, .instructions],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    for (sizeName, size) in Frames.payloadSizes {
        register("Dubbo request \(sizeName)", frame: Frames.dubboRequest(payload: size), codec: DubboCodec())
        register("Thrift framed binary \(sizeName)", frame: Frames.thriftCall(payload: size, framed: true, compact: false), codec: ThriftCodec())
        register("Thrift unframed compact \(sizeName)", frame: Frames.thriftCall(payload: size, framed: false, compact: true), codec: ThriftCodec())
        register("LivePacket request \(sizeName)", frame: Frames.livePacketRequest(payload: size), codec: LivePacketCodec())
    }
}

/// One benchmark on the proxy's own path: each scaled iteration decodes `frame` with the codec
/// held as the proxy's frame reader holds it (`any MetaCodec`, so not specialized), gives the
/// message a new request id as the core does for a multiplexed upstream connection, and encodes
/// it into reusable scratch buffers as the runtime does.
private func register(_ name: String, frame: ByteBuffer, codec: any MetaCodec) {
    // Fail loudly rather than benchmark a frame that does not decode.
    var check = codec
    var probe = frame
    guard (try? check.decode(&probe)) != nil, probe.readableBytes == 0 else {
        fatalError("benchmark frame for \(name) does not decode")
    }
    Benchmark("\(name) decode+renumber+encode") { benchmark in
        var c = codec
        var scratch = ScratchSpace()
        var id: UInt64 = 1
        for _ in benchmark.scaledIterations {
            var input = frame
            var message = try c.decode(&input)!
            id &+= 1
            message.requestID = id & 0x7fff_ffff
            blackHole(try c.encode(message, mutation: Mutation(), scratch: &scratch))
        }
    }
}
