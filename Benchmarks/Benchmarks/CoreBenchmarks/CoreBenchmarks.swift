import Benchmark
import Gate
import MetaProtocol
import NIOCore

/// The proxy core's costs: the decision path (route match among 50 routes, host pick among 1000
/// hosts for each balancer, circuit-breaker admission, token bucket) and the full lifecycle of a
/// request through the core with a transport that does nothing.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .mallocBytesCount],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    for (name, policy) in [("round robin", LoadBalancerPolicy.roundRobin), ("random", .random), ("least request", .leastRequest()),
                           ("ring hash", .ringHash()), ("maglev", .maglev())] {
        Benchmark("Decision: 50 routes, 1000 hosts, \(name)") { benchmark in
            var decision = DecisionPath(policy: policy)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(decision.decide()) }
        }
    }

    Benchmark("Lifecycle: request through the core, null transport") { benchmark in
        // Warm up first: connections to the 100 hosts opened, stats entries made. What is
        // measured is the steady state a proxy spends its life in.
        let driver = NullDriver()
        for _ in 0..<2_000 { driver.roundTrip() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { driver.roundTrip() }
        benchmark.stopMeasurement()
        precondition(driver.core.counters.upstreamResponses == driver.core.counters.accepted, "every request must be answered")
    }
}
