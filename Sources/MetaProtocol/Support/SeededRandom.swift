/// The core's only source of randomness: xoshiro256** seeded through SplitMix64.
///
/// The core never calls the system generator; a driver hands it a seed. The simulator derives
/// one generator per named stream from its run seed (``init(seed:stream:)``), so adding a host or
/// a client does not shift the numbers any other part of the run sees. Same seed, same numbers.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// An independent stream named `stream` under the run seed `seed`.
    public init(seed: UInt64, stream: String) {
        self.init(seed: seed ^ XXHash64.hash(Array(stream.utf8), seed: 0x5EED))
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's method, unbiased).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// A uniform index in `0..<count`.
    public mutating func nextIndex(_ count: Int) -> Int { Int(next(below: UInt64(count))) }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// `true` with probability `percent` / 100 (0…100, fractional allowed).
    public mutating func chance(percent: Double) -> Bool {
        percent >= 100 || (percent > 0 && nextUnit() * 100 < percent)
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
