import Foundation
import MetaProtocol

/// Reloads listeners when their configuration files change on disk: reads the files every
/// `interval` and compares their bytes; a listener whose files changed reloads them all
/// (refused whole when they do not load or compile, the configuration in force kept).
///
/// Made for the ways files change under a running proxy:
/// - **A Kubernetes ConfigMap volume** swaps a `..data` symlink to a new directory in one
///   rename. Files are read through their links (their bytes are compared, not `lstat`), so the
///   swap is one change and one reload.
/// - **A file written in place** can be caught part-way. A change is reloaded only once two
///   looks in a row read the same bytes (the files have settled for one interval), and the
///   bytes loaded are the bytes compared: a listener's files are read together, once per look,
///   so a reload never mixes a file from before a change with one from after it.
public enum ConfigurationWatcher {
    /// Watches until the task is cancelled, telling `report` each reload's outcome (the
    /// listener's index, then its warnings or why it was refused).
    ///
    /// A change counts from `baseline` (the files as they were when the listeners loaded them,
    /// ``stamps(_:)`` of each listener's files), so that a change made before the watch's
    /// first look is not missed; by default, from the first look.
    public static func watch(_ listeners: [(files: [String], proxy: ManagedProxy)], interval: Duration = .seconds(1), baseline: [[String?]]? = nil,
                             report: @escaping @Sendable (Int, Result<[String], Error>) -> Void) async {
        // What each listener last loaded (or refused), and what the look before this one read.
        var loaded = baseline ?? listeners.map { stamps($0.files) }
        var previousLook = loaded
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            for (i, listener) in listeners.enumerated() {
                let contents = listener.files.map { FileManager.default.contents(atPath: $0) }
                let look = contents.map(stamp)
                defer { previousLook[i] = look }
                guard look != loaded[i], look == previousLook[i] else { continue }
                loaded[i] = look
                do {
                    let texts = try zip(listener.files, contents).map { path, data in
                        guard let data else { throw WatchError.unreadable(path) }
                        guard let text = String(data: data, encoding: .utf8) else { throw WatchError.notUTF8(path) }
                        return (name: path, text: text)
                    }
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
        files.map { stamp(FileManager.default.contents(atPath: $0)) }
    }

    private static func stamp(_ data: Data?) -> String? {
        data.map { "\($0.count)/\(String(XXHash64.hash(Array($0)), radix: 16))" }
    }

    /// Why a changed file could not be reloaded.
    public enum WatchError: Error, CustomStringConvertible {
        case unreadable(String)
        case notUTF8(String)

        public var description: String {
            switch self {
            case .unreadable(let path): "\(path): cannot be read (removed, or its link points nowhere); the configuration in force keeps serving"
            case .notUTF8(let path): "\(path): not UTF-8 text; the configuration in force keeps serving"
            }
        }
    }
}
