import Foundation
import Testing

@testable import Workload

/// Collection keys are refused before the YAML reader sees them: its duplicate-key check on
/// nested ones takes exponential time (the fuzzer's find, kept in Fuzz/Regressions).
@Suite("Manifests: collection keys")
struct ComplexKeyTests {
    static let regression = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Fuzz/Regressions/manifest-nested-explicit-keys.yaml")

    @Test func theFuzzersNestedExplicitKeysAreRefusedAtOnceWithTheirPlace() throws {
        let text = String(decoding: try Data(contentsOf: Self.regression), as: UTF8.self)
        let started = ContinuousClock.now
        #expect(throws: ManifestErrors.self) { try ConfigurationLoader.load([("fuzz.yaml", text)]) }
        let e = ComplexKeys.firstUse(in: text, file: "fuzz.yaml")
        #expect(e?.line == 2 && e?.column == 5, "\(String(describing: e))")
        // Not a timing bound (the suite is busy): a minute means the YAML reader was reached.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(throws: ManifestErrors.self) { try WorkloadReader.read(text: text, file: "w.yaml", directory: "/nonexistent") }
    }

    @Test(arguments: [
        ("? a\n: b\n", 1, 1),
        ("spec:\n  - ? x\n", 2, 5),
        ("[a, b]: c\n", 1, 6),
        ("spec: {x: 1, {a: b}: c}\n", 1, 19),
        ("m:\n  [a] : 1\n", 2, 5),
    ])
    func collectionKeysAreRefused(text: String, line: Int, column: Int) {
        let e = ComplexKeys.firstUse(in: text, file: "k.yaml")
        #expect(e?.line == line && e?.column == column, "\(text.debugDescription): \(String(describing: e))")
        #expect(e?.reason.contains("mapping key") == true)
    }

    @Test(arguments: [
        "regex: \"^[a-z]: ? \"\n",
        "regex: '[x]: y'\n",
        "# a comment ? with [a]: b\nk: v\n",
        "list: [a, b]\nmap: {a: [b], c: {d: e}}\n",
        "- [a, b]\n- {a: b}\n",
        "q: \"a \\\" [x]: y\"\n",
        "v: what?\nw: a?b\n",
    ])
    func plainKeysAndLookAlikesPass(text: String) {
        #expect(ComplexKeys.firstUse(in: text, file: "k.yaml") == nil, "\(text.debugDescription)")
    }
}
