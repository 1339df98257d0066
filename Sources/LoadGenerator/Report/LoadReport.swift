import Results
import TrafficModel

/// What a load run measured, with the plan that produced it.
public struct LoadReport: Sendable {
    public var plan: LoadPlan
    /// All workers' figures, merged.
    public var figures: LoadFigures
    public var perWorker: [LoadFigures]
    /// Wall-clock time from the first send to the last answer or timeout.
    public var elapsed: Duration

    /// Seconds of the schedule that are measured: the duration less the warm-up, or, for a run
    /// that stopped at its request limit, up to its last scheduled call.
    public var measuredSeconds: Double {
        let end = plan.requestLimit == nil ? plan.duration.nanoseconds : min(plan.duration.nanoseconds, figures.lastScheduled + 1)
        return max(1e-9, Double(end - plan.warmUp.nanoseconds) / 1e9)
    }

    /// Calls per second the schedule asked for, that left, and that were answered.
    public var attemptedRate: Double { Double(figures.attempted) / measuredSeconds }
    public var achievedRate: Double { Double(figures.calls.sent) / measuredSeconds }
    public var answeredRate: Double { Double(figures.calls.answered) / measuredSeconds }

    /// How the plan paced its calls, in words.
    public var pacingDescription: String {
        switch plan.pacing {
        case .openLoop(let arrivals): "open loop, \(arrivals)"
        case .closedLoop: "closed loop, \(plan.depth) in flight per connection"
        }
    }

    /// The run as a versioned result.
    public func runResult(provenance: Provenance) -> RunResult {
        let openLoop = if case .openLoop = plan.pacing { true } else { false }
        let latency = LatencyMeasurement(clock: .monotonic, from: openLoop ? "the call's intended send time" : "the call's send", to: "its answer read by the client",
                                         note: openLoop ? "open loop: a stall delays the schedule, never hides from it (no coordinated omission)" : "closed loop: no schedule")
        let service = LatencyMeasurement(clock: .monotonic, from: "the call's actual send", to: "its answer read by the client")
        let lag = LatencyMeasurement(clock: .monotonic, from: "the call's intended send time", to: "its actual send",
                                     note: "how far the generator fell behind its schedule")
        return RunResult(
            provenance: provenance, driver: .sockets,
            window: MeasuredWindow(warmUpSeconds: plan.warmUp.seconds, durationSeconds: plan.duration.seconds, endedAtSeconds: elapsed.seconds),
            calls: figures.calls,
            latencies: [LatencyFigure(name: "latency", measurement: latency, distribution: figures.latency),
                        LatencyFigure(name: "service time", measurement: service, distribution: figures.serviceTime),
                        LatencyFigure(name: "schedule lag", measurement: lag, distribution: figures.scheduleLag)],
            counters: [CounterGroup(name: "load generator", counters: figures.namedCounters)],
            load: LoadFacts(protocolName: plan.protocolName, target: "\(plan.host):\(plan.port)", pacing: pacingDescription, connections: plan.connections,
                            depth: plan.depth, workers: plan.workers, attemptedRate: attemptedRate, achievedRate: achievedRate, answeredRate: answeredRate,
                            elapsedSeconds: elapsed.seconds))
    }
}
