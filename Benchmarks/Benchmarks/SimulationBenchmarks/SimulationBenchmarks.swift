import Benchmark
import MetaProtocol
import Simulation
import TrafficModel

/// The simulator's speed: the event engine alone on an M/M/1 model, the real core in the loop,
/// and a million calls over a thousand hosts with faults. Each iteration is one whole run; the
/// custom metrics are its rate in wall-clock time (events or simulated calls per second).
let benchmarks: @Sendable () -> Void = {
    let eventsPerSecond = BenchmarkMetric.custom("events per second", polarity: .prefersLarger, useScalingFactor: false)
    let callsPerSecond = BenchmarkMetric.custom("simulated calls per second", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(metrics: [.wallClock, .peakMemoryResident, eventsPerSecond, callsPerSecond],
                                                warmupIterations: 1, scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 5)

    /// Runs `simulation` once per iteration and records its rates.
    func measure(_ benchmark: Benchmark, _ simulation: SimulationConfiguration) {
        for _ in benchmark.scaledIterations {
            let start = ContinuousClock.now
            let result = try! Simulation.run(simulation)
            let seconds = (ContinuousClock.now - start).inSeconds
            precondition(result.violations.isEmpty, "a benchmark run must be sound: \(result.violations.prefix(3))")
            benchmark.measurement(eventsPerSecond, Int(Double(result.eventsDispatched) / seconds))
            benchmark.measurement(callsPerSecond, Int(Double(result.calls.sent) / seconds))
            blackHole(result)
        }
    }

    Benchmark("Engine: M/M/1 at ρ = 0.8, no proxy, 1M calls", configuration: configuration) { benchmark in
        measure(benchmark, Workloads.mm1())
    }

    Benchmark("Core in the loop: 10 hosts, 1M calls", configuration: configuration) { benchmark in
        measure(benchmark, Workloads.coreInTheLoop())
    }

    Benchmark("1M calls over 1000 hosts with faults", configuration: configuration) { benchmark in
        measure(benchmark, Workloads.thousandHostsWithFaults())
    }
}

enum Workloads {
    static let capabilities = CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)

    static func cluster(hosts: Int, outlier: OutlierDetectionPolicy? = nil) -> ClusterConfiguration {
        ClusterConfiguration(name: "svc", hosts: (0..<hosts).map { HostConfiguration(address: "10.\($0 / 65536).\($0 / 256 % 256).\($0 % 256):9000") },
                             loadBalancer: .leastRequest(), circuitBreaker: CircuitBreakerThresholds(maxConnections: 100_000, maxPendingRequests: 100_000, maxRequests: 100_000),
                             outlierDetection: outlier)
    }

    static func proxy(_ cluster: ClusterConfiguration, retry: RetryPolicy? = nil) -> ProxyConfiguration {
        ProxyConfiguration(protocolName: "sim", routes: [RouteConfiguration(name: "all", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(5), retry: retry)],
                           clusters: [cluster])
    }

    /// One host, one worker, exponential service of mean 1 ms, Poisson arrivals at 800/s for
    /// 1,250 s: one million calls straight from client to host.
    static func mm1() -> SimulationConfiguration {
        SimulationConfiguration(
            seed: 1, duration: .seconds(1250), proxy: proxy(cluster(hosts: 1)),
            services: [ServiceModel(cluster: "svc", behaviour: HostBehaviour(workers: 1, serviceTime: .exponential(mean: 0.001)))],
            clients: [ClientModel(name: "c", arrivals: .poisson(rate: 800), mix: [CallTemplate(attributes: [KeyValue("method", "get")])], payloadSize: .constant(100))],
            timeSeriesInterval: .seconds(10), bypassProxy: true)
    }

    /// Ten hosts of 8 workers at 50 % load behind the real core, 20,000 calls a second for 50 s.
    static func coreInTheLoop() -> SimulationConfiguration {
        SimulationConfiguration(
            seed: 1, duration: .seconds(50), proxy: proxy(cluster(hosts: 10)),
            services: [ServiceModel(cluster: "svc", behaviour: HostBehaviour(workers: 8, serviceTime: .exponential(mean: 0.002)))],
            network: NetworkModel(proxyToHost: LinkModel(latency: .constant(0.0002))),
            clients: [ClientModel(name: "c", arrivals: .poisson(rate: 20_000), mix: [CallTemplate(attributes: [KeyValue("method", "get")])], payloadSize: .constant(1024))])
    }

    /// A thousand hosts, 100,000 calls a second for 10 s, with outlier detection and retries;
    /// ten hosts crash and come back, ten slow down, five are cut off, and latency spikes.
    static func thousandHostsWithFaults() -> SimulationConfiguration {
        let hosts = cluster(hosts: 1000, outlier: OutlierDetectionPolicy(maxEjectionPercent: 20))
        var faults: [FaultEvent] = []
        for i in 0..<10 {
            faults.append(FaultEvent(at: .milliseconds(1000 + 300 * i), .crash(host: hosts.hosts[i * 97].address)))
            faults.append(FaultEvent(at: .milliseconds(5000 + 300 * i), .restart(host: hosts.hosts[i * 97].address)))
            faults.append(FaultEvent(at: .milliseconds(2000 + 200 * i), .slowDown(host: hosts.hosts[i * 89 + 1].address, factor: 10)))
        }
        for i in 0..<5 {
            faults.append(FaultEvent(at: .seconds(3), .partition(host: hosts.hosts[i * 131 + 2].address)))
            faults.append(FaultEvent(at: .seconds(6), .heal(host: hosts.hosts[i * 131 + 2].address)))
        }
        faults.append(FaultEvent(at: .seconds(7), .addedLatency(seconds: 0.02)))
        faults.append(FaultEvent(at: .seconds(8), .addedLatency(seconds: 0)))
        return SimulationConfiguration(
            seed: 1, duration: .seconds(10),
            proxy: proxy(hosts, retry: RetryPolicy(numRetries: 2, retryOn: .default.union(.perTryTimeout), perTryTimeout: .milliseconds(200))),
            services: [ServiceModel(cluster: "svc", behaviour: HostBehaviour(workers: 4, serviceTime: .lognormal(mean: 0.01, standardDeviation: 0.01)))],
            network: NetworkModel(clientToProxy: LinkModel(latency: .constant(0.0001)), proxyToHost: LinkModel(latency: .uniform(low: 0.0002, high: 0.0008))),
            clients: [ClientModel(name: "viewers", arrivals: .poisson(rate: 100_000), mix: [CallTemplate(attributes: [KeyValue("method", "get")])], payloadSize: .constant(512))],
            faults: faults)
    }
}

extension Duration {
    fileprivate var inSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
