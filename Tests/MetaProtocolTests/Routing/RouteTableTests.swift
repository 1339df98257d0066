import Testing

@testable import MetaProtocol

/// The indexed route table must pick exactly the route a first-match scan would, whatever the
/// mix of exact, prefix, regex, present and inverted conditions.
@Suite("Route table")
struct RouteTableTests {
    static let names = ["method", "cmd", "interface"]
    static let values = ["a", "b", "c", "ab", ""]

    static func randomCondition(_ r: inout SeededRandom) throws -> AttributeMatcher {
        let name = names[r.nextIndex(names.count)]
        let value = values[r.nextIndex(values.count)]
        let match: StringMatch = switch r.nextIndex(6) {
        case 0, 1, 2: .exact(value)
        case 3: .prefix(value)
        case 4: .regex("a|b")
        default: .present
        }
        return try AttributeMatcher(name: name, match: match, invert: r.nextIndex(6) == 0)
    }

    @Test func indexedMatchingEqualsAFirstMatchScan() throws {
        var r = SeededRandom(seed: 31)
        for _ in 0..<300 {
            let routes = try (0..<(1 + r.nextIndex(12))).map { _ in try AttributeMatch((0..<r.nextIndex(3)).map { _ in try Self.randomCondition(&r) }) }
            let table = RouteTable(routes)
            for _ in 0..<50 {
                var attributes = Attributes()
                for name in Self.names where r.nextIndex(4) != 0 { attributes.append(key: name, value: Self.values[r.nextIndex(Self.values.count)]) }
                #expect(table.firstMatch(attributes) == routes.firstIndex { $0.matches(attributes) })
            }
        }
    }

    @Test func theDiscriminatorIsTheMostTestedAttribute() throws {
        let routes = try (0..<5).map { i in
            AttributeMatch([try AttributeMatcher(name: "cmd", match: .exact("\(i)")), try AttributeMatcher(name: "method", match: .exact("x"))])
        } + [AttributeMatch([try AttributeMatcher(name: "cmd", match: .exact("9"))])]
        #expect(RouteTable(routes).discriminator == "cmd")
    }
}
