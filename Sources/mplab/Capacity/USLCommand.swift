import ArgumentParser
import Capacity
import Foundation
import Reporting
import Results

/// `mplab usl FILE.csv`: the Universal Scalability Law fitted to measured points.
struct USLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usl",
        abstract: "Fit the Universal Scalability Law to concurrency,throughput points.",
        discussion: """
            Reads a CSV of concurrency,throughput rows (a header line and # comments are allowed), \
            fits X(N) = λN / (1 + σ(N−1) + κN(N−1)) by nonlinear least squares \
            (Levenberg–Marquardt, σ and κ in [0, 1]), and prints λ, σ, κ, the peak N* and its \
            throughput X_max, the fit's quality, and the curve. It predicts no further than \
            twice the largest measured concurrency: past that, measure.

              mplab usl sweep.csv
              mplab usl sweep.csv --json            (the fit as JSON, full precision)
              mplab usl sweep.csv --predict 64 --predict 128
            """
    )

    @Argument(help: ArgumentHelp("concurrency,throughput rows.", valueName: "file.csv"))
    var file: String

    @Option(help: "Points of the printed curve.")
    var points = 12

    @Option(help: ArgumentHelp("Also print the predicted throughput at this concurrency (repeatable).", valueName: "N"))
    var predict: [Double] = []

    @Flag(help: "Print the fit as JSON.")
    var json = false

    /// Right-aligned in `width` columns.
    func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ValidationError("\(file): cannot read the file: \(error.localizedDescription)")
        }
        let fit: USLFit
        do {
            fit = try USLFit.fit(try ConcurrencyCSV.parse(text, file: file))
        } catch {
            FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let summary = fit.summary(driver: file)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return
        }
        let n = USLText.number, m = fit.model
        print("Universal Scalability Law fitted to \(fit.points.count) points of \(file) (concurrency \(n(fit.points.map(\.concurrency).min() ?? 0))–\(n(fit.largestMeasured)))")
        print(String(format: "  λ  (one caller alone)    %.6g per second", m.lambda))
        print(String(format: "  σ  (contention)          %.6g", m.sigma))
        print(String(format: "  κ  (coherency)           %.6g", m.kappa))
        if let peak = fit.peakConcurrency { print(String(format: "  N* (peak concurrency)    %.6g", peak)) }
        if let x = fit.maxThroughput { print(String(format: "  X_max (throughput at N*) %.6g per second", x)) }
        if let limit = m.contentionLimit { print(String(format: "  λ/σ (Amdahl's bound)     %.6g per second", limit)) }
        print(String(format: "  R²                       %.4f", fit.rSquared))
        print(String(format: "  residual standard error  %.4g", fit.residualStandardError))
        if let caveat = fit.caveat { print("  note: \(caveat)") }
        print("\n  concurrency    measured      fitted    residual")
        for (p, r) in zip(fit.points, fit.residuals) {
            print("  " + pad(n(p.concurrency), 11) + String(format: "  %10.4g  %10.4g  %+10.4g", p.throughput, p.throughput - r, r))
        }
        print("\n  the curve (up to \(n(USLFit.extrapolationLimit))× the largest measured concurrency)")
        for p in fit.curve(count: max(2, points)) { print("  " + pad(n((p.concurrency * 100).rounded() / 100), 11) + String(format: "  %10.4g", p.throughput)) }
        for x in predict {
            if let y = fit.predict(x) {
                print(String(format: "  X(%@) = %.6g per second", n(x), y))
            } else {
                print("  X(\(n(x))): not predicted, beyond \(n(USLFit.extrapolationLimit))× the largest measured concurrency (\(n(fit.largestMeasured)))")
            }
        }
    }
}
