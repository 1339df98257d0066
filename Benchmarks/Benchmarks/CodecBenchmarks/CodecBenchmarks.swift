import Benchmark
import MetaProtocol
import MetaProtocolCodecs
import NIOCore

/// Decode + pass-through encode of one frame, per codec and payload size: what the proxy does
/// to every request it forwards unchanged. Throughput is frames per second on one core; the
/// malloc metrics are per frame (scaled iterations).
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

/// One benchmark: each scaled iteration decodes `frame` with a fresh codec (as a new connection
/// would) and encodes the message back unmutated.
private func register<C: MetaCodec>(_ name: String, frame: ByteBuffer, codec: C) {
    // Fail loudly rather than benchmark a frame that does not decode.
    var check = codec
    var probe = frame
    guard (try? check.decode(&probe)) != nil, probe.readableBytes == 0 else {
        fatalError("benchmark frame for \(name) does not decode")
    }
    Benchmark("\(name) decode+encode") { benchmark in
        for _ in benchmark.scaledIterations {
            var c = codec
            var input = frame
            let message = try c.decode(&input)!
            blackHole(try c.encode(message))
        }
    }
}
