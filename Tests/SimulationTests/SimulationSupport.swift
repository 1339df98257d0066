import MetaProtocol
import TrafficModel
@testable import Simulation

/// Whether the tests were built with optimizations: the heavy statistical checks run only then
/// (`scripts/test` runs them with `swift test -c release`).
let isOptimizedBuild: Bool = {
    #if DEBUG
    return false
    #else
    return true
    #endif
}()

enum Scenarios {
    /// One cluster `svc` of `hosts` hosts behind a single route; `clients` call `method`.
    static func simple(seed: UInt64 = 1, hosts: Int = 3, behaviour: HostBehaviour = HostBehaviour(), rate: Double = 100, duration: Duration = .seconds(10),
                       lb: LoadBalancerPolicy = .roundRobin, breaker: CircuitBreakerThresholds = .init(), bypass: Bool = false,
                       arrivals: ArrivalProcess? = nil) -> SimulationConfiguration {
        let cluster = ClusterConfiguration(name: "svc", hosts: (0..<hosts).map { HostConfiguration(address: "10.0.0.\($0):9000") },
                                           loadBalancer: lb, circuitBreaker: breaker)
        return SimulationConfiguration(
            seed: seed, duration: duration,
            proxy: ProxyConfiguration(protocolName: "sim", routes: [RouteConfiguration(name: "all", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(3600))],
                                      clusters: [cluster]),
            services: [ServiceModel(cluster: "svc", behaviour: behaviour)],
            clients: [ClientModel(name: "c", arrivals: arrivals ?? .poisson(rate: rate), mix: [CallTemplate(attributes: [KeyValue("method", "get")])], payloadSize: .constant(100))],
            bypassProxy: bypass)
    }
}
