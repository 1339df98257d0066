// The simulator against SimPy on the same model, measured in one run: M/M/1 at ρ = 0.9 with a
// million customers, simulated by SimPy (a Resource and a process per customer, as SimPy's
// documentation teaches), by this engine alone (client straight to the host) and by this engine
// with the real proxy core in the loop. Rounds alternate the three so that a slow moment of the
// machine falls on all of them; the report gives each round's times, the medians and the
// speed-ups (median of the per-round ratios).
//
//     swift run -c release SimPyComparison [rounds]       (from Benchmarks/, after scripts/setup)
//
// For profiling one arm alone: SimPyComparison 1 CUSTOMERS engine|core|simpy.
import Foundation
import MetaProtocol
import Simulation
import TrafficModel

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 3 : 3
let customers = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 1_000_000 : 1_000_000
let arms = CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : "simpy,engine,core"
let rho = 0.9
let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let repository = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let python = repository.appending(path: ".build/venv/bin/python").path
let script = here.deletingLastPathComponent().deletingLastPathComponent().appending(path: "SimPy/mm1.py").path

/// One arm's measurement.
struct Run {
    var seconds: Double
    var customers: Int
    var meanTimeInSystem: Double
}

/// The same M/M/1, for this simulator: one single-worker host with exponential service of mean
/// 1, Poisson arrivals at ρ, for as long as `customers` arrivals take on average.
func model(throughTheCore: Bool) -> SimulationConfiguration {
    let cluster = ClusterConfiguration(name: "svc", hosts: [HostConfiguration(address: "10.0.0.1:9000")],
                                       circuitBreaker: CircuitBreakerThresholds(maxConnections: 1_000_000, maxPendingRequests: 1_000_000, maxRequests: 1_000_000))
    var c = SimulationConfiguration(
        seed: 1, duration: .seconds(Double(customers) / rho), drainLimit: .seconds(1_000_000),
        proxy: ProxyConfiguration(protocolName: "sim", routes: [RouteConfiguration(name: "all", destinations: [RouteDestination(cluster: "svc")], timeout: .seconds(1_000_000))],
                                  clusters: [cluster]),
        services: [ServiceModel(cluster: "svc", behaviour: HostBehaviour(workers: 1, serviceTime: .exponential(mean: 1)))],
        clients: [ClientModel(name: "c", arrivals: .poisson(rate: rho), mix: [CallTemplate(attributes: [KeyValue("method", "get")])], payloadSize: .constant(100))],
        timeSeriesInterval: .seconds(1000), bypassProxy: !throughTheCore)
    c.warmUp = .zero
    return c
}

func ours(throughTheCore: Bool) -> Run {
    let configuration = model(throughTheCore: throughTheCore)
    let start = ContinuousClock.now
    let result = try! Simulation.run(configuration)
    let elapsed = ContinuousClock.now - start
    precondition(result.violations.isEmpty, "\(result.violations.prefix(3))")
    let (s, atto) = elapsed.components
    return Run(seconds: Double(s) + Double(atto) / 1e18, customers: result.calls.answered, meanTimeInSystem: result.meanLatencySeconds)
}

func simpy(seed: Int) -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script, "\(customers)", "\(rho)", "\(seed)"]
    let output = Pipe()
    process.standardOutput = output
    do { try process.run() } catch { fatalError("cannot run \(python) (run scripts/setup first): \(error)") }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let line = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let seconds = line["seconds"] as? Double, let served = line["customers"] as? Int, let mean = line["meanTimeInSystem"] as? Double
    else { fatalError("SimPy failed: \(String(decoding: data, as: UTF8.self))") }
    return Run(seconds: seconds, customers: served, meanTimeInSystem: mean)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

print("M/M/1, rho = \(rho), \(customers) customers; \(rounds) rounds, each SimPy, engine alone, core in the loop")
print("| round | SimPy s | engine s | core s | SimPy/engine | SimPy/core | mean time in system (SimPy, engine, core; theory 10) |")
print("|---|---|---|---|---|---|---|")
var simpyTimes: [Double] = [], engineTimes: [Double] = [], coreTimes: [Double] = [], engineRatios: [Double] = [], coreRatios: [Double] = []
for round in 1...rounds {
    let none = Run(seconds: .nan, customers: 0, meanTimeInSystem: .nan)
    let p = arms.contains("simpy") ? simpy(seed: round) : none
    let e = arms.contains("engine") ? ours(throughTheCore: false) : none
    let c = arms.contains("core") ? ours(throughTheCore: true) : none
    simpyTimes.append(p.seconds)
    engineTimes.append(e.seconds)
    coreTimes.append(c.seconds)
    engineRatios.append(p.seconds / e.seconds)
    coreRatios.append(p.seconds / c.seconds)
    print(String(format: "| %d | %.2f | %.3f | %.3f | %.1f× | %.1f× | %.2f, %.2f, %.2f (%d, %d, %d customers) |", round, p.seconds, e.seconds, c.seconds,
                 p.seconds / e.seconds, p.seconds / c.seconds, p.meanTimeInSystem, e.meanTimeInSystem, c.meanTimeInSystem, p.customers, e.customers, c.customers))
}
print(String(format: "median: SimPy %.2f s, engine %.3f s, core in the loop %.3f s; speed-up %.1f× (engine), %.1f× (core in the loop)",
             median(simpyTimes), median(engineTimes), median(coreTimes), median(engineRatios), median(coreRatios)))
