import MetaProtocol

/// Calls by outcome, as clients scored them: the status in each answer's own bytes, or the
/// proxy's local reply and its reason.
public struct CallCounts: Sendable, Hashable {
    public var sent = 0
    public var oneway = 0
    public var answered = 0
    public var success = 0
    public var applicationError = 0
    public var serverError = 0
    public var unavailable = 0
    /// Answered by the proxy itself, by ``LocalReplyError/Kind`` raw value.
    public private(set) var localReplies = [Int](repeating: 0, count: LocalReplyError.Kind.allCases.count)

    public init() {}

    /// Local replies of `kind`.
    public func localReplies(_ kind: LocalReplyError.Kind) -> Int { localReplies[Int(kind.rawValue)] }

    /// Counts one local reply of `kind`.
    public mutating func addLocalReply(_ kind: LocalReplyError.Kind, count: Int = 1) { localReplies[Int(kind.rawValue)] += count }

    /// Counts one answer of `category` (an upstream status the client read).
    public mutating func addAnswer(_ category: ResponseStatus.Category) {
        switch category {
        case .success: success += 1
        case .applicationError: applicationError += 1
        case .serverError: serverError += 1
        case .unavailable: unavailable += 1
        }
    }

    /// Adds another set of counts.
    public mutating func add(_ other: CallCounts) {
        sent += other.sent
        oneway += other.oneway
        answered += other.answered
        success += other.success
        applicationError += other.applicationError
        serverError += other.serverError
        unavailable += other.unavailable
        for i in localReplies.indices { localReplies[i] += other.localReplies[i] }
    }
}

extension CallCounts: Codable {
    private enum CodingKeys: String, CodingKey {
        case sent, oneway, answered, success, applicationError, serverError, unavailable, localReplies
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sent, forKey: .sent)
        try c.encode(oneway, forKey: .oneway)
        try c.encode(answered, forKey: .answered)
        try c.encode(success, forKey: .success)
        try c.encode(applicationError, forKey: .applicationError)
        try c.encode(serverError, forKey: .serverError)
        try c.encode(unavailable, forKey: .unavailable)
        // By reason's name, every reason listed, in the order the core defines them.
        try c.encode(LocalReplyError.Kind.allCases.map { Counter(name: $0.description, value: localReplies($0)) }, forKey: .localReplies)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sent = try c.decode(Int.self, forKey: .sent)
        oneway = try c.decode(Int.self, forKey: .oneway)
        answered = try c.decode(Int.self, forKey: .answered)
        success = try c.decode(Int.self, forKey: .success)
        applicationError = try c.decode(Int.self, forKey: .applicationError)
        serverError = try c.decode(Int.self, forKey: .serverError)
        unavailable = try c.decode(Int.self, forKey: .unavailable)
        for entry in try c.decode([Counter].self, forKey: .localReplies) {
            guard let kind = LocalReplyError.Kind.allCases.first(where: { $0.description == entry.name }) else {
                throw DecodingError.dataCorruptedError(forKey: .localReplies, in: c, debugDescription: "unknown local reply reason \(entry.name)")
            }
            addLocalReply(kind, count: entry.value)
        }
    }
}
