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
