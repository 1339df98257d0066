import Foundation
import Testing
import Yams

/// The shipped Kubernetes manifests of a sharded load agree with themselves and with
/// `mplab load --shard`: as many pods as shards, each its own index, results where the merge
/// step reads them.
@Suite("Load generator: the Kubernetes shard Job")
struct KubernetesManifestTests {
    static let folder = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appending(path: "Workloads/kubernetes")

    static func documents(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: folder.appending(path: name), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    static func container(of job: [String: Any]) -> [String: Any]? {
        (((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]).flatMap { ($0["containers"] as? [[String: Any]])?.first }
    }

    @Test func theShardJobRunsOneSliceOfTheLoadPerIndexedPod() throws {
        let docs = try Self.documents("load-shards.yaml")
        let job = try #require(docs.first { $0["kind"] as? String == "Job" })
        let spec = try #require(job["spec"] as? [String: Any])
        let args = try #require(Self.container(of: job)?["args"] as? [String])
        #expect(spec["completionMode"] as? String == "Indexed")
        let shard = try #require(args.firstIndex(of: "--shard").map { args[$0 + 1] })
        let count = try #require(Int(shard.split(separator: "/").last ?? ""))
        #expect(shard == "$(JOB_COMPLETION_INDEX)/\(count)" && spec["completions"] as? Int == count && spec["parallelism"] as? Int == count)
        #expect(args.first == "load" && args.contains("--result"))
        let result = args[args.firstIndex(of: "--result")! + 1]
        #expect(result.contains("$(JOB_COMPLETION_INDEX)"))

        let merge = try #require(try Self.documents("load-merge.yaml").first { $0["kind"] as? String == "Job" })
        let mergeArgs = try #require(Self.container(of: merge)?["args"] as? [String])
        let folder = URL(fileURLWithPath: result).deletingLastPathComponent().path
        #expect(mergeArgs.first == "merge" && mergeArgs.contains(folder), "the merge reads where the shards write")
        #expect(docs.contains { $0["kind"] as? String == "PersistentVolumeClaim" })
    }
}
