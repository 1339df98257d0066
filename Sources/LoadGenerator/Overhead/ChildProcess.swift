import Foundation

/// A process the harness starts and watches from outside: its output until a line appears, its
/// CPU time and resident memory from `/proc`, and a clean stop.
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    private let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var seen = ""

    /// Starts `arguments[0]` with the rest, pinned to `cores` with `taskset` when given.
    public init(name: String, _ arguments: [String], cores: String? = nil) throws {
        self.name = name
        let command = cores.map { ["taskset", "-c", $0] + arguments } ?? arguments
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.seen += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    /// Everything it printed so far.
    public var printed: String { lock.withLock { seen } }

    /// Waits until it prints something containing `needle`; what it printed by then.
    public func wait(for needle: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = printed
            if text.contains(needle) { return text }
            guard process.isRunning else { throw OverheadFailure.childFailed(name, "exited before saying \"\(needle)\": \(text)") }
            guard ContinuousClock.now < deadline else { throw OverheadFailure.childFailed(name, "did not say \"\(needle)\" in time: \(text)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public var pid: Int32 { process.processIdentifier }

    /// CPU seconds it has run so far, all its threads: the scheduler's own nanosecond account
    /// (`/proc/<pid>/task/*/schedstat`), not the tick-sampled user and system times of
    /// `/proc/<pid>/stat`, which are too coarse for a few thousand calls. (Of the process
    /// `taskset` became: it executes the command in place.)
    public var cpuSeconds: Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var nanoseconds = 0.0
        for task in tasks {
            let line = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8)) ?? ""
            nanoseconds += Double(line.split(separator: " ").first ?? "0") ?? 0
        }
        return nanoseconds / 1e9
    }

    /// Resident memory in bytes, from `/proc/<pid>/status`.
    public var residentBytes: Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    /// Asks it to stop (SIGTERM) and waits.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
    }
}

/// Why the overhead harness could not measure.
public enum OverheadFailure: Error, CustomStringConvertible {
    case childFailed(String, String)
    case calibrationFailed(String)
    case badPlan(String)

    public var description: String {
        switch self {
        case .childFailed(let name, let detail): "\(name): \(detail)"
        case .calibrationFailed(let detail): "calibration: \(detail)"
        case .badPlan(let detail): "overhead plan: \(detail)"
        }
    }
}
