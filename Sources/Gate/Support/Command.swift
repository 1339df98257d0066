import Foundation

/// Runs a program to its end and keeps what it printed. (Foundation's `Process`, as the rest of
/// the package runs its children; the gate needs nothing swift-subprocess adds.)
struct Command {
    var status: Int32
    var output: String
    var errors: String

    /// `arguments[0]` is looked up on `PATH`; `environment` adds to (or overrides) this process's.
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> Command {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        // Standard error goes to a file, so a child that fills it never blocks while its output is read.
        let errorFile = FileManager.default.temporaryDirectory.appending(path: "mplab-gate-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let err = try FileHandle(forWritingTo: errorFile)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? err.close()
        let errorData = (try? Data(contentsOf: errorFile)) ?? Data()
        return Command(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self), errors: String(decoding: errorData, as: UTF8.self))
    }

    /// Like ``run(_:environment:directory:)``, failing with what the program printed unless it exits 0.
    static func check(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> Command {
        let c = try run(arguments, environment: environment, directory: directory)
        guard c.status == 0 else {
            throw GateError.commandFailed(arguments.joined(separator: " "), c.status, String((c.errors.isEmpty ? c.output : c.errors).suffix(2000)))
        }
        return c
    }
}

/// Why the gate could not decide (exit 1).
public enum GateError: Error, CustomStringConvertible {
    case commandFailed(String, Int32, String)
    case missingTool(String, String)
    case badOutput(String, String)
    case badBaseline(String, String)
    case usage(String)

    public var description: String {
        switch self {
        case .commandFailed(let c, let s, let text): "`\(c)` exited \(s):\n\(text)"
        case .missingTool(let tool, let how): "\(tool) is not installed (\(how))"
        case .badOutput(let what, let text): "\(what) printed something the gate cannot read: \(text.prefix(500))"
        case .badBaseline(let file, let why): "\(file): \(why)"
        case .usage(let why): why
        }
    }
}
