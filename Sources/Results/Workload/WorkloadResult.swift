import Foundation

/// What `mplab run` produced for one workload: each part it ran (the simulation, its
/// replications, the real-socket run, the overhead round) as a ``RunResult``, the verdict of
/// every expectation, and simulated-vs-real comparisons. It is the `result.json` of a report
/// folder, and everything a report is rendered from: `mplab report DIR` needs nothing else.
public struct WorkloadResult: Codable, Sendable, Equatable {
    /// The version of this schema; a reader refuses a newer one.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var workload: String
    /// The workload's one-line description.
    public var summary: String
    /// `simulate`, `real` or `both`.
    public var mode: String
    public var provenance: Provenance
    /// False when the run was interrupted: what was measured is kept, and says so.
    public var complete: Bool
    /// Every value the run used, defaults included (`mplab run --dry-run`'s text).
    public var resolvedConfiguration: String
    public var parts: [RunPart]
    public var expectations: [ExpectationOutcome]
    /// Figures over replications (mean with a 95 % interval) and simulated-vs-real ratios.
    public var figures: [Figure]
    public var comparisons: [Comparison]
    public var warnings: [String]

    public init(workload: String, summary: String, mode: String, provenance: Provenance, complete: Bool = true, resolvedConfiguration: String,
                parts: [RunPart] = [], expectations: [ExpectationOutcome] = [], figures: [Figure] = [], comparisons: [Comparison] = [],
                warnings: [String] = []) {
        schemaVersion = Self.currentSchemaVersion
        self.workload = workload
        self.summary = summary
        self.mode = mode
        self.provenance = provenance
        self.complete = complete
        self.resolvedConfiguration = resolvedConfiguration
        self.parts = parts
        self.expectations = expectations
        self.figures = figures
        self.comparisons = comparisons
        self.warnings = warnings
    }

    /// Whether every expectation held (and the run completed).
    public var passed: Bool { complete && expectations.allSatisfy(\.passed) }

    /// The part named `name`, if the run has it.
    public func part(_ role: RunPart.Role) -> RunPart? { parts.first { $0.role == role } }

    /// As JSON, keys sorted: the same result always gives the same bytes.
    public func encoded() throws -> Data { try VersionedJSON.encode(self) }

    /// Reads a result written by ``encoded()``, refusing one of a newer schema.
    public static func decode(_ data: Data) throws -> WorkloadResult {
        try VersionedJSON.decode(WorkloadResult.self, from: data, supported: currentSchemaVersion)
    }
}

/// One part of a workload run.
public struct RunPart: Codable, Sendable, Equatable {
    public enum Role: String, Codable, Sendable {
        /// The simulation (the first replication when there are several).
        case simulated
        /// A further replication (seed + i).
        case replication
        /// The workload on real sockets: `mplab serve`, `mplab proxy`, the load generator.
        case real
        /// Direct vs proxy vs HAProxy per payload size.
        case overhead
    }

    public var role: Role
    /// `simulated`, `replication 2 (seed 44)`, `real`, `overhead`.
    public var name: String
    public var result: RunResult

    public init(role: Role, name: String, result: RunResult) {
        self.role = role
        self.name = name
        self.result = result
    }
}

/// The verdict on one expectation, on one driver's result.
public struct ExpectationOutcome: Codable, Sendable, Hashable {
    /// As written in the workload.
    public var expectation: String
    /// Which result it was checked on: `simulated`, `real`, `overhead`, `real / simulated`.
    public var subject: String
    /// What was measured, as a number (seconds for durations) and as people read it.
    public var measured: Double?
    public var measuredText: String
    public var expectedText: String
    public var passed: Bool
    /// Why it could not be checked (a figure the result lacks), when it could not; it fails.
    public var problem: String?
    /// Where it is written in the workload.
    public var line: Int?

    public init(expectation: String, subject: String, measured: Double?, measuredText: String, expectedText: String, passed: Bool,
                problem: String? = nil, line: Int? = nil) {
        self.expectation = expectation
        self.subject = subject
        self.measured = measured
        self.measuredText = measuredText
        self.expectedText = expectedText
        self.passed = passed
        self.problem = problem
        self.line = line
    }
}

/// A figure of the simulation and of the real run side by side.
public struct Comparison: Codable, Sendable, Hashable {
    public var name: String
    public var unit: String
    public var simulated: Double
    public var real: Double
    /// real / simulated (nil when the simulated value is 0).
    public var ratio: Double?

    public init(name: String, unit: String, simulated: Double, real: Double) {
        self.name = name
        self.unit = unit
        self.simulated = simulated
        self.real = real
        ratio = simulated == 0 ? nil : real / simulated
    }
}
