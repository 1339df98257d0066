import NIOCore

/// Builds a protocol's frames from nothing: the calls a load generator or a simulated client
/// sends, and the answers a synthetic server gives. The other half of a codec, which only reads
/// frames and rewrites what it read.
///
/// Frames are what a real peer of the protocol would send; a codec decodes them back to the
/// attributes, ids and statuses they were built from.
public protocol FrameSynthesizer: Sendable {
    /// The protocol it writes (a ``MetaCodec/protocolName``).
    static var protocolName: String { get }

    /// A call numbered `id` carrying `attributes` where the protocol carries them (a method, a
    /// service, headers), with an opaque payload of `payloadSize` bytes.
    ///
    /// - Throws: ``CodecError`` when the protocol cannot carry an attribute as given (a
    ///   non-numeric command, a value too long for its field).
    func request(id: UInt64, attributes: [KeyValue], payloadSize: Int, oneway: Bool) throws(CodecError) -> ByteBuffer

    /// The answer to `request` (as a codec decoded it, its frame included) with `status` —
    /// written the protocol's native way, an error status as the protocol's own error reply —
    /// and, on success, `payload`.
    func response(to request: Message, status: ResponseStatus, payload: ResponsePayload) throws(CodecError) -> ByteBuffer
}

extension FrameSynthesizer {
    /// The answer to `request` with `status` and, on success, `payloadSize` opaque bytes.
    public func response(to request: Message, status: ResponseStatus, payloadSize: Int) throws(CodecError) -> ByteBuffer {
        try response(to: request, status: status, payload: .bytes(payloadSize))
    }
}

/// What a synthesized answer carries as its payload.
public enum ResponsePayload: Sendable, Hashable {
    /// The call's own payload back: the value of its argument where the protocol types it
    /// (a Dubbo `String` is answered with that `String`), else as many opaque bytes.
    case echo
    /// This many opaque bytes (in the call's argument type where the protocol types it).
    case bytes(Int)
}
