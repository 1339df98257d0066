import Foundation

/// `concurrency,throughput` rows, as `mplab usl FILE.csv` reads them (the format of codahale's
/// `usl` tool): one point per line, an optional header line, `#` comments, blank lines ignored.
public enum ConcurrencyCSV {
    /// A line that is not a point.
    public struct LineError: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    /// The points of `text`; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> [ConcurrencyPoint] {
        var points: [ConcurrencyPoint] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func fail(_ message: String) -> LineError { LineError(file: file, line: index + 1, message: message) }
            guard fields.count == 2 else { throw fail("expected two fields, concurrency,throughput; found \(fields.count)") }
            guard let n = Double(fields[0]), let x = Double(fields[1]) else {
                if points.isEmpty && Double(fields[0]) == nil && Double(fields[1]) == nil { continue }  // the header
                throw fail("expected numbers, found '\(fields[0])' and '\(fields[1])'")
            }
            guard n > 0, n.isFinite else { throw fail("concurrency must be above 0, found \(fields[0])") }
            guard x >= 0, x.isFinite else { throw fail("throughput must be 0 or more, found \(fields[1])") }
            points.append(ConcurrencyPoint(concurrency: n, throughput: x))
        }
        return points
    }

    /// The points as CSV, with a header.
    public static func write(_ points: [ConcurrencyPoint]) -> String {
        "concurrency,throughput\n" + points.map { "\(USLFit.format($0.concurrency)),\($0.throughput)\n" }.joined()
    }
}
