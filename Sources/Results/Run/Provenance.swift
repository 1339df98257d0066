import Foundation

/// Where a result comes from: the build, the machine, the seed, the workload file and the command
/// that reproduces it. A report states all of it.
public struct Provenance: Codable, Sendable, Hashable {
    /// The build, as `git describe --always --dirty --tags` names it (`unknown` outside a clone).
    public var build: String
    public var machine: Machine
    /// The run's seed (every random stream derives from it by name).
    public var seed: UInt64
    /// The workload file the run read, if it read one.
    public var workload: WorkloadSource?
    /// The command line that reproduces the run, one argument per element.
    public var commandLine: [String]
    /// When a run on real sockets started (ISO 8601, UTC). Nil for a simulation, whose result
    /// depends on nothing but its workload, seed and build.
    public var startedAt: String?

    public init(build: String, machine: Machine, seed: UInt64, workload: WorkloadSource? = nil, commandLine: [String], startedAt: String? = nil) {
        self.build = build
        self.machine = machine
        self.seed = seed
        self.workload = workload
        self.commandLine = commandLine
        self.startedAt = startedAt
    }

    /// This build on this machine, with the process's own command line.
    public static func current(seed: UInt64, workload: WorkloadSource? = nil, commandLine: [String] = CommandLine.arguments,
                               startedAt: Date? = nil) -> Provenance {
        Provenance(build: currentBuild, machine: .current, seed: seed, workload: workload, commandLine: commandLine,
                   startedAt: startedAt.map { ISO8601DateFormatter().string(from: $0) })
    }

    /// The build this process runs: `MPLAB_BUILD` when the launcher set it (`scripts/mplab`
    /// does), else what git says of the clone the sources were built from.
    public static let currentBuild: String = {
        if let given = ProcessInfo.processInfo.environment["MPLAB_BUILD"], !given.isEmpty { return given }
        // This file sits at <clone>/Sources/Results/Run/: four levels up is the clone.
        let clone = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return run(["git", "-C", clone.path, "describe", "--always", "--dirty", "--tags"]) ?? "unknown"
    }()

    /// What a command printed on its standard output (trimmed), or nil if it failed.
    static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}

/// The machine a run ran on.
public struct Machine: Codable, Sendable, Hashable {
    /// Cores the process may use.
    public var cores: Int
    /// The CPU's model name (`/proc/cpuinfo`), `unknown` where it cannot be read.
    public var cpuModel: String
    public var operatingSystem: String

    public init(cores: Int, cpuModel: String, operatingSystem: String) {
        self.cores = cores
        self.cpuModel = cpuModel
        self.operatingSystem = operatingSystem
    }

    /// This machine.
    public static let current: Machine = {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
        return Machine(cores: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model ?? "unknown",
                       operatingSystem: ProcessInfo.processInfo.operatingSystemVersionString)
    }()
}

/// The workload file a run read: where, and a hash of its bytes that changes with any edit.
public struct WorkloadSource: Codable, Sendable, Hashable {
    public var path: String
    /// `xxh64:` and the xxHash64 of the file's bytes, in hexadecimal.
    public var hash: String

    public init(path: String, hash: String) {
        self.path = path
        self.hash = hash
    }
}
