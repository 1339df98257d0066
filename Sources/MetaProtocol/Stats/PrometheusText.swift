/// Builds Prometheus text exposition (version 0.0.4): `# HELP`, `# TYPE`, then samples with
/// escaped labels. Families are written in the order they are added, samples in the order given,
/// so the same stats render to the same bytes.
public struct PrometheusText {
    public private(set) var text = ""

    public init() {}

    public enum Kind: String { case counter, gauge, histogram }

    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " \(Self.format(value))\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Int) {
        sample(name, labels, Double(value))
    }

    /// A histogram's buckets (cumulative, `le` in seconds), sum and count.
    public mutating func histogram(_ name: String, _ labels: [(String, String)], _ h: LatencyHistogram) {
        var cumulative: UInt64 = 0
        for (i, bound) in LatencyHistogram.boundsMilliseconds.enumerated() {
            cumulative += h.counts[i]
            sample("\(name)_bucket", labels + [("le", Self.format(bound / 1000))], Double(cumulative))
        }
        sample("\(name)_bucket", labels + [("le", "+Inf")], Double(h.count))
        sample("\(name)_sum", labels, Double(h.sumNanoseconds) / 1e9)
        sample("\(name)_count", labels, Double(h.count))
    }

    /// A label value in Prometheus's text format: backslash, quote and line feed escaped.
    /// Scalar by scalar, not by `Character`: a quote followed by a combining mark, or "\r\n",
    /// is one Character that matches none of the cases, and would pass through unescaped,
    /// ending the label early or breaking the line. (A carriage return may stand unescaped:
    /// the format escapes only those three, and a parser refuses any other escape.)
    static func escape(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
