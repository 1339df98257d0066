import MetaProtocol

/// The codecs this package ships, by protocol name. A new protocol adds its folder and one line
/// here; nothing else in the proxy changes.
public enum CodecRegistry {
    /// Every codec type, in the order tools list them.
    public static let codecTypes: [any MetaCodec.Type] = [
        DubboCodec.self,
        ThriftCodec.self,
        LivePacketCodec.self,
    ]

    /// The protocol names configurations may use.
    public static var protocolNames: [String] { codecTypes.map { $0.protocolName } }

    /// A fresh codec (for one connection) for `protocolName`, or nil when no codec has that name.
    public static func makeCodec(named protocolName: String) -> (any MetaCodec)? {
        codecTypes.first { $0.protocolName == protocolName }.map { $0.init() }
    }
}
