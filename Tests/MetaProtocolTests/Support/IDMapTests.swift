import Testing

@testable import MetaProtocol

@Suite("IDMap")
struct IDMapTests {
    @Test func behavesLikeADictionaryUnderRandomInsertsAndRemovals() {
        var map = IDMap<Int>()
        var reference: [UInt64: Int] = [:]
        var r = SeededRandom(seed: 5)
        for step in 0..<100_000 {
            // Keys from a small range collide and cluster, exercising probing and removal.
            let key = 1 + r.next(below: 2000)
            switch r.nextIndex(3) {
            case 0, 1:
                map.set(key, step)
                reference[key] = step
            default:
                #expect(map.remove(key) == reference.removeValue(forKey: key))
            }
            if step % 997 == 0 {
                #expect(map.count == reference.count)
                for k in 1...2000 as ClosedRange<UInt64> where map[k] != reference[k] {
                    Issue.record("key \(k): \(String(describing: map[k])) != \(String(describing: reference[k]))")
                    return
                }
            }
        }
        #expect(map.sortedEntries.map(\.key) == reference.keys.sorted())
        map.withValue(reference.keys.first!) { $0 = -1 }
        #expect(map[reference.keys.first!] == -1)
    }
}
