import Foundation
import Results

/// A recorded baseline (`Reports/baselines/<suite>.json`): the deterministic figures of one
/// build on one machine, and which build and machine they came from — latency is never
/// recorded, since it is measured against the baseline *build* in each run.
public struct GateBaseline: Codable, Sendable {
    public static let currentSchemaVersion = 1

    /// One recorded figure.
    public struct Recorded: Codable, Sendable, Hashable {
        public var name: String
        public var group: GateMetric.Group
        public var unit: String
        public var value: Double
        public var samples: Int
    }

    public var schemaVersion: Int
    public var suite: String
    /// `git describe` of the build the figures came from; the latency comparison builds this
    /// revision (its commit is `revision`).
    public var build: String
    public var revision: String?
    public var machine: Machine
    public var recordedAt: String
    public var commandLine: [String]
    public var metrics: [Recorded]

    public init(suite: String, build: String, revision: String?, machine: Machine, recordedAt: Date, commandLine: [String], metrics: [GateMetric]) {
        schemaVersion = Self.currentSchemaVersion
        self.suite = suite
        self.build = build
        self.revision = revision
        self.machine = machine
        self.recordedAt = ISO8601DateFormatter().string(from: recordedAt)
        self.commandLine = commandLine
        self.metrics = metrics.filter { $0.group != .latency && $0.group != .absolute && $0.direction != .exact }
            .map { Recorded(name: $0.name, group: $0.group, unit: $0.unit, value: $0.value, samples: $0.samples) }
    }

    public func value(of name: String) -> Double? { metrics.first { $0.name == name }?.value }

    /// The commit checked out in the current directory's clone (what a baseline recorded now
    /// names, and the latency comparison later builds); nil outside a clone.
    public static func currentRevision() -> String? {
        guard let c = try? Command.run(["git", "rev-parse", "HEAD"]), c.status == 0 else { return nil }
        let text = c.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    public static func read(_ path: String) throws -> GateBaseline {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw GateError.badBaseline(path, "cannot read it (record one with mplab gate --update-baseline): \(error.localizedDescription)")
        }
        let baseline: GateBaseline
        do { baseline = try JSONDecoder().decode(GateBaseline.self, from: data) } catch { throw GateError.badBaseline(path, "not a gate baseline: \(error)") }
        guard baseline.schemaVersion == currentSchemaVersion else {
            throw GateError.badBaseline(path, "schema version \(baseline.schemaVersion); this build reads \(currentSchemaVersion)")
        }
        return baseline
    }

    public func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try (encoder.encode(self) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path))
    }
}
