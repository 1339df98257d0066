import Foundation
import MetaProtocol
import Yams

/// Reads YAML nodes into values, collecting every problem with its file, line and field path
/// instead of stopping at the first, and remembering where each configuration field came from
/// so that errors found later (validation) point at the right line too.
struct ManifestReader {
    /// The file being read.
    var file: String
    private(set) var errors: [ManifestError] = []
    private(set) var warnings: [String] = []
    /// Configuration path → the file and place it was written.
    private(set) var locations: [String: (file: String, mark: Mark)] = [:]

    init(file: String) { self.file = file }

    /// An error found after reading (by validation), placed where its field was written.
    mutating func fail(at path: String, _ reason: String) {
        let place = location(of: path)
        errors.append(ManifestError(file: place?.file ?? file, line: place?.mark.line, column: place?.mark.column, path: path, reason: reason))
    }

    mutating func fail(_ node: Node?, _ path: String, _ reason: String) {
        errors.append(ManifestError(file: file, line: node?.mark?.line, column: node?.mark?.column, path: path, reason: reason))
    }

    /// An error another reader found.
    mutating func append(_ error: ManifestError) { errors.append(error) }

    mutating func warn(_ node: Node?, _ path: String, _ reason: String) {
        let place = node?.mark.map { "\(file):\($0.line):\($0.column)" } ?? file
        warnings.append("\(place): \(path): \(reason)")
    }

    /// Records that configuration field `path` was written at `node`.
    mutating func locate(_ path: String, _ node: Node) {
        if let mark = node.mark { locations[path] = (file, mark) }
    }

    /// Where `path` (or the nearest field containing it) was written.
    func location(of path: String) -> (file: String, mark: Mark)? {
        var p = path
        while true {
            if let mark = locations[p] { return mark }
            guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            p = String(p[..<cut])
        }
    }

    /// The fields of a mapping, in order. Fields not in `known` are errors, except those in
    /// `ignored`: fields of the upstream API this project accepts but does not act on, which
    /// are reported as warnings.
    mutating func fields(_ node: Node, _ path: String, known: [String], ignored: [String] = []) -> [(key: String, value: Node)] {
        guard let mapping = node.mapping else {
            fail(node, path, "expected a mapping")
            return []
        }
        var result: [(String, Node)] = []
        for (k, v) in mapping {
            guard let key = k.scalar?.string else {
                fail(k, path, "field names must be strings")
                continue
            }
            let fieldPath = path.isEmpty ? key : "\(path).\(key)"
            if known.contains(key) {
                result.append((key, v))
            } else if ignored.contains(key) {
                warn(k, fieldPath, "accepted but not used by MetaProxyLab")
            } else {
                if let guess = Suggestion.closest(to: key, in: known + ignored) {
                    fail(k, fieldPath, "unknown field; did you mean '\(guess)'?")
                } else {
                    fail(k, fieldPath, "unknown field (expected one of: \(known.joined(separator: ", ")))")
                }
            }
        }
        return result
    }

    mutating func string(_ node: Node, _ path: String) -> String? {
        guard let s = node.scalar?.string else {
            fail(node, path, "expected a string")
            return nil
        }
        return s
    }

    mutating func int(_ node: Node, _ path: String) -> Int? {
        guard let s = node.scalar?.string, let v = Int(s) else {
            fail(node, path, "expected an integer, not \(Self.describe(node))")
            return nil
        }
        return v
    }

    mutating func double(_ node: Node, _ path: String) -> Double? {
        guard let s = node.scalar?.string, let v = Double(s) else {
            fail(node, path, "expected a number, not \(Self.describe(node))")
            return nil
        }
        return v
    }

    mutating func bool(_ node: Node, _ path: String) -> Bool? {
        guard let v = node.bool else {
            fail(node, path, "expected true or false, not \(Self.describe(node))")
            return nil
        }
        return v
    }

    /// Go-style durations as Istio writes them: `30s`, `100ms`, `1m30s`, `1.5s`, `2h`.
    mutating func duration(_ node: Node, _ path: String) -> Duration? {
        guard let s = node.scalar?.string, let d = Self.parseDuration(s) else {
            fail(node, path, "expected a duration such as 30s, 100ms or 1m30s, not \(Self.describe(node))")
            return nil
        }
        return d
    }

    mutating func list(_ node: Node, _ path: String) -> [Node] {
        guard let sequence = node.sequence else {
            fail(node, path, "expected a list")
            return []
        }
        return Array(sequence)
    }

    mutating func strings(_ node: Node, _ path: String) -> [String] {
        list(node, path).enumerated().compactMap { string($0.element, "\(path)[\($0.offset)]") }
    }

    /// A mapping of strings to strings (labels), in written order.
    mutating func stringMap(_ node: Node, _ path: String) -> [String: String] {
        guard let mapping = node.mapping else {
            fail(node, path, "expected a mapping")
            return [:]
        }
        var result: [String: String] = [:]
        for (k, v) in mapping {
            guard let key = k.scalar?.string, let value = v.scalar?.string else {
                fail(k, path, "expected string keys and values")
                continue
            }
            result[key] = value
        }
        return result
    }

    static func describe(_ node: Node) -> String {
        if let s = node.scalar?.string { return "\"\(s)\"" }
        if node.mapping != nil { return "a mapping" }
        if node.sequence != nil { return "a list" }
        return "nothing"
    }

    /// Parses `1h2m3.5s`, `250ms`, `10us`, `5ns`.
    static func parseDuration(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return .zero }
        var total: Double = 0
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        // Beyond about 292 years the nanoseconds do not fit.
        guard total.isFinite, total < Double(Int64.max) else { return nil }
        return .nanoseconds(Int64(total.rounded()))
    }
}
