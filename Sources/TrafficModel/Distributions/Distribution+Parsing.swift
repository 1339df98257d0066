import Foundation
import MetaProtocol

/// A value written in the short form used on command lines and in workload files could not be
/// read.
public struct SyntaxError: Error, CustomStringConvertible, Equatable {
    public var text: String
    public var reason: String
    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "\"\(text)\": \(reason)" }
}

extension Distribution {
    /// Reads a distribution written `kind:parameters`, durations with an optional unit
    /// (`s`, `ms`, `us`, `ns`; seconds when bare) or plain numbers:
    ///
    ///     constant:2ms    exp:2ms    lognormal:4ms,2ms (mean, standard deviation)
    ///     uniform:1ms,3ms    a bare value is constant: 0.002, 2ms
    public init(parsing text: String) throws(SyntaxError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            self = .constant(try Self.quantity(trimmed, in: text))
            return
        }
        let values = try parts[1].split(separator: ",").map { v throws(SyntaxError) in try Self.quantity(String(v), in: text) }
        func need(_ n: Int) throws(SyntaxError) {
            guard values.count == n else { throw SyntaxError(text: text, reason: "\(parts[0]) takes \(n) value\(n == 1 ? "" : "s"), found \(values.count)") }
        }
        switch parts[0] {
        case "constant", "const":
            try need(1)
            self = .constant(values[0])
        case "exp", "exponential":
            try need(1)
            self = .exponential(mean: values[0])
        case "lognormal":
            try need(2)
            guard values[0] > 0 else { throw SyntaxError(text: text, reason: "a lognormal's mean must be above 0") }
            self = .lognormal(mean: values[0], standardDeviation: values[1])
        case "uniform":
            try need(2)
            guard values[0] <= values[1] else { throw SyntaxError(text: text, reason: "uniform needs low ≤ high") }
            self = .uniform(low: values[0], high: values[1])
        default:
            throw SyntaxError(text: text, reason: "unknown distribution \"\(parts[0])\" (constant, exp, lognormal, uniform)")
        }
    }

    /// A non-negative number, with an optional time unit turning it into seconds.
    static func quantity(_ raw: String, in text: String) throws(SyntaxError) -> Double {
        let s = raw.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1.0)] where s.hasSuffix(suffix) {
            if let v = Double(s.dropLast(suffix.count)), v >= 0, v.isFinite { return v * scale }
        }
        guard let v = Double(s), v >= 0, v.isFinite else { throw SyntaxError(text: text, reason: "\"\(s)\" is not a non-negative number (with s, ms, us or ns)") }
        return v
    }
}
