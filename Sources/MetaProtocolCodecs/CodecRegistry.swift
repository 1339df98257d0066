import MetaProtocol

/// The codecs this package ships, and their frame synthesizers, by protocol name. A new protocol
/// adds its folder and a line to each list here; nothing else in the proxy changes.
public enum CodecRegistry {
    /// Every codec type, in the order tools list them.
    public static let codecTypes: [any MetaCodec.Type] = [
        DubboCodec.self,
        ThriftCodec.self,
        LivePacketCodec.self,
    ]

    /// The protocol names configurations may use.
    public static var protocolNames: [String] { codecTypes.map { $0.protocolName } }

    /// The synthesizer writing `protocolName`'s frames from scratch, or nil when there is none.
    /// Thrift's is strict binary on the framed transport; build a ``ThriftSynthesizer`` for
    /// another framing.
    public static func makeSynthesizer(named protocolName: String) -> (any FrameSynthesizer)? {
        switch protocolName {
        case DubboSynthesizer.protocolName: DubboSynthesizer()
        case ThriftSynthesizer.protocolName: ThriftSynthesizer()
        case LivePacketSynthesizer.protocolName: LivePacketSynthesizer()
        default: nil
        }
    }

    /// A fresh codec (for one connection) for `protocolName`, or nil when no codec has that name.
    public static func makeCodec(named protocolName: String) -> (any MetaCodec)? {
        codecTypes.first { $0.protocolName == protocolName }.map { $0.init() }
    }
}
