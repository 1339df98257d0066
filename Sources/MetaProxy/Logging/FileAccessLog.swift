import Dispatch
import Foundation
import MetaProtocol
import NIOConcurrencyHelpers

/// An access log written to a file (or standard output) off the core loops: lines are gathered
/// as requests finish and handed in batches to a queue of their own for writing, so a slow disk
/// never stalls requests. ``flush()`` hands over what is gathered (the proxy does every 250 ms
/// and at shutdown).
///
/// One log serves every listener, each on its own loop, so what is gathered sits behind a lock.
/// The log costs lines, never the process: a failed write (a full disk, a reader that went
/// away) drops its batch, counted in ``writeErrors`` and ``droppedLines``; and when the disk
/// falls behind, no more than ``maxBacklogBytes`` wait for it, the batches past that dropped
/// and counted the same way.
public final class FileAccessLog: AccessLogSink, @unchecked Sendable {
    /// Bytes handed to the writer and not yet written, past which batches are dropped.
    public static let maxBacklogBytes = 16 << 20
    static let batchLines = 512

    private struct State {
        var pending: [String] = []
        var backlogBytes = 0
        var droppedLines = 0
        var writeErrors = 0
        var lastError: String?
    }

    private let handle: FileHandle
    private let path: String
    private let queue = DispatchQueue(label: "mplab.access-log")
    private let state = NIOLockedValueBox(State())

    /// Appends to `path`, creating it; `-` is standard output.
    public convenience init(path: String) throws {
        if path == "-" {
            self.init(handle: .standardOutput, path: "standard output")
            return
        }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        h.seekToEndOfFile()
        self.init(handle: h, path: path)
    }

    /// Writes to an open handle; `path` names it in the warning a failed write prints.
    init(handle: FileHandle, path: String) {
        self.handle = handle
        self.path = path
        // A pipe whose reader has gone would end the process with SIGPIPE at the next write;
        // ignored, the write fails with EPIPE and costs only its lines. (Sockets are written
        // with MSG_NOSIGNAL and do not need this.)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Lines dropped: their write failed, or the backlog was full.
    public var droppedLines: Int { state.withLockedValue { $0.droppedLines } }
    /// Writes that failed (each dropped its whole batch).
    public var writeErrors: Int { state.withLockedValue { $0.writeErrors } }

    public func log(_ entry: AccessLogEntry) {
        let line = entry.line
        let full = state.withLockedValue { s in
            s.pending.append(line)
            return s.pending.count >= Self.batchLines
        }
        if full { flush() }
    }

    public func flush() {
        let batch: (data: Data, lines: Int)? = state.withLockedValue { s in
            guard !s.pending.isEmpty else { return nil }
            let data = Data((s.pending.joined(separator: "\n") + "\n").utf8)
            let lines = s.pending.count
            s.pending.removeAll(keepingCapacity: true)
            guard s.backlogBytes + data.count <= Self.maxBacklogBytes else {
                s.droppedLines += lines
                return nil
            }
            s.backlogBytes += data.count
            return (data, lines)
        }
        guard let batch else { return }
        queue.async { [self] in
            var failure: String?
            do {
                try handle.write(contentsOf: batch.data)
            } catch {
                failure = "\(error)"
            }
            let first = state.withLockedValue { s in
                s.backlogBytes -= batch.data.count
                guard let failure else { return false }
                s.writeErrors += 1
                s.droppedLines += batch.lines
                defer { s.lastError = failure }
                return s.lastError == nil
            }
            if first, let failure {
                try? FileHandle.standardError.write(contentsOf: Data("mplab: access log \(path): write failed (\(failure)); lines are dropped and counted while it fails\n".utf8))
            }
        }
    }

    /// Waits until everything handed over is written.
    public func drain() { queue.sync {} }
}
