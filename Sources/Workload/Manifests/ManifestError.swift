/// A manifest refused: the file, line and column, the field path, and why.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// The field, as `routes[0].match.attributes.cmd.regex`.
    public var path: String
    public var reason: String

    public init(file: String, line: Int?, column: Int?, path: String, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.reason = reason
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return path.isEmpty ? "\(place): \(reason)" : "\(place): \(path): \(reason)"
    }
}

/// Every problem found in a set of manifests, in file order.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ManifestError]
    public init(_ errors: [ManifestError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
