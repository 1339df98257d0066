import Yams

/// `--set key=value`: a value written over the workload's before it is read, at a path such as
/// `seed`, `duration`, `clients[0].arrivals` or `services.svc.workers`. The value is YAML, so
/// `--set 'clients[0].payload=[20B, 1KB]'` works; a path into a list must name an existing item.
enum Overrides {
    static func apply(_ assignment: String, to root: inout Node, _ r: inout ManifestReader) {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            r.fail(nil, "--set \(assignment)", "expected key=value, such as seed=7 or clients[0].arrivals=poisson 500/s")
            return
        }
        let path = String(assignment[..<eq])
        let text = String(assignment[assignment.index(after: eq)...])
        guard let steps = parse(path) else {
            r.fail(nil, "--set \(path)", "not a field path (write a.b[0].c)")
            return
        }
        let value: Node
        do {
            value = try Yams.compose(yaml: text) ?? Node("")
        } catch {
            r.fail(nil, "--set \(path)", "the value is not valid YAML: \(error)")
            return
        }
        if let problem = set(value, at: steps[...], in: &root) { r.fail(nil, "--set \(path)", problem) }
    }

    enum Step: Equatable {
        case key(String)
        case index(Int)
    }

    static func parse(_ path: String) -> [Step]? {
        var steps: [Step] = []
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            let name = rest.prefix { $0 != "[" }
            guard !name.isEmpty else { return nil }
            steps.append(.key(String(name)))
            rest = rest.dropFirst(name.count)
            while rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"), let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0 else { return nil }
                steps.append(.index(i))
                rest = rest[rest.index(after: close)...]
            }
            guard rest.isEmpty else { return nil }
        }
        return steps
    }

    /// Writes `value` at `steps` below `node`, making mappings on the way; why not, if it cannot.
    static func set(_ value: Node, at steps: ArraySlice<Step>, in node: inout Node) -> String? {
        guard let step = steps.first else {
            node = value
            return nil
        }
        switch step {
        case .key(let k):
            guard node.mapping != nil || node.scalar?.string == "" else { return "\(k) is inside something that is not a mapping" }
            if node.mapping == nil { node = Node([(Node, Node)]()) }
            var child = node[k] ?? Node([(Node, Node)]())
            if let problem = set(value, at: steps.dropFirst(), in: &child) { return problem }
            node[k] = child
        case .index(let i):
            guard var items = node.sequence.map(Array.init) else { return "[\(i)] is inside something that is not a list" }
            guard i < items.count else { return "the list has \(items.count) items, no [\(i)]" }
            if let problem = set(value, at: steps.dropFirst(), in: &items[i]) { return problem }
            node = Node(items)
        }
        return nil
    }
}
