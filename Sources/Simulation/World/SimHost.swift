import MetaProtocol
import TrafficModel

/// A synthetic host in the simulated world: TrafficModel's ``SyntheticHost`` (the same state
/// machine `mplab serve` runs) under virtual time, with what only the world knows of it —
/// whether it is up or cut off, and its own stream of network delays.
struct SimHost {
    let address: String
    /// Index of its cluster in the configuration.
    let cluster: Int
    var machine: SyntheticHost
    var network: SeededRandom
    var up = true
    var partitioned = false

    init(address: String, cluster: Int, behaviour: HostBehaviour, seed: UInt64, now: Int64, measureFrom: Int64) {
        self.address = address
        self.cluster = cluster
        machine = SyntheticHost(name: address, behaviour: behaviour, seed: seed, startedAt: now, measureFrom: measureFrom)
        network = SeededRandom(seed: seed, stream: "network:\(address)")
    }
}
