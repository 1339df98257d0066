import Foundation

/// A rate profile file could not be read: where, and why.
public struct RateProfileError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var line: Int
    public var message: String

    public init(source: String, line: Int, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    public var description: String { "\(source):\(line): \(message)" }
}

extension ArrivalProcess {
    /// A Poisson process replaying a recorded rate profile from CSV text: one `seconds,rate`
    /// row per step (seconds from the start, calls per second), each rate holding until the next
    /// row. An optional header row, blank lines and `#` comments are skipped; times must rise.
    ///
    /// `source` names the text in errors (`file.csv:7: …`).
    public static func profile(csv text: String, source: String = "profile") throws -> ArrivalProcess {
        var steps: [RateStep] = []
        var sawRow = false
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = content.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2 else {
                throw RateProfileError(source: source, line: line, message: "expected two fields `seconds,rate`, found \(fields.count)")
            }
            guard let seconds = Double(fields[0]), let rate = Double(fields[1]) else {
                // The first row may be a header.
                if !sawRow && steps.isEmpty && Double(fields[0]) == nil && Double(fields[1]) == nil {
                    sawRow = true
                    continue
                }
                let bad = Double(fields[0]) == nil ? ("seconds", fields[0]) : ("rate", fields[1])
                throw RateProfileError(source: source, line: line, message: "\(bad.0) is not a number: `\(bad.1)`")
            }
            sawRow = true
            guard seconds.isFinite, seconds >= 0 else {
                throw RateProfileError(source: source, line: line, message: "seconds must be a finite number ≥ 0, found \(fields[0])")
            }
            guard rate.isFinite, rate >= 0 else {
                throw RateProfileError(source: source, line: line, message: "rate must be a finite number ≥ 0, found \(fields[1])")
            }
            if let last = steps.last, seconds <= last.at.seconds {
                throw RateProfileError(source: source, line: line, message: "times must rise: \(fields[0]) s comes after \(last.at.seconds) s")
            }
            steps.append(RateStep(at: .nanoseconds(Int64((seconds * 1e9).rounded())), rate: rate))
        }
        guard !steps.isEmpty else { throw RateProfileError(source: source, line: 0, message: "no rows") }
        return .profile(steps)
    }

    /// ``profile(csv:source:)`` from a file.
    public static func profile(csvFile path: String) throws -> ArrivalProcess {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RateProfileError(source: path, line: 0, message: "cannot read: \(error.localizedDescription)")
        }
        return try profile(csv: text, source: path)
    }
}
