/// Finds the first route whose match holds, without trying every route in turn.
///
/// MetaRouter semantics are "first match wins" over an ordered list. Most route tables
/// discriminate on one attribute with exact matches (`method`, `cmd`, `interface`…), so the
/// table picks the attribute that the most routes match exactly, and precomputes, for each of
/// its values, the routes that can still match a request with that value: the routes expecting
/// exactly that value and the routes that do not test it, in their original order. A request
/// then looks up its value once and tries only those candidates — usually one — so matching
/// costs the same among 5 routes or 500, and the order semantics are unchanged.
struct RouteTable: Sendable {
    let matches: [AttributeMatch]
    /// The attribute most routes match exactly; nil when no route has an exact match.
    let discriminator: String?
    /// By hash of the value's UTF-8 bytes: the value and its candidate routes (ascending).
    private let candidatesByValue: [UInt64: [(value: String, routes: [Int])]]
    /// Candidates for a request whose value is absent or not one any route expects.
    private let otherCandidates: [Int]

    init(_ matches: [AttributeMatch]) {
        self.matches = matches
        var exactCounts: [String: Int] = [:]
        var exactValues: [[String: String]] = []  // per route: attribute → expected value
        for m in matches {
            var exact: [String: String] = [:]
            for c in m.matchers where !c.invert {
                if case .exact(let v) = c.match, exact[c.name] == nil { exact[c.name] = v }
            }
            for name in exact.keys { exactCounts[name, default: 0] += 1 }
            exactValues.append(exact)
        }
        // The most used attribute; ties broken by name so the choice never depends on hashing.
        discriminator = exactCounts.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }?.key
        guard let discriminator else {
            candidatesByValue = [:]
            otherCandidates = Array(matches.indices)
            return
        }
        otherCandidates = matches.indices.filter { exactValues[$0][discriminator] == nil }
        var values: [String] = []
        for e in exactValues {
            if let v = e[discriminator], !values.contains(v) { values.append(v) }
        }
        var byValue: [UInt64: [(String, [Int])]] = [:]
        for v in values {
            let routes = matches.indices.filter { exactValues[$0][discriminator].map { $0 == v } ?? true }
            byValue[XXHash64.hash(v), default: []].append((v, routes))
        }
        candidatesByValue = byValue
    }

    /// The index of the first route whose match holds.
    func firstMatch(_ attributes: Attributes) -> Int? {
        guard let discriminator else { return firstMatch(attributes, among: otherCandidates) }
        guard let value = attributes[discriminator] else { return firstMatch(attributes, among: otherCandidates) }
        let hash = value.withUTF8 { XXHash64.hash($0) }
        if let entries = candidatesByValue[hash] {
            for e in entries where value.equals(e.value) { return firstMatch(attributes, among: e.routes) }
        }
        return firstMatch(attributes, among: otherCandidates)
    }

    private func firstMatch(_ attributes: Attributes, among candidates: [Int]) -> Int? {
        for i in candidates where matches[i].matches(attributes) { return i }
        return nil
    }
}
