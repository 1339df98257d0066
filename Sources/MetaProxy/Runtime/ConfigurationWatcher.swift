import Foundation
import MetaProtocol

/// Reloads listeners when their configuration files change on disk: reads the files every
/// `interval` and compares their bytes; a listener whose files changed reloads them all
/// (refused whole when they do not load or compile, the configuration in force kept).
public enum ConfigurationWatcher {
    /// Watches until the task is cancelled, telling `report` each reload's outcome (the
    /// listener's index, then its warnings or why it was refused).
    ///
    /// A change counts from `baseline` (the files as they were when the listeners loaded them,
    /// ``stamps(_:)`` of each listener's files), so that a change made before the watch's
    /// first look is not missed; by default, from the first look.
    public static func watch(_ listeners: [(files: [String], proxy: ManagedProxy)], interval: Duration = .seconds(1), baseline: [[String?]]? = nil,
                             report: @escaping @Sendable (Int, Result<[String], Error>) -> Void) async {
        var last = baseline ?? listeners.map { stamps($0.files) }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            for (i, listener) in listeners.enumerated() {
                let now = stamps(listener.files)
                guard now != last[i] else { continue }
                last[i] = now
                do {
                    let texts = try listener.files.map { (name: $0, text: try String(contentsOfFile: $0, encoding: .utf8)) }
                    report(i, .success(try await listener.proxy.reload(texts)))
                } catch {
                    report(i, .failure(error))
                }
            }
        }
    }

    /// Each file's size and a hash of its bytes (nil for a file that cannot be read). The bytes,
    /// not the modification time: two writes within one tick of the file system's clock leave
    /// the same time, and an edit that keeps the size would go unseen.
    public static func stamps(_ files: [String]) -> [String?] {
        files.map { path in
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            return "\(data.count)/\(String(XXHash64.hash(Array(data)), radix: 16))"
        }
    }
}
