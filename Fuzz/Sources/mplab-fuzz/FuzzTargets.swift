import Foundation
import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import Workload

/// What one fuzz input exercises. Each target feeds the bytes to one reader of untrusted input
/// the way the proxy or `mplab` does, and checks the one thing that must hold whatever the bytes:
/// it returns or refuses (with an error naming where), never traps, never loops.
enum FuzzTarget: String, CaseIterable {
    case dubbo, thrift, livepacket, manifest, workload

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .dubbo, .thrift, .livepacket: Self.decodeStream(bytes, codec: CodecRegistry.makeCodec(named: rawValue)!)
        case .manifest: Self.loadManifests(String(decoding: bytes, as: UTF8.self))
        case .workload: Self.readWorkload(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The bytes as a connection would bring them, cut where the first byte says: whole frames,
    /// heads of long frames (cut-through), re-encoding each message with a mutation as the proxy
    /// forwards it, and a local reply to each request.
    static func decodeStream(_ bytes: UnsafeRawBufferPointer, codec prototype: any MetaCodec) {
        guard let first = bytes.first else { return }
        var codec = prototype
        let cut = Int(first) % 7 + 1
        var pending = ByteBuffer()
        var offset = 1
        let mutation: Mutation = ["x-fuzz": "1"]
        while offset < bytes.count {
            let end = min(bytes.count, offset + max(1, (bytes.count - 1) / cut))
            pending.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            offset = end
            do {
                while let message = try codec.decode(&pending) ?? codec.decodeHead(&pending, minimumLength: 64) {
                    let before = pending.readableBytes
                    if let rest = message.cutThrough?.pendingBytes, rest > 0 {
                        // The rest of a frame cut through is forwarded as it comes, not decoded.
                        pending.moveReaderIndex(forwardBy: min(rest, pending.readableBytes))
                        continue
                    }
                    _ = try? codec.encode(message, mutation: mutation)
                    if message.type == .request { _ = try? codec.encodeLocalReply(LocalReplyError(.routeNotFound, message: "fuzz"), to: message) }
                    precondition(pending.readableBytes <= before, "decoding grew its input")
                }
            } catch {
                return  // refused: the proxy closes the connection here
            }
        }
    }

    static func loadManifests(_ text: String) {
        guard let loaded = try? ConfigurationLoader.load([("fuzz.yaml", text)]) else { return }
        for type in CodecRegistry.codecTypes { _ = try? loaded.compile(capabilities: type.capabilities) }
    }

    static func readWorkload(_ text: String) {
        _ = try? WorkloadReader.read(text: text, file: "fuzz.yaml", directory: "/nonexistent")
    }
}
