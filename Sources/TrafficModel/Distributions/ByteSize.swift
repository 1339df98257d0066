import Foundation

/// Byte counts written the way people say them: `20`, `20B`, `1K`, `16KB`, `64KiB`, `1M`.
/// A kilobyte is 1024 bytes here, as in the talk's "120 KB" frames (122,880 bytes).
public enum ByteSize {
    /// The number of bytes `text` says.
    public static func parse(_ text: String) throws(SyntaxError) -> Int {
        let s = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [("KiB", 1024), ("MiB", 1 << 20), ("KB", 1024), ("MB", 1 << 20), ("K", 1024), ("M", 1 << 20), ("B", 1), ("", 1)]
        for (suffix, scale) in units where s.uppercased().hasSuffix(suffix.uppercased()) {
            let number = s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if let n = Int(number), n >= 0, n <= Int.max / scale { return n * scale }
            if suffix.isEmpty { break }
        }
        throw SyntaxError(text: text, reason: "not a byte count (20, 20B, 1K, 16KB, 1M)")
    }

    /// A list of byte counts separated by commas: `20,1K,16K,64K,120K`.
    public static func parseList(_ text: String) throws(SyntaxError) -> [Int] {
        var sizes: [Int] = []
        for part in text.split(separator: ",") { sizes.append(try parse(String(part))) }
        guard !sizes.isEmpty else { throw SyntaxError(text: text, reason: "no byte count") }
        return sizes
    }

    /// `n` bytes as people write them: `20 B`, `1 KB`, `120 KB`, `1.5 MB`.
    public static func describe(_ n: Int) -> String {
        if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MB" }
        if n >= 1024 && n % 1024 == 0 { return "\(n >> 10) KB" }
        return "\(n) B"
    }
}
