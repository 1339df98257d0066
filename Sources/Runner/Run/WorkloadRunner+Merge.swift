import Foundation
import Results
import Workload

extension WorkloadRunner {
    /// The shards of a workload's replications (`mplab run --shard i/N`) as one run: parts in
    /// replication order, the intervals over all of them, and the expectations checked again on
    /// the first replication when `script` is given (else those of the shard that ran it).
    public static func merge(_ shards: [WorkloadResult], script: WorkloadScript?, commandLine: [String]) throws -> WorkloadResult {
        guard var merged = shards.first else { throw RunFailure.failed("nothing to merge") }
        guard shards.allSatisfy({ $0.workload == merged.workload && $0.provenance.workload == merged.provenance.workload }) else {
            throw RunFailure.failed("the results are of different workloads (or versions of one): \(Set(shards.map(\.workload)).sorted().joined(separator: ", "))")
        }
        let parts = shards.flatMap(\.parts)
        let simulated = parts.filter { $0.role == .simulated || $0.role == .replication }.sorted { $0.result.provenance.seed < $1.result.provenance.seed }
        let seeds = simulated.map(\.result.provenance.seed)
        guard Set(seeds).count == seeds.count else { throw RunFailure.failed("two shards ran the same replication (seeds \(seeds))") }
        merged.parts = simulated + parts.filter { $0.role != .simulated && $0.role != .replication }
        // Subset shares are of the first replication (and the real run): the shard that ran it has them.
        let shares = (shards.first { $0.part(.simulated) != nil } ?? merged).figures.filter { $0.name.contains(" share of subset ") }
        merged.figures = replicationFigures(simulated.map(\.result)) + shares
        merged.complete = shards.allSatisfy(\.complete)
        merged.provenance.commandLine = commandLine
        merged.warnings = Array(Set(shards.flatMap(\.warnings))).sorted()
        if let script {
            merged.expectations = ExpectationCheck(script: script, simulated: simulated.first?.result, real: merged.part(.real)?.result,
                                                   overhead: merged.part(.overhead)?.result).outcomes()
        } else {
            merged.expectations = (shards.first { $0.part(.simulated) != nil } ?? merged).expectations
        }
        return merged
    }
}
