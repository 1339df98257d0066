import ArgumentParser
import Foundation
import Reporting
import Results
import Workload

/// `mplab validate`: read workload scripts and say what is wrong, running nothing.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check workload scripts without running them.",
        discussion: """
            Every problem is reported as file:line:column: field: what was expected (with "did \
            you mean" for a misspelt field). Exit status 0 when every file is sound, 2 otherwise.

              mplab validate Workloads/*.yaml
            """
    )

    @Argument(help: ArgumentHelp("Workload scripts.", valueName: "file"))
    var files: [String]

    @Option(name: .customLong("set"), help: ArgumentHelp("A value over the workload's (repeatable), as mplab run takes it.", valueName: "key=value"))
    var overrides: [String] = []

    func run() throws {
        var bad = false
        for file in files {
            do {
                let script = try WorkloadReader.read(file: file, overrides: overrides)
                print("\(file): ok (\(script.mode.rawValue), \(script.clients.count) client(s), \(script.expectations.count) expectation(s))")
                for w in script.warnings { print("  warning: \(w)") }
            } catch {
                bad = true
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        if bad { throw ExitCode(2) }
    }
}

/// `mplab list`: the workloads in a folder, a line each.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List workload scripts with their one-line descriptions.",
        discussion: "  mplab list              (Workloads/ and its subfolders)\n  mplab list Workloads/verify"
    )

    @Argument(help: ArgumentHelp("Folders to list.", valueName: "folder"))
    var folders: [String] = ["Workloads"]

    func run() throws {
        var rows: [(String, String, String)] = []
        for folder in folders {
            guard let walker = FileManager.default.enumerator(atPath: folder) else { throw ValidationError("\(folder): no such folder") }
            for case let name as String in walker where name.hasSuffix(".yaml") {
                let path = URL(fileURLWithPath: folder).appending(path: name).path
                // Manifests and Kubernetes files sit beside workloads; only workloads have clients.
                guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("\nclients:") || text.contains("\noverhead:") else { continue }
                do {
                    let s = try WorkloadReader.read(file: path)
                    rows.append((path, s.mode.rawValue, s.summary))
                } catch {
                    rows.append((path, "invalid", "\(error)".split(separator: "\n").first.map(String.init) ?? ""))
                }
            }
        }
        let width = rows.map(\.0.count).max() ?? 0
        for (path, mode, summary) in rows.sorted(by: { $0.0 < $1.0 }) {
            print(path.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + mode.padding(toLength: 8, withPad: " ", startingAt: 0) + " " + summary)
        }
    }
}

/// `mplab report`: render a report folder again from its result.json.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a run's report again from its result.json (after an upgrade, or to get the screenshot).",
        discussion: "  mplab report Reports/runs/quickstart/seed-42"
    )

    @Argument(help: ArgumentHelp("A report folder (holding result.json).", valueName: "folder"))
    var folder: String

    @Flag(help: "Also write report.png, the report as headless Chromium renders it.")
    var screenshot = false

    func run() throws {
        let result: WorkloadResult
        do {
            result = try ReportWriter.read(folder: folder)
        } catch {
            throw ValidationError("\(folder)/result.json: \(error)")
        }
        let url = URL(fileURLWithPath: folder)
        let files = try ReportWriter.write(result, to: url)
        if screenshot { try HeadlessChromium.screenshot(of: url.appending(path: "report.html"), to: url.appending(path: "report.png")) }
        print(SummaryText.table(result, reportPath: url.appending(path: "report.html").path))
        FileHandle.standardError.write(Data("wrote \(files.count + (screenshot ? 1 : 0)) files in \(folder)\n".utf8))
    }
}

/// `mplab compare`: two runs side by side.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Put two runs side by side, with the change of each figure.",
        discussion: """
            Latency percentiles, counts, expectation verdicts and simulated-vs-real figures of \
            two report folders (or result.json files), with B − A and B / A.

              mplab compare Reports/runs/quickstart/seed-42 Reports/runs/quickstart/seed-43
            """
    )

    @Argument(help: ArgumentHelp("The first run (a report folder or its result.json).", valueName: "A"))
    var a: String

    @Argument(help: ArgumentHelp("The second run.", valueName: "B"))
    var b: String

    @Flag(help: "Write Markdown instead of a plain table.")
    var markdown = false

    func run() throws {
        func load(_ path: String) throws -> WorkloadResult {
            let file = path.hasSuffix(".json") ? path : URL(fileURLWithPath: path).appending(path: "result.json").path
            do {
                return try WorkloadResult.decode(Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw ValidationError("\(file): \(error)")
            }
        }
        print(RunComparison(a: try load(a), b: try load(b), labels: (a, b)).text(markdown: markdown))
    }
}
