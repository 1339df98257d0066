import Dispatch
import Foundation
import MetaProtocol

/// Runs simulations: the real MetaProtocol core under virtual time, against synthetic clusters.
public enum Simulation {
    /// Runs one simulation. The same configuration (seed included) on the same build gives the
    /// same result, trace hash included.
    public static func run(_ configuration: SimulationConfiguration) throws -> SimulationResult {
        try World(configuration).run()
    }

    /// Runs `count` replications, the i-th with seed `configuration.seed + i`, in parallel on all
    /// cores when `parallel`. Results come back in replication order, so the outcome does not
    /// depend on how the runs were spread over threads.
    public static func replicate(_ configuration: SimulationConfiguration, count: Int, parallel: Bool = true) throws -> [SimulationResult] {
        try runAll((0..<count).map { i in
            var c = configuration
            c.seed = configuration.seed &+ UInt64(i)
            return c
        }, parallel: parallel)
    }

    /// Runs each configuration, in parallel on all cores when `parallel`; results come back in
    /// the configurations' order.
    public static func runAll(_ configurations: [SimulationConfiguration], parallel: Bool = true) throws -> [SimulationResult] {
        let box = ReplicationBox(count: configurations.count)
        let work: @Sendable (Int) -> Void = { i in box.store(i, Result { try World(configurations[i]).run() }) }
        if parallel {
            DispatchQueue.concurrentPerform(iterations: configurations.count, execute: work)
        } else {
            for i in configurations.indices { work(i) }
        }
        return try box.results()
    }
}

/// Collects replication results from several threads.
private final class ReplicationBox: @unchecked Sendable {
    private var slots: [Result<SimulationResult, Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ i: Int, _ result: Result<SimulationResult, Error>) {
        lock.lock()
        slots[i] = result
        lock.unlock()
    }

    func results() throws -> [SimulationResult] { try slots.map { try $0!.get() } }
}

/// A mean with a 95 % confidence interval over independent replications (Student's t).
public struct ConfidenceInterval: Sendable, Hashable, CustomStringConvertible {
    public var mean: Double
    public var halfWidth: Double
    public var count: Int

    public init(_ values: [Double]) {
        count = values.count
        let m = values.reduce(0, +) / Double(max(1, values.count))
        mean = m
        guard values.count > 1 else {
            halfWidth = .infinity
            return
        }
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
        halfWidth = Self.t975(degreesOfFreedom: values.count - 1) * (variance / Double(values.count)).squareRoot()
    }

    public var lower: Double { mean - halfWidth }
    public var upper: Double { mean + halfWidth }
    public func contains(_ x: Double) -> Bool { x >= lower && x <= upper }

    /// Two-sided 95 % quantile of Student's t.
    static func t975(degreesOfFreedom n: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                               2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        return n <= table.count ? table[n - 1] : 1.96 + 2.4 / Double(n)
    }

    public var description: String { "\(mean) ± \(halfWidth) (n=\(count))" }
}
