import ArgumentParser
import Foundation
import Results

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
            """
    )

    @Argument(help: ArgumentHelp("Result files, or folders of them.", valueName: "file-or-folder"))
    var inputs: [String]

    @Option(help: ArgumentHelp("Where to write the merged result (standard output when left out).", valueName: "file"))
    var output: String?

    func run() throws {
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
}
