import Foundation
import TrafficModel

extension Expectation {
    /// Reads an expectation sentence; the error says what was expected, and suggests a count's
    /// name when one is misspelt.
    public init(parsing text: String, line: Int? = nil, column: Int? = nil) throws(SyntaxError) {
        self.text = text
        self.line = line
        self.column = column
        let s = text.trimmingCharacters(in: .whitespaces)
        for (suffix, _) in [(" holds", 0), (" hold", 0)] where s.hasSuffix(suffix) {
            let subject = String(s.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            let (driver, name) = try Self.splitDriver(subject, in: text)
            guard name == "conservation" || name == "invariants" else {
                throw SyntaxError(text: text, reason: "only conservation and invariants can hold (\"conservation holds\")")
            }
            check = .invariantsHold(driver: driver)
            return
        }
        guard let (left, op, right) = Self.splitAtBound(s) else {
            throw SyntaxError(text: text, reason: "expected METRIC then a bound: < 20ms, >= 1, == 0, within 0.2 ± 0.02, in 10..20 (or \"conservation holds\")")
        }
        let operand = try Self.operand(left, in: text)
        check = .value(operand, try Self.bound(op, right, in: text))
    }

    /// The operators a bound can start with, longest first so `<=` is not read as `<`.
    private static let operators = ["<=", ">=", "==", "≤", "≥", "<", ">", "=", " within ", " in "]

    /// Splits at the first bound operator outside parentheses.
    static func splitAtBound(_ s: String) -> (String, String, String)? {
        var depth = 0
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if depth == 0 {
                for op in operators where s[i...].hasPrefix(op) {
                    let left = String(s[..<i]).trimmingCharacters(in: .whitespaces)
                    let right = String(s[s.index(i, offsetBy: op.count)...]).trimmingCharacters(in: .whitespaces)
                    return left.isEmpty ? nil : (left, op.trimmingCharacters(in: .whitespaces), right)
                }
            }
            i = s.index(after: i)
        }
        return nil
    }

    static func splitDriver(_ s: String, in text: String) throws(SyntaxError) -> (Driver?, String) {
        for d in Driver.allCases where s.hasPrefix(d.rawValue + ".") { return (d, String(s.dropFirst(d.rawValue.count + 1))) }
        if s.hasPrefix("simulation.") { return (.simulated, String(s.dropFirst("simulation.".count))) }
        return (nil, s)
    }

    static func operand(_ s: String, in text: String) throws(SyntaxError) -> Operand {
        // A ratio: the one "/" outside parentheses.
        var depth = 0
        for i in s.indices {
            if s[i] == "(" { depth += 1 } else if s[i] == ")" { depth -= 1 }
            if s[i] == "/" && depth == 0 {
                let a = try operand(String(s[..<i]).trimmingCharacters(in: .whitespaces), in: text)
                let b = try operand(String(s[s.index(after: i)...]).trimmingCharacters(in: .whitespaces), in: text)
                return .ratio(a, b)
            }
        }
        let (driver, name) = try splitDriver(s, in: text)
        return .metric(try metric(name, in: text), driver: driver)
    }

