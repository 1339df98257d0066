import Foundation

/// Third-party test peers run as processes: their standard output, or a failure that says why.
enum PeerProcess {
    struct Failed: Error, CustomStringConvertible { var description: String }

    /// Runs `executable` (an absolute path, or a name looked up on PATH) with `arguments` to the
    /// end, on a thread of its own (never one of Swift concurrency's few, which the other tests
    /// need); its standard output when it exits 0.
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try runHere(executable, arguments) }) }
        }
    }

    /// ``run(_:_:)`` on the calling thread.
    static func runHere(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(filePath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(description: "\(executable) exited \(process.terminationStatus): \(stdout)\(stderr)") }
        return stdout
    }
}

/// A third-party peer that keeps running while a test talks to it: its standard output read
/// line by line as it comes, its standard input held open until ``stop()``.
final class RunningPeer: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let lock = NSLock()
    private var lines: [String] = []

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(filePath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        process.standardInput = input
        try process.run()
        // A thread of its own, never one of Swift concurrency's few.
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    lock.withLock { lines.append(line) }
                }
            }
        }
    }

    /// The lines printed so far.
    var output: [String] { lock.withLock { lines } }

    /// The first line starting with `prefix`, waiting up to `limit` for it.
    func line(startingWith prefix: String, limit: Duration = .seconds(600)) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while true {
            if let line = output.first(where: { $0.hasPrefix(prefix) }) { return line }
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw PeerProcess.Failed(description: "no line starting \"\(prefix)\" (exited: \(!process.isRunning)); printed: \(output)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Closes its standard input (the peer's cue to exit) and waits for it.
    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
