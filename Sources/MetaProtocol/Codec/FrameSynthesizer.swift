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

    /// The answer to `request` (as a codec decoded it) with `status` — written the protocol's
    /// native way, an error status as the protocol's own error reply — and, on success, a
    /// payload of `payloadSize` bytes.
    func response(to request: Message, status: ResponseStatus, payloadSize: Int) throws(CodecError) -> ByteBuffer
}
