import ArgumentParser

/// Checks of option values that a conversion would otherwise trap on or quietly bend: Swift's
/// `Int64(Double)` traps on infinity, NaN and anything past 2^63, and ArgumentParser reads
/// `inf`, `nan` and `1e300` as valid `Double`s.
enum OptionValues {
    /// The longest time any option may name: past a year a timeout is a typo, and the arithmetic
    /// on it (nanoseconds in an `Int64`) stays far from overflow.
    static let longestSeconds = 365.0 * 24 * 3600

    /// `seconds` as a duration, or a validation error naming `option`; 0 is allowed when the
    /// option gives 0 a meaning ("never").
    static func duration(seconds: Double, _ option: String, zeroAllowed: Bool) throws -> Duration {
        guard seconds.isFinite, seconds >= 0, seconds <= longestSeconds, zeroAllowed || seconds > 0 else {
            throw ValidationError("\(option) \(seconds): expected seconds from \(zeroAllowed ? "0" : "above 0") to \(Int(longestSeconds)) (a year)")
        }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// A finite number within `range`, or a validation error naming `option`.
    static func number(_ value: Double, _ option: String, in range: ClosedRange<Double>) throws -> Double {
        guard value.isFinite, range.contains(value) else { throw ValidationError("\(option) \(value): expected a number from \(range.lowerBound) to \(range.upperBound)") }
        return value
    }

    /// Ports as a list (`20881,20882`) or ranges (`20881-20890`), each from 0 (the system
    /// chooses) to 65535. Signs, empty ends (`20881-`, `-5`) and reversed ranges are refused:
    /// splitting on `-` with the empty pieces dropped once read `-5` as port 5.
    static func ports(_ text: String, _ option: String = "--ports") throws -> [Int] {
        var result: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            let numbers = bounds.map { piece in piece.allSatisfy(\.isASCII) && piece.allSatisfy(\.isNumber) && !piece.isEmpty ? Int(piece) : nil }
            guard (1...2).contains(bounds.count), let low = numbers.first ?? nil, let high = numbers.last ?? nil, low <= high, high <= 65535 else {
                throw ValidationError("\(option): \"\(part)\" is not a port (0 to 65535) or a range low-high")
            }
            result += Array(low...high)
        }
        return result
    }
}
