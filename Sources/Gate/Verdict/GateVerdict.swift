/// A metric's verdict, and the gate's as a whole (as Chromium's Pinpoint: pass, fail, or
/// not enough evidence either way).
public enum GateVerdict: String, Codable, Sendable, Hashable {
    case pass
    /// A regression beyond the tolerance or minimum effect.
    case fail
    /// Better than the baseline by more than the tolerance: the baseline should be updated.
    case improved
    /// Not enough evidence either way after the most rounds allowed, or nothing to compare
    /// with; never fails a build.
    case inconclusive
    /// An absolute bound broken on a machine not declared dedicated: reported, never failing.
    case warning

    /// The gate's verdict over all its metrics: any failure fails it; otherwise improvements
    /// call for a new baseline; otherwise it passes (inconclusive and warned metrics are
    /// reported, not held against the build).
    public static func overall(_ verdicts: [GateVerdict]) -> GateVerdict {
        if verdicts.contains(.fail) { return .fail }
        if verdicts.contains(.improved) { return .improved }
        return .pass
    }

    /// package-benchmark's exit codes: 0 pass, 2 regression, 4 improvement only (1, an error, is
    /// the caller's).
    public var exitCode: Int32 {
        switch self {
        case .fail: 2
        case .improved: 4
        case .pass, .inconclusive, .warning: 0
        }
    }
}
