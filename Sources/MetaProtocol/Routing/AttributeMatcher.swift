/// How one attribute must look for a route (or a rate-limit condition) to match: MetaRouter's
/// `StringMatch`, with Envoy's `present` and `invert`.
public enum StringMatch: Sendable, Hashable, CustomStringConvertible {
    case exact(String)
    case prefix(String)
    case suffix(String)
    /// A regular expression that must match the *whole* value (Envoy's `safe_regex`).
    case regex(String)
    /// The attribute exists, whatever its value.
    case present

    public var description: String {
        switch self {
        case .exact(let s): "exact \"\(s)\""
        case .prefix(let s): "prefix \"\(s)\""
        case .suffix(let s): "suffix \"\(s)\""
        case .regex(let s): "regex \"\(s)\""
        case .present: "present"
        }
    }
}

/// A compiled condition on one attribute. Matching compares bytes in place; only a regex needs
/// the value as a `String`.
public struct AttributeMatcher: Sendable {
    public let name: String
    public let match: StringMatch
    /// Negates the result (an absent attribute then matches, except for `present`'s inverse
    /// which is exactly "absent").
    public let invert: Bool
    private let regex: CompiledRegex?

    /// Compiles the matcher; throws ``MatcherError`` for an invalid regular expression.
    public init(name: String, match: StringMatch, invert: Bool = false) throws(MatcherError) {
        self.name = name
        self.match = match
        self.invert = invert
        if case .regex(let pattern) = match {
            do {
                regex = CompiledRegex(try Regex(pattern))
            } catch {
                throw MatcherError(pattern: pattern, reason: "\(error)")
            }
        } else {
            regex = nil
        }
    }

    /// Whether `attributes` satisfy this condition.
    public func matches(_ attributes: Attributes) -> Bool {
        matchesValue(attributes[name]) != invert
    }

    private func matchesValue(_ value: AttributeText?) -> Bool {
        guard let value else { return false }
        switch match {
        case .present: return true
        case .exact(let s): return value.equals(s)
        case .prefix(let s): return value.hasPrefix(s)
        case .suffix(let s): return value.hasSuffix(s)
        case .regex: return regex!.wholeMatches(value.string)
        }
    }
}

/// A regular expression that failed to compile.
public struct MatcherError: Error, Sendable, CustomStringConvertible {
    public var pattern: String
    public var reason: String
    public var description: String { "invalid pattern \"\(pattern)\": \(reason)" }
}

/// `Regex` wrapped to be shared across requests: it is immutable once compiled, but its output
/// type is not declared `Sendable`.
final class CompiledRegex: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
    func wholeMatches(_ s: String) -> Bool { (try? regex.wholeMatch(in: s)) != nil }
}

/// All conditions must hold (MetaRouter ANDs the attributes of one match).
public struct AttributeMatch: Sendable {
    public let matchers: [AttributeMatcher]

    public init(_ matchers: [AttributeMatcher]) { self.matchers = matchers }

    public func matches(_ attributes: Attributes) -> Bool {
        for m in matchers where !m.matches(attributes) { return false }
        return true
    }
}
