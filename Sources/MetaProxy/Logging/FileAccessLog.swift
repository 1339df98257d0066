import Dispatch
import Foundation
import MetaProtocol

/// An access log written to a file (or standard output) off the core loop: lines are gathered
/// on the core loop and handed in batches to a queue of their own for writing, so a slow disk
/// never stalls requests. ``flush()`` hands over what is gathered (the proxy does every 250 ms
/// and at shutdown).
public final class FileAccessLog: AccessLogSink, @unchecked Sendable {
    private let handle: FileHandle
    private let queue = DispatchQueue(label: "mplab.access-log")
    /// Lines not yet handed over; touched only on the core loop.
    private var pending: [String] = []

    /// Appends to `path`, creating it; `-` is standard output.
    public init(path: String) throws {
        if path == "-" {
            handle = .standardOutput
        } else {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
            h.seekToEndOfFile()
            handle = h
        }
    }

    public func log(_ entry: AccessLogEntry) {
        pending.append(entry.line)
        if pending.count >= 512 { flush() }
    }

    public func flush() {
        guard !pending.isEmpty else { return }
        let data = Data((pending.joined(separator: "\n") + "\n").utf8)
        pending.removeAll(keepingCapacity: true)
        let handle = handle
        queue.async { handle.write(data) }
    }

    /// Waits until everything handed over is written.
    public func drain() { queue.sync {} }
}
