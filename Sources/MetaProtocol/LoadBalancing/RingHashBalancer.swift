import Foundation

/// Consistent hashing on a ring (Envoy's ring hash): each host owns entries proportional to its
/// weight, at positions `xxHash64("<address>_<n>")`; a request goes to the first entry at or after
/// its hash, wrapping around. Removing one of N hosts moves about 1/N of the keys.
///
/// Envoy sizes the ring from the hosts it is built with, so when a host is ejected every other
/// host gains entries and keys move between healthy hosts too (about 1.9/N of them at N = 10).
/// Here the entries per unit of weight come from a *reference* host list — the configured
/// hosts — so a ring built over the healthy ones only loses the missing hosts' entries.
public struct RingHashBalancer: LoadBalancer {
    /// Ring positions, sorted, and the host index at each.
    private var positions: [UInt64] = []
    private var owners: [Int] = []

    /// A ring over `hosts`, sized as Envoy sizes a ring over `reference` (default: `hosts`).
    public init(_ hosts: [BalancerHost], reference: [BalancerHost]? = nil, minimumRingSize: Int = 1024, maximumRingSize: Int = 8 * 1024 * 1024) {
        guard !hosts.isEmpty else { return }
        let basis = reference ?? hosts
        let totalWeight = basis.reduce(0.0) { $0 + Double($1.weight) }
        let normalized = hosts.map { Double($0.weight) / totalWeight }
        let minimumWeight = basis.map { Double($0.weight) / totalWeight }.min()!
        // Scale so the lightest host gets a whole number of entries and the ring reaches the
        // minimum size, never past the maximum.
        let scale = min((minimumWeight * Double(minimumRingSize)).rounded(.up) / minimumWeight, Double(maximumRingSize))
        var entries: [(position: UInt64, owner: Int)] = []
        entries.reserveCapacity(Int(scale.rounded(.up)))
        // Running sums keep the fractional entries of each host from being lost or doubled.
        var current = 0.0, target = 0.0
        for (host, weight) in zip(hosts, normalized) {
            target += scale * weight
            var n = 0
            while current < target {
                entries.append((XXHash64.hash("\(host.hashKey)_\(n)"), host.index))
                n += 1
                current += 1
            }
        }
        // Sort by position; equal positions (astronomically rare) keep host order.
        entries.sort { $0.position < $1.position || ($0.position == $1.position && $0.owner < $1.owner) }
        positions = entries.map(\.position)
        owners = entries.map(\.owner)
    }

    /// Entries on the ring.
    public var ringSize: Int { positions.count }

    /// How many ring entries each host index owns.
    public var entriesPerHost: [Int: Int] { owners.reduce(into: [:]) { $0[$1, default: 0] += 1 } }

    public mutating func pick(_ input: PickInput, random: inout SeededRandom) -> Int? {
        guard !positions.isEmpty else { return nil }
        let key = input.hashKey ?? random.next()
        // First position >= key, wrapping to the start.
        var low = 0, high = positions.count
        while low < high {
            let mid = (low + high) / 2
            if positions[mid] < key { low = mid + 1 } else { high = mid }
        }
        return owners[low == positions.count ? 0 : low]
    }
}
