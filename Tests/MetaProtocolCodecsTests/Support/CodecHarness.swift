import MetaProtocol
import NIOCore
import Testing

/// Bytes from a hex string; whitespace and `|` separators are ignored, `#` starts a comment
/// that runs to the end of the line. Fixtures are written this way so that each field sits on
/// its own line with its meaning next to it.
func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let digits = data.filter { $0.isHexDigit }
        precondition(digits.count % 2 == 0, "odd hex digits in fixture line: \(line)")
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 2)
            bytes.append(UInt8(digits[i..<j], radix: 16)!)
            i = j
        }
    }
    return bytes
}

/// The bytes of a string, for fixtures that spell text.
func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Decodes every frame in `bytes` in one buffer; fails if bytes are left over.
func decodeAll<C: MetaCodec>(_ codec: C, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [Message] {
    var codec = codec
    var buffer = ByteBuffer(bytes: bytes)
    var messages: [Message] = []
    while let m = try codec.decode(&buffer) { messages.append(m) }
    #expect(buffer.readableBytes == 0, "bytes left over after decoding", sourceLocation: sourceLocation)
    return messages
}

/// Decodes `bytes` arriving one byte at a time, as a slow connection would deliver them.
/// Asserts that the decoder never consumes bytes without returning a frame.
func decodeByteByByte<C: MetaCodec>(_ codec: C, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [Message] {
    var codec = codec
    var buffer = ByteBuffer()
    var messages: [Message] = []
    for b in bytes {
        buffer.writeInteger(b)
        while true {
            let before = buffer.readerIndex
            guard let m = try codec.decode(&buffer) else {
                #expect(buffer.readerIndex == before, "decode consumed bytes but returned no frame", sourceLocation: sourceLocation)
                break
            }
            messages.append(m)
        }
    }
    #expect(buffer.readableBytes == 0, sourceLocation: sourceLocation)
    return messages
}

/// The `CodecError` decoding `bytes` throws; records a failure if it decodes instead.
func decodeError<C: MetaCodec>(_ codec: C, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> CodecError? {
    var codec = codec
    var buffer = ByteBuffer(bytes: bytes)
    do {
        while try codec.decode(&buffer) != nil {}
        Issue.record("expected a CodecError, but the bytes decoded (\(buffer.readableBytes) bytes left waiting)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Whether an encoded frame is the received frame itself: no new bytes, the same memory.
func isPassThrough(_ encoded: EncodedFrame, of frame: ByteBuffer) -> Bool {
    encoded.head == nil && sharesStorage(encoded.rest, frame)
}

/// Whether two buffers show the same memory.
func sharesStorage(_ a: ByteBuffer, _ b: ByteBuffer) -> Bool {
    a.readableBytes == b.readableBytes
        && a.withUnsafeReadableBytes { pa in b.withUnsafeReadableBytes { pb in pa.baseAddress == pb.baseAddress } }
}

/// A small seeded generator (SplitMix64) so randomized tests are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Feeds corrupted variants of valid streams to a codec: every outcome must be frames, a
/// request for more bytes, or a `CodecError` — never a crash or a hang. Returns how many
/// variants ended in each outcome, so a test can check that the corruption was exercised.
func fuzz<C: MetaCodec>(_ make: () -> C, streams: [[UInt8]], iterations: Int, seed: UInt64) -> (decoded: Int, waiting: Int, errors: Int) {
    var rng = SeededGenerator(seed: seed)
    var outcome = (decoded: 0, waiting: 0, errors: 0)
    for _ in 0..<iterations {
        var bytes = streams[Int.random(in: 0..<streams.count, using: &rng)]
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:  // flip a few bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        case 1:  // cut short
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
        case 2:  // insert random bytes
            let at = Int.random(in: 0...bytes.count, using: &rng)
            bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
        default:  // overwrite a run with a "boundary" value
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            let v: UInt8 = [0x00, 0x7f, 0x80, 0xff][Int.random(in: 0..<4, using: &rng)]
            for i in at..<min(bytes.count, at + Int.random(in: 1...6, using: &rng)) { bytes[i] = v }
        }
        var codec = make()
        var buffer = ByteBuffer(bytes: bytes)
        do {
            var frames = 0
            while try codec.decode(&buffer) != nil { frames += 1 }
            if buffer.readableBytes == 0 { outcome.decoded += 1 } else { outcome.waiting += 1 }
        } catch {
            outcome.errors += 1
        }
    }
    return outcome
}
