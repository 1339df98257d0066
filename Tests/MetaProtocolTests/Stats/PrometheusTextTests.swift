import Testing

@testable import MetaProtocol

/// Label values in Prometheus's text format, whatever a client puts in a method name.
@Suite("Prometheus text: label escaping")
struct PrometheusTextTests {
    static func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

    @Test(arguments: [
        ("plain", "plain"),
        ("a\"b", "a\\\"b"),
        ("back\\slash", "back\\\\slash"),
        ("line\nfeed", "line\\nfeed"),
        // Each of these is one Character, which an escape by Character let through whole: a
        // carriage return with its line feed, and a quote with a combining acute accent.
        ("crlf\r\n", "crlf\r\\n"),
        ("x\"\u{0301}y", "x\\\"\u{0301}y"),
    ])
    func everyQuoteBackslashAndLineFeedIsEscaped(raw: String, escaped: String) {
        #expect(Self.scalars(PrometheusText.escape(raw)) == Self.scalars(escaped))
    }

    @Test func noEscapedValueEndsItsLabelOrLineEarly() {
        for value in ["\"\u{0301}", "\r\n", "a\\\"\u{20DD}\n\u{0300}", "\\\u{0301}\"\u{0301}"] {
            let escaped = Array(PrometheusText.escape(value).unicodeScalars)
            // Every quote is preceded by an odd run of backslashes, and no line feed is left.
            for (i, s) in escaped.enumerated() where s == "\"" {
                let run = escaped[..<i].reversed().prefix { $0 == "\\" }.count
                #expect(run % 2 == 1, "an unescaped quote in \(value.debugDescription)")
            }
            #expect(!escaped.contains("\n"))
        }
    }
}
