import Foundation
import MetaProtocolCodecs
import Testing
import Workload

/// Every configuration under Workloads/configs loads and compiles for the protocol it names,
/// without warnings: the examples the README points to keep working.
@Suite("Example configurations")
struct ExampleConfigTests {
    static let folder = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Workloads/configs")

    @Test func everyExampleLoadsAndCompiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 2)
        for name in files {
            let text = try String(contentsOf: Self.folder.appending(path: name), encoding: .utf8)
            let loaded = try ConfigurationLoader.load([(name, text)])
            let codec = try #require(CodecRegistry.codecTypes.first { $0.protocolName == loaded.configuration.protocolName }, "\(name)")
            _ = try loaded.compile(capabilities: codec.capabilities)
            #expect(loaded.warnings.isEmpty, "\(name): \(loaded.warnings)")
        }
    }
}
