import Foundation

/// The baseline build's `mplab`, built by the gate from a git revision: the revision's tree is
/// exported (`git archive`, no worktree left registered) under `.build/gate/<commit>/` and built
/// in release once; later runs reuse it.
public enum BaselineBuild {
    /// The release `mplab` of `revision` in the repository at `repository`.
    public static func mplab(revision: String, repository: String, log: @Sendable (String) -> Void) throws -> String {
        let commit = try Command.check(["git", "-C", repository, "rev-parse", "--verify", "\(revision)^{commit}"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let folder = (repository as NSString).appendingPathComponent(".build/gate/\(commit.prefix(12))")
        let source = (folder as NSString).appendingPathComponent("source")
        let binary = (source as NSString).appendingPathComponent(".build/release/mplab")
        if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        try? FileManager.default.removeItem(atPath: source)
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        log("building the baseline \(commit.prefix(12)) in release (once; about 5 minutes on 2 cores)")
        let archive = (folder as NSString).appendingPathComponent("source.tar")
        _ = try Command.check(["git", "-C", repository, "archive", "--format=tar", "-o", archive, commit])
        _ = try Command.check(["tar", "-xf", archive, "-C", source])
        try? FileManager.default.removeItem(atPath: archive)
        _ = try Command.check(["swift", "build", "-c", "release", "--product", "mplab"], environment: ["MPLAB_BUILD": String(commit.prefix(12))], directory: source)
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw GateError.badOutput("the baseline build", "no \(binary)") }
        return binary
    }
}
