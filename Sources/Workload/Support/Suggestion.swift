/// "Did you mean …?" for a misspelt name: the closest of the names a place accepts, when it is
/// close enough to be a likely typo (an edit distance of at most a third of the name, and 2 or
/// more for names of 4 letters or more).
enum Suggestion {
    /// The candidate `name` most probably meant, if any is close.
    static func closest(to name: String, in candidates: [String]) -> String? {
        let lower = Array(name.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let d = distance(lower, Array(candidate.lowercased()))
            if d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        guard let best, best.distance > 0 || name != best.candidate else { return nil }
        let allowed = max(1, min(3, max(name.count, best.candidate.count) / 3))
        return best.distance <= allowed ? best.candidate : nil
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    /// neighbours each cost one (the usual typos).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], previous2[j - 2] + 1) }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
