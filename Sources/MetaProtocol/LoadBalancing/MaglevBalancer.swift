/// Maglev consistent hashing (Eisenbud et al., NSDI 2016, with Envoy's weighting): a lookup table
/// of a prime size filled by each host's permutation `(offset + skip·j) mod size`, hosts taking
/// turns in proportion to their weight. A request goes to `table[hash mod size]`; removing one
/// of N hosts moves about 2/N of the keys.
public struct MaglevBalancer: LoadBalancer {
    private var table: [Int32] = []

    public init(_ hosts: [BalancerHost], tableSize: Int = 65537) {
        guard !hosts.isEmpty else { return }
        let size = UInt64(tableSize)
        let maxWeight = Double(hosts.map(\.weight).max()!)
        struct Build {
            var index: Int
            var offset: UInt64
            var skip: UInt64
            var weight: Double
            var targetWeight = 0.0
            var next: UInt64 = 0
        }
        var builds = hosts.map { host in
            Build(index: host.index,
                  offset: XXHash64.hash(host.hashKey, seed: 0) % size,
                  skip: XXHash64.hash(host.hashKey, seed: 1) % (size - 1) + 1,
                  weight: Double(host.weight) / maxWeight)
        }
        var table = [Int32](repeating: -1, count: tableSize)
        var filled = 0
        var iteration = 0.0
        while filled < tableSize {
            for i in builds.indices where filled < tableSize {
                // A host of the largest weight takes a slot every round; one of a third of it,
                // every third round.
                if iteration * builds[i].weight < builds[i].targetWeight { continue }
                builds[i].targetWeight += 1
                var slot = (builds[i].offset &+ builds[i].skip &* builds[i].next) % size
                while table[Int(slot)] >= 0 {
                    builds[i].next += 1
                    slot = (builds[i].offset &+ builds[i].skip &* builds[i].next) % size
                }
                table[Int(slot)] = Int32(builds[i].index)
                builds[i].next += 1
                filled += 1
            }
            iteration += 1
        }
        self.table = table
    }

    /// How many table entries each host index owns.
    public var entriesPerHost: [Int: Int] { table.reduce(into: [:]) { $0[Int($1), default: 0] += 1 } }

    /// The host index owning `hash`.
    public func lookup(_ hash: UInt64) -> Int? {
        table.isEmpty ? nil : Int(table[Int(hash % UInt64(table.count))])
    }

    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
        lookup(input.hashKey ?? random.next())
    }
}
