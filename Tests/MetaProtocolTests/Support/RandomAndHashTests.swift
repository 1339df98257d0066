import Testing

@testable import MetaProtocol

@Suite("xxHash64 and the seeded generator")
struct RandomAndHashTests {
    /// Reference values from the xxHash reference implementation (python-xxhash 3.x).
    @Test(arguments: [
        ("", 0, 0xef46_db37_51d8_e999), ("a", 0, 0xd24e_c4f1_a98c_6e5b), ("abc", 0, 0x44bc_2cf5_ad77_0999),
        ("Nobody inspects the spammish repetition", 0, 0xfbce_a83c_8a37_8bf1),
        ("Nobody inspects the spammish repetition", 1, 0x43f4_2544_8d95_4db6),
        ("0123456789abcdef0123456789abcdef0123456789", 12345, 0x8cdb_6a65_152c_4acd),
        ("10.0.0.1:20880_0", 0, 0x6160_8aaf_a156_e33f),
    ] as [(String, UInt64, UInt64)])
    func xxHash64MatchesTheReference(input: String, seed: UInt64, expected: UInt64) {
        #expect(XXHash64.hash(input, seed: seed) == expected)
    }

    @Test func sameSeedSameSequenceAndStreamsAreIndependent() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let sa = (0..<100).map { _ in a.next() }
        #expect(sa == (0..<100).map { _ in b.next() })
        #expect(sa != (0..<100).map { _ in c.next() })
        var hosts = SeededRandom(seed: 42, stream: "hosts"), clients = SeededRandom(seed: 42, stream: "clients")
        #expect(hosts.next() != clients.next())
    }

    @Test func boundedDrawsAreUniform() {
        // 10^6 draws over 10 buckets: each count within 4 standard errors (4·√(10^5·0.9) ≈ 1200).
        var r = SeededRandom(seed: 7)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<1_000_000 { counts[r.nextIndex(10)] += 1 }
        for c in counts { #expect(abs(c - 100_000) < 1200) }
        var units = 0.0
        for _ in 0..<100_000 { units += r.nextUnit() }
        #expect(abs(units / 100_000 - 0.5) < 4 * 0.2887 / 316.2)  // mean of U(0,1), 4 standard errors
    }
}