    static func metric(_ s: String, in text: String) throws(SyntaxError) -> Metric {
        let (head, argument) = callForm(s)
        if head.hasPrefix("p"), let p = Double(head.dropFirst()), p > 0, p <= 100 {
            return .percentile(p, figure: argument ?? "latency")
        }
        switch head {
        case "mean": return .meanLatency(figure: argument ?? "latency")
        case "share":
            guard let argument else { throw SyntaxError(text: text, reason: "share needs what of: share(subset v1), share(host 10.0.0.1:9000), share(cluster svc)") }
            let parts = argument.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw SyntaxError(text: text, reason: "share(\(argument)): expected subset NAME, host ADDRESS or cluster NAME") }
            switch parts[0] {
            case "subset": return .share(.subset(parts[1]))
            case "host": return .share(.host(parts[1]))
            case "cluster": return .share(.cluster(parts[1]))
            default: throw SyntaxError(text: text, reason: "share(\(argument)): expected subset, host or cluster, not \"\(parts[0])\"")
            }
        case "counter", "coverage":
            guard let argument, !argument.isEmpty else { throw SyntaxError(text: text, reason: "\(head) needs a name: \(head)(NAME)") }
            return head == "counter" ? .counter(argument) : .coverage(argument)
        case "added", "haproxyAdded":
            let parts = (argument ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[1].hasPrefix("p"), let p = Double(parts[1].dropFirst()), p > 0, p <= 100 else {
                throw SyntaxError(text: text, reason: "\(head) takes a payload size and a percentile: \(head)(20B, p50)")
            }
            return .added(size: try ByteSize.parse(parts[0]), percentile: p, haproxy: head == "haproxyAdded")
        default:
            guard argument == nil, Metric.counts.contains(where: { $0.name == head }) else {
                let names = ["pNN(latency)", "mean(latency)", "share(…)", "counter(…)", "coverage(…)", "added(…)"] + Metric.counts.map(\.name)
                let guess = Suggestion.closest(to: head, in: Metric.counts.map(\.name) + ["share", "counter", "coverage", "added", "haproxyAdded", "mean"])
                throw SyntaxError(text: text, reason: "unknown metric \"\(s)\"" + (guess.map { "; did you mean '\($0)'?" } ?? " (one of: \(names.joined(separator: ", ")))"))
            }
            return .count(head)
        }
    }

    /// `name(argument)` → ("name", "argument"); `name` → ("name", nil).
    static func callForm(_ s: String) -> (String, String?) {
        guard let open = s.firstIndex(of: "("), s.hasSuffix(")") else { return (s, nil) }
        let argument = s[s.index(after: open)..<s.index(before: s.endIndex)].trimmingCharacters(in: .whitespaces)
        return (String(s[..<open]).trimmingCharacters(in: .whitespaces), argument)
    }

    static func bound(_ op: String, _ rest: String, in text: String) throws(SyntaxError) -> Bound {
        switch op {
        case "<": return .below(try value(rest, in: text), inclusive: false)
        case "<=", "≤": return .below(try value(rest, in: text), inclusive: true)
        case ">": return .above(try value(rest, in: text), inclusive: false)
        case ">=", "≥": return .above(try value(rest, in: text), inclusive: true)
        case "==", "=": return .equal(try value(rest, in: text))
        default:
            for separator in ["±", "+-", "+/-"] where rest.contains(separator) {
                let parts = rest.components(separatedBy: separator)
                guard parts.count == 2 else { break }
                let mid = try value(parts[0], in: text), half = try value(parts[1], in: text)
                guard half >= 0 else { throw SyntaxError(text: text, reason: "the ± part must be 0 or more") }
                return .around(mid, half)
            }
            for separator in ["..", "–"] where rest.contains(separator) {
                let parts = rest.components(separatedBy: separator)
                guard parts.count == 2 else { break }
                let lo = try value(parts[0], in: text), hi = try value(parts[1], in: text)
                guard lo <= hi else { throw SyntaxError(text: text, reason: "the range \(rest) runs backwards") }
                return .between(lo, hi)
            }
            throw SyntaxError(text: text, reason: "\(op) takes a range: \(op) 0.2 ± 0.02 or \(op) 0.18..0.22")
        }
    }

    /// A number, with a time unit (seconds) or `%` (a fraction).
    static func value(_ raw: String, in text: String) throws(SyntaxError) -> Double {
        let s = raw.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1.0), ("%", 0.01)] where s.hasSuffix(suffix) {
            if let v = Double(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v.isFinite { return v * scale }
        }
        guard let v = Double(s), v.isFinite else { throw SyntaxError(text: text, reason: "\"\(s)\" is not a number (a duration takes s, ms, us or ns; a share may take %)") }
        return v
    }
}
