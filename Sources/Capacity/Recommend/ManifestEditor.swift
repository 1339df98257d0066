import Foundation
import MetaProtocol
import Results
import Yams

/// Edits the `localRateLimit` of a workload's manifests and writes them back as YAML: the
/// first MetaRouter (or MetaProxyLab ProxyConfig) gets the new block, every other document and
/// field stays as written, so the result loads in `mplab proxy` as it is.
public enum ManifestEditor {
    public enum EditError: Error, CustomStringConvertible {
        case noRouter
        case notYAML(String)
        public var description: String {
            switch self {
            case .noRouter: "the workload's manifests have no MetaRouter or ProxyConfig to put a localRateLimit in"
            case .notYAML(let why): "the manifests are not valid YAML: \(why)"
            }
        }
    }

    /// The documents of `yaml` with the router's `spec.localRateLimit` replaced by `limit`
    /// (removed when nil), and the edited router document alone.
    public static func setLocalRateLimit(_ limit: LocalRateLimitConfiguration?, in yaml: String) throws -> (all: String, router: String) {
        var documents: [Node]
        do {
            documents = Array(try Yams.compose_all(yaml: yaml))
        } catch {
            throw EditError.notYAML("\(error)")
        }
        guard let index = documents.firstIndex(where: { ["MetaRouter", "ProxyConfig"].contains($0["kind"]?.string ?? "") }),
              var root = documents[index].mapping, var spec = root["spec"]?.mapping else { throw EditError.noRouter }
        spec["localRateLimit"] = nil
        if let limit { spec["localRateLimit"] = node(limit) }
        root["spec"] = .mapping(spec)
        documents[index] = .mapping(root)
        do {
            let all = try documents.map { try Yams.serialize(node: $0) }.joined(separator: "---\n")
            return (all, try Yams.serialize(node: documents[index]))
        } catch {
            throw EditError.notYAML("\(error)")
        }
    }

    /// `localRateLimit` as MetaRouter writes it.
    static func node(_ limit: LocalRateLimitConfiguration) -> Node {
        var pairs: [(Node, Node)] = []
        if let b = limit.tokenBucket { pairs.append(("tokenBucket", bucket(b))) }
        if !limit.conditions.isEmpty {
            let conditions: [Node] = limit.conditions.map { c in
                .mapping(Node.Mapping([("match", match(c.match)), ("tokenBucket", bucket(c.tokenBucket))]))
            }
            pairs.append(("conditions", .sequence(Node.Sequence(conditions))))
        }
        return .mapping(Node.Mapping(pairs))
    }

    static func bucket(_ b: TokenBucketSpec) -> Node {
        .mapping(Node.Mapping([("fillInterval", Node(duration(b.fillInterval))), ("maxTokens", Node(String(b.maxTokens))),
                               ("tokensPerFill", Node(String(b.tokensPerFill)))]))
    }

    /// Exact matches only: the recommendation writes no other kind.
    static func match(_ conditions: [AttributeCondition]) -> Node {
        let attributes: [(Node, Node)] = conditions.compactMap { c in
            guard case .exact(let value) = c.match else { return nil }
            // Quoted: `cmd: { exact: "153" }` is a string to every YAML reader, not a number.
            return (Node(c.attribute), .mapping(Node.Mapping([("exact", Node(value, Tag(.str), .doubleQuoted))])))
        }
        return .mapping(Node.Mapping([("attributes", .mapping(Node.Mapping(attributes)))]))
    }

    /// Go-style: `100ms`, `1s`, `1.5s`.
    static func duration(_ d: Duration) -> String {
        let ms = Double(d.nanoseconds) / 1e6
        if ms < 1000 || ms.truncatingRemainder(dividingBy: 1000) != 0 { return ms == ms.rounded() ? "\(Int(ms))ms" : "\(ms)ms" }
        return "\(Int(ms / 1000))s"
    }
}
