/// Refuses YAML that uses a collection as a mapping key, before Yams reads it.
///
/// Yams checks each mapping for duplicate keys by comparing them, and with collections as keys
/// (`? - a` explicit keys, or `[a]: b`, `{a: b}: c`) the comparison recurses into every nested
/// key: a fuzzed 2.4 KB manifest of nested `? -` took Yams over 14 seconds to compose, time a
/// `POST /config` or a watched file could take from the proxy's admin loop. Manifests and
/// workloads only ever key by plain strings, so such a key is refused where it starts, with the
/// file, line and column, and nothing reaches the parser.
enum ComplexKeys {
    /// The first collection key in `text`, as an error naming its place; nil when there is none.
    static func firstUse(in text: String, file: String) -> ManifestError? {
        var line = 1, column = 0
        var quote: UInt8?           // the quote of the scalar being read, if any
        var escaped = false
        var comment = false
        var previous: UInt8 = 0x0a  // the byte before, a line feed at the start
        var closedCollection: (line: Int, column: Int)?  // a `]` or `}` just read, spaces after it skipped
        let bytes = Array(text.utf8)
        func refuse(_ what: String, _ l: Int, _ c: Int) -> ManifestError {
            ManifestError(file: file, line: l, column: c, path: "",
                          reason: "\(what) used as a mapping key; keys in manifests and workloads are plain strings (collection keys make the YAML reader's duplicate check take exponential time)")
        }
        for (i, byte) in bytes.enumerated() {
            column += 1
            let next: UInt8 = i + 1 < bytes.count ? bytes[i + 1] : 0x0a
            let nextIsSpace = next == 0x20 || next == 0x09 || next == 0x0a || next == 0x0d
            defer { previous = byte }
            if byte == 0x0a {
                // A quoted scalar may go on over lines; a comment may not.
                line += 1; column = 0; comment = false; closedCollection = nil
                continue
            }
            if comment { continue }
            if let q = quote {
                if escaped {
                    escaped = false
                } else if q == 0x22, byte == 0x5c {  // a backslash escapes the next byte in "…"
                    escaped = true
                } else if byte == q {
                    quote = nil
                }
                continue
            }
            let atTokenStart = previous == 0x0a || previous == 0x20 || previous == 0x09 || previous == 0x5b || previous == 0x7b || previous == 0x2c
            switch byte {
            case 0x23 where previous == 0x0a || previous == 0x20 || previous == 0x09:  // #
                comment = true
            case 0x27 where atTokenStart, 0x22 where atTokenStart:  // ' "
                quote = byte
            case 0x3f where atTokenStart && nextIsSpace:  // ? followed by a space: an explicit key
                return refuse("an explicit key (`?`)", line, column)
            case 0x5d, 0x7d:  // ] }
                closedCollection = (line, column)
                continue
            case 0x3a where closedCollection != nil && (nextIsSpace || next == 0x2c || next == 0x5d || next == 0x7d):  // :
                return refuse("a collection", closedCollection!.line, closedCollection!.column)
            case 0x20, 0x09:
                continue  // spaces keep a collection just closed in view
            default:
                break
            }
            closedCollection = nil
        }
        return nil
    }
}
