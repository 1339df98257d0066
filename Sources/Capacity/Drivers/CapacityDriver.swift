import Foundation
import Results
import Simulation
import TrafficModel
import Workload

/// One way of measuring a workload for the capacity study: the simulator, or real sockets.
/// It measures an open-loop point (an offered rate, several times for a 95 % bound) and a
/// closed-loop level (a number of callers, for the Universal Scalability Law).
public protocol CapacityDriver: Sendable {
    /// `simulated` or `real`.
    var name: String { get }
    /// How each point is measured, in words, for the report.
    var method: String { get }
    /// The workload's calls at `rate` calls per second in all, judged by `objective`.
    func measure(rate: Double, objective: CapacityResult.Objective) async throws -> CapacityResult.Point
    /// Calls per second answered with success by `callers` callers in a closed loop.
    func closedLoop(callers: Int) async throws -> Double
}

extension CapacityDriver {
    /// A point from each repetition's percentile, median, success and error counts.
    static func point(rate: Double, percentiles: [Double], medians: [Double], success: Int, sent: Int, seconds: Double,
                      objective: CapacityResult.Objective) -> CapacityResult.Point {
        let interval = ConfidenceInterval(percentiles)
        let errorShare = sent == 0 ? 1 : Double(sent - min(success, sent)) / Double(sent)
        let upper = interval.mean + interval.halfWidth
        return CapacityResult.Point(offered: rate, throughput: Double(success) / max(seconds, 1e-9), percentile: interval.mean, percentileUpper: upper,
                                    samples: percentiles, median: medians.reduce(0, +) / Double(max(1, medians.count)), errorShare: errorShare, calls: sent,
                                    passed: CapacitySearch.passes(percentileUpper: upper, errorShare: errorShare, objective: objective), phase: "")
    }
}

extension WorkloadScript {
    /// Each client's share of the workload's offered rate (by its nominal rate).
    var clientShares: [Double] {
        let models = clientModels
        let rates = models.map { $0.concurrency == nil ? $0.arrivals.peakRate : 0 }
        let total = rates.reduce(0, +)
        return total > 0 ? rates.map { $0 / total } : models.map { _ in 1 / Double(max(1, models.count)) }
    }

    /// The clients offering `rate` calls per second in all, each its share, as Poisson arrivals
    /// (constant ones stay constant).
    func clients(offering rate: Double) -> [ClientModel] {
        zip(clientModels, clientShares).map { model, share in
            var m = model
            m.concurrency = nil
            if case .constant = model.arrivals { m.arrivals = .constant(rate: rate * share) } else { m.arrivals = .poisson(rate: rate * share) }
            return m
        }
    }

    /// One closed-loop client of `callers`, calling the workload's mix (the clients' mixes
    /// weighted by their shares) with the first client's payload.
    func closedLoopClient(callers: Int) -> ClientModel {
        let models = clientModels
        var mix: [CallTemplate] = []
        for (model, share) in zip(models, clientShares) {
            let total = model.mix.reduce(0) { $0 + $1.weight }
            for var t in model.mix {
                t.weight = share * t.weight / max(total, 1e-12)
                mix.append(t)
            }
        }
        return ClientModel(name: "closed loop", arrivals: .constant(rate: 1), mix: mix, payloadSize: models.first?.payloadSize ?? .constant(1024),
                           concurrency: callers)
    }
}
