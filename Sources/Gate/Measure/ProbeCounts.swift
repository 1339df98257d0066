import Foundation

/// Instructions and allocations per request of the hot-path probes, each probe run as a child
/// process (`mplab-probe`) so that what one costs never leaks into another's count.
public struct ProbeCounter: Sendable {
    /// The `mplab-probe` executable whose probes are counted.
    public var executable: String
    /// A copy of it without DWARF sections, which valgrind 3.19 cannot read from Swift's
    /// compiler (it gives up on the whole program); the symbol table, which is all callgrind's
    /// `--toggle-collect` needs, stays.
    var stripped: String?
    public var injection: HotPathProbe.Injection

    public init(executable: String, injection: HotPathProbe.Injection = .init()) {
        self.executable = executable
        self.injection = injection
    }

    /// `mplab-probe` next to `mplab` (both are products of the package).
    public static func executable(besides mplab: String) throws -> String {
        let path = ((mplab as NSString).deletingLastPathComponent as NSString).appendingPathComponent("mplab-probe")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw GateError.missingTool(path, "build it with swift build --product mplab-probe; scripts/mplab does")
        }
        return path
    }

    /// This counter with a stripped copy of the probe in `folder`, ready for callgrind.
    public func forCallgrind(in folder: String) throws -> ProbeCounter {
        guard (try? Command.run(["valgrind", "--version"]))?.status == 0 else {
            throw GateError.missingTool("valgrind", "scripts/setup installs it")
        }
        var copy = self
        let path = (folder as NSString).appendingPathComponent("mplab-probe")
        _ = try Command.check(["objcopy", "--strip-debug", executable, path])
        copy.stripped = path
        return copy
    }

    /// Swift seeds its hash function per process unless told not to; a dictionary's probe
    /// sequence, and so the instruction count, would vary from run to run.
    static let environment = ["SWIFT_DETERMINISTIC_HASHING": "1"]

    func arguments(_ probe: String, iterations: Int, allocations: Bool) -> [String] {
        var a = [allocations ? executable : stripped ?? executable, probe, "--iterations", "\(iterations)"]
        if allocations { a.append("--allocations") }
        if injection.copyFrames { a.append("--inject-copy") }
        if injection.extraWork > 0 { a += ["--inject-work", "\(injection.extraWork)"] }
        return a
    }

    /// Instructions per request under callgrind: only ``HotPathProbe/measured(_:)`` is
    /// collected, so start-up, set-up and warm-up are not counted.
    public func instructions(_ probe: String, iterations: Int) throws -> Double {
        guard stripped != nil else { preconditionFailure("prepare the counter with forCallgrind(in:) first") }
        let out = FileManager.default.temporaryDirectory.appending(path: "mplab-callgrind-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try Command.check(["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=*mplab_gate_measured*",
                               "--callgrind-out-file=\(out)"] + arguments(probe, iterations: iterations, allocations: false),
                              environment: Self.environment)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("totals:") || $0.hasPrefix("summary:") }),
            let total = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { throw GateError.badOutput("callgrind", String(text.suffix(300))) }
        return total / Double(iterations)
    }

    /// Allocations and bytes allocated per request, from jemalloc's counters around the
    /// measured requests (the probe reads them itself; bytes are rounded up to size classes).
    public func allocations(_ probe: String, iterations: Int) throws -> (allocations: Double, bytes: Double) {
        let c = try Command.check(arguments(probe, iterations: iterations, allocations: true), environment: Self.environment)
        guard let data = c.output.split(separator: "\n").last.map({ Data($0.utf8) }),
            let line = try? JSONDecoder().decode(ProbeReport.self, from: data), let allocations = line.allocations, let bytes = line.bytes
        else { throw GateError.badOutput("mplab-probe \(probe)", c.output + c.errors) }
        return (Double(allocations) / Double(line.iterations), Double(bytes) / Double(line.iterations))
    }
}

/// What `mplab-probe` prints: one JSON line.
public struct ProbeReport: Codable, Sendable {
    public var probe: String
    public var iterations: Int
    /// jemalloc's allocation requests during the measured iterations (with `--allocations`).
    public var allocations: UInt64?
    public var bytes: UInt64?

    public init(probe: String, iterations: Int, allocations: UInt64? = nil, bytes: UInt64? = nil) {
        self.probe = probe
        self.iterations = iterations
        self.allocations = allocations
        self.bytes = bytes
    }
}
