import ArgumentParser
import Foundation
import Reporting
import Results
import Runner
import Workload

/// `mplab merge`: the results of a load's slices as one.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Add up the results of a load's shards (or of runs to pool) into one result.",
        discussion: """
            Counts add, latency histograms add exactly (HdrHistogram), rates and connections add. \
            Give result files, or folders whose *.json files are results.

              mplab load ... --shard 0/3 --result shards/0.json    (and 1/3, 2/3 elsewhere)
              mplab merge shards/ --output merged.json

            The report folders of a workload's replication shards (mplab run --replications \
            N --shard i/M) merge into one report folder, the expectations checked again:

              mplab merge Reports/runs/w/seed-1/shard-0-of-2 Reports/runs/w/seed-1/shard-1-of-2 --output Reports/runs/w/merged
            """
    )

    @Argument(help: ArgumentHelp("Result files, or folders of them.", valueName: "file-or-folder"))
    var inputs: [String]

    @Option(help: ArgumentHelp("Where to write the merged result (standard output when left out).", valueName: "file"))
    var output: String?

    func run() throws {
        let reports = inputs.filter { FileManager.default.fileExists(atPath: URL(fileURLWithPath: $0).appending(path: "result.json").path) }
        if !reports.isEmpty {
            guard reports.count == inputs.count else { throw ValidationError("give report folders only, or result files only") }
            try mergeReports(reports)
            return
        }
        var files: [String] = []
        for input in inputs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else { throw ValidationError("\(input): no such file or folder") }
            if isFolder.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: input).filter { $0.hasSuffix(".json") }.sorted()
                files += names.map { URL(fileURLWithPath: input).appending(path: $0).path }
            } else {
                files.append(input)
            }
        }
        guard !files.isEmpty else { throw ValidationError("no result files in \(inputs.joined(separator: ", "))") }
        let results = try files.map { path in
            do {
                return try RunResult.decode(Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw ValidationError("\(path): \(error)")
            }
        }
        let merged = try RunResult.merging(results, commandLine: CommandLine.arguments)
        let data = try merged.encoded()
        if let output {
            try data.write(to: URL(fileURLWithPath: output))
            FileHandle.standardError.write(Data("merged \(files.count) results into \(output)\n".utf8))
        } else {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    /// Report folders of a workload's shards: one report folder.
    func mergeReports(_ folders: [String]) throws {
        guard let output else { throw ValidationError("--output FOLDER: where the merged report goes") }
        let shards = try folders.map { folder in
            do {
                return try ReportWriter.read(folder: folder)
            } catch {
                throw ValidationError("\(folder)/result.json: \(error)")
            }
        }
        // The expectations are checked again only against the workload as it ran (a file since
        // edited, or read with --set, resolves differently; then the shards' own verdicts stand).
        let script = shards.first?.provenance.workload.flatMap { try? WorkloadReader.read(file: $0.path) }
            .flatMap { $0.resolvedDescription == shards.first?.resolvedConfiguration ? $0 : nil }
        let merged = try WorkloadRunner.merge(shards, script: script, commandLine: CommandLine.arguments)
        try ReportWriter.write(merged, to: URL(fileURLWithPath: output))
        print(SummaryText.table(merged, reportPath: URL(fileURLWithPath: output).appending(path: "report.html").path))
        if !merged.passed { throw ExitCode(1) }
    }
}
