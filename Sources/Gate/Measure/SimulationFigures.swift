import Foundation
import Runner
import Simulation
import Workload

/// The simulator's figures of each workload of a suite: every workload is simulated twice with
/// its seed, and the two runs must be identical (trace hash and counts) before any figure counts.
public enum SimulationFigures {
    /// The metrics of one workload, not yet judged.
    public static func measure(_ file: String, tolerance: Double) throws -> [GateMetric] {
        let script: WorkloadScript
        do { script = try WorkloadReader.read(file: file) } catch { throw GateError.usage("\(error)") }
        let configuration = script.simulationConfiguration(seed: script.seed)
        let runs = try Simulation.runAll([configuration, configuration])
        let (a, b) = (runs[0], runs[1])
        let name = script.name
        let same = a.traceHash == b.traceHash && a.calls == b.calls && a.eventsDispatched == b.eventsDispatched
        var metrics = [
            GateMetric(name: "\(name): same seed, same trace", group: .simulation, unit: "", value: same ? 1 : 0, tolerance: 0, direction: .exact, samples: 2,
                       verdict: same ? .pass : .fail,
                       detail: same ? "two runs of seed \(script.seed): trace hash \(String(format: "%016llx", a.traceHash)) both times"
                           : "two runs of seed \(script.seed) differ: trace hash \(String(format: "%016llx", a.traceHash)) then \(String(format: "%016llx", b.traceHash))"),
        ]
        let answered = Double(a.calls.answered)
        let notSuccess = answered > 0 ? Double(a.calls.answered - a.calls.success) / answered : 0
        metrics.append(GateMetric(name: "\(name): calls answered", group: .simulation, unit: "calls", value: answered, tolerance: tolerance,
                                  direction: .higherIsBetter, samples: a.calls.sent))
        metrics.append(GateMetric(name: "\(name): answers not success", group: .simulation, unit: "share", value: notSuccess, tolerance: tolerance,
                                  direction: .lowerIsBetter, samples: a.calls.answered))
        for p in [50.0, 99.0, 99.9] where a.latency.totalCount > 0 {
            let value = Double(a.latency.valueAtPercentile(p)) / 1e3
            metrics.append(GateMetric(name: "\(name): p\(GateFormat.number(p)) latency", group: .simulation, unit: "µs", value: value, tolerance: tolerance,
                                      direction: .lowerIsBetter, samples: Int(a.latency.totalCount)))
        }
        return metrics
    }
}
