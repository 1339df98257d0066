import MetaProtocol
import TrafficModel

/// A workload script, read and resolved: every value the run will use, defaults filled in, as
/// TrafficModel values and a ``ProxyConfiguration``. Both drivers read it — the simulator and the
/// real-socket harness — so a `mode: both` run models the same mesh twice.
///
/// Read one with ``WorkloadReader``; ``resolvedDescription`` prints it as `mplab run --dry-run`
/// shows it. The fields are documented, with their units and defaults, in `Workloads/README.md`.
public struct WorkloadScript: Sendable {
    /// Which driver runs the workload.
    public enum Mode: String, Sendable, CaseIterable {
        /// The discrete-event simulator only (virtual time, the same bytes for the same seed).
        case simulate
        /// Real sockets only: `mplab serve` for the hosts, `mplab proxy`, the load generator.
        case real
        /// Both, side by side, with the simulator's network set from the measured direct path.
        case both
    }

    /// The file it was read from (as given).
    public var file: String
    /// The workload's name: its file name without `.yaml` unless it says otherwise.
    public var name: String
    /// One line for `mplab list`; the file's leading comment unless it says otherwise.
    public var summary: String
    public var mode: Mode
    public var seed: UInt64
    /// Clients send until this long after the start.
    public var duration: Duration
    /// At most this many calls in all, warm-up included; nil for no limit.
    public var callLimit: Int?
    /// Calls sent before this are left out of every figure.
    public var warmUp: Duration
    /// How long in-flight calls may take to finish after sending ends.
    public var drainLimit: Duration
    /// The proxy under test: its configuration, where it came from, how many instances.
    public var proxy: ProxySection
    /// The hosts' behaviour, per cluster.
    public var services: [ServiceModel]
    public var network: NetworkSection
    public var clients: [ClientSection]
    public var faults: [FaultEvent]
    public var autoscaling: AutoscalingRule?
    /// The simulated global rate-limit service.
    public var rateLimitService: RateLimitServiceModel?
    /// The real-socket part's own settings (mode real or both).
    public var real: RealSection
    /// A round of direct vs proxy vs HAProxy per payload size, in any mode; nil for none.
    public var overhead: OverheadSection?
    /// How `mplab capacity` searches, sweeps and recommends; nil takes every default.
    public var capacity: CapacitySection?
    /// Independent simulated runs, seeds `seed`, `seed + 1`, …; figures get 95 % intervals.
    public var replications: Int
    /// Width of the time-series windows.
    public var timeSeriesInterval: Duration
    /// What must hold of the result; the run fails when one does not.
    public var expectations: [Expectation]
    /// Things that are allowed but probably not meant.
    public var warnings: [String]

    /// The proxy under test.
    public struct ProxySection: Sendable {
        public var configuration: ProxyConfiguration
        /// Manifest files, resolved against the workload's folder.
        public var manifestFiles: [String]
        /// Manifests written inside the workload, as YAML text (a real run hands them to `mplab proxy`).
        public var inlineManifests: String?
        public var instances: Int
    }

    /// The network between clients, proxies and hosts, in the simulator.
    public struct NetworkSection: Sendable {
        /// One-way latency, seconds.
        public var clientToProxy: Distribution
        public var proxyToHost: Distribution
        /// Bytes per second on every link; nil for no transfer time.
        public var bandwidth: Double?
        /// In mode both: replace the latencies by half the direct path's measured round trip.
        public var fromDirectPath: Bool
    }

    /// A group of callers. With several payload sizes, each size is its own client of an equal
    /// share of the rate (Poisson processes split exactly), named `name 20 B`, `name 120 KB`.
    public struct ClientSection: Sendable {
        public var name: String
        public var arrivals: ArrivalProcess
        public var mix: [CallTemplate]
        /// Payload sizes in bytes: one, or several sharing the rate.
        public var payloadSizes: [Int]
        /// A distribution of payload bytes instead of fixed sizes.
        public var payloadDistribution: Distribution?
        public var proxyInstance: Int?

        /// The clients both drivers run: one per payload size.
        public var models: [ClientModel] {
            if let d = payloadDistribution { return [ClientModel(name: name, arrivals: arrivals, mix: mix, payloadSize: d, proxyInstance: proxyInstance)] }
            if payloadSizes.count == 1 {
                return [ClientModel(name: name, arrivals: arrivals, mix: mix, payloadSize: .constant(Double(payloadSizes[0])), proxyInstance: proxyInstance)]
            }
            let share = 1 / Double(payloadSizes.count)
            return payloadSizes.map {
                ClientModel(name: "\(name) \(ByteSize.describe($0))", arrivals: arrivals.scaled(by: share), mix: mix, payloadSize: .constant(Double($0)),
                            proxyInstance: proxyInstance)
            }
        }
    }

    /// How the real-socket part runs.
    public struct RealSection: Sendable {
        /// The clients' rates are multiplied by this on real sockets (a 2-core machine cannot
        /// always offer what a simulated mesh takes).
        public var rateScale: Double
        /// Real sending lasts this long (the warm-up included); nil takes the workload's duration.
        public var duration: Duration?
        /// Connections from the load generator to the proxy, per client.
        public var connections: Int
        /// A call not answered this long after it left counts as timed out.
        public var requestTimeout: Duration
        /// Event loops of `mplab proxy`.
        public var proxyEventLoops: Int
    }

    /// Direct vs proxy vs HAProxy, interleaved, per payload size (as `mplab overhead`).
    public struct OverheadSection: Sendable {
        public var protocolName: String
        public var sizes: [Int]
        public var rounds: Int
        public var roundDuration: Duration
        /// Calls per second in each round.
        public var rate: Double
        public var connections: Int
        public var haproxy: Bool
    }

    /// The simulated clients, one per payload size.
    public var clientModels: [ClientModel] { clients.flatMap(\.models) }

    /// The cluster and subsets of every host, for shares by subset.
    public func subsets(of address: String) -> [(cluster: String, subset: String)] {
        var out: [(String, String)] = []
        for cluster in proxy.configuration.clusters {
            guard let host = cluster.hosts.first(where: { $0.address == address }) else { continue }
            for subset in cluster.subsets where subset.labels.allSatisfy({ host.labels[$0.key] == $0.value }) {
                out.append((cluster.name, subset.name))
            }
        }
        return out
    }

    /// The cluster a host belongs to.
    public func cluster(of address: String) -> String? {
        proxy.configuration.clusters.first { $0.hosts.contains { $0.address == address } }?.name
    }
}
