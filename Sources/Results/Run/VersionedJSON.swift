import Foundation

/// How result documents are written and read: JSON with sorted keys (the same value always
/// gives the same bytes), and a `schemaVersion` checked before anything else is decoded, so a
/// newer document is refused by name rather than misread.
enum VersionedJSON {
    private struct Version: Decodable { var schemaVersion: Int }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, supported: Int) throws -> T {
        let version = try JSONDecoder().decode(Version.self, from: data).schemaVersion
        guard version <= supported else { throw ResultError.newerSchema(found: version, supported: supported) }
        return try JSONDecoder().decode(type, from: data)
    }
}
