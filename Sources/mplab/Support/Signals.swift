import Foundation

/// Waiting for a termination signal.
enum Signals {
    /// Returns the first of `signals` the process receives (they no longer end it by default).
    /// A second one while the first is handled (a drain that takes long) quits at once, as a
    /// user pressing Ctrl-C twice means: exit status 128 + the signal, nothing drained.
    static func wait(for signals: [Int32]) async -> Int32 {
        let queue = DispatchQueue(label: "mplab.signals")
        return await withCheckedContinuation { continuation in
            let once = Once()
            var sources: [DispatchSourceSignal] = []
            for s in signals {
                signal(s, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: s, queue: queue)
                source.setEventHandler {
                    if once.first() {
                        continuation.resume(returning: s)
                    } else {
                        FileHandle.standardError.write(Data("second signal \(s): quitting without draining\n".utf8))
                        exit(128 + s)
                    }
                }
                source.resume()
                sources.append(source)
            }
            SignalSources.keep(sources)
        }
    }

    private final class Once: @unchecked Sendable {
        private var done = false
        private let lock = NSLock()
        func first() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            if done { return false }
            done = true
            return true
        }
    }

    /// Keeps the signal sources alive for the life of the process.
    private enum SignalSources {
        nonisolated(unsafe) static var all: [DispatchSourceSignal] = []
        static func keep(_ sources: [DispatchSourceSignal]) { all += sources }
    }
}
