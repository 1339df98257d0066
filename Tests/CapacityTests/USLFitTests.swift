import Foundation
import Testing

@testable import Capacity

/// The clone this test was built from.
let clone = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

/// The mplab executable built next to the tests.
let mplabExecutable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "mplab").path

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }

@Suite("Capacity: the Universal Scalability Law fit")
struct USLFitTests {
    /// SPEC SDM91 as the R package usl fits it (its tests/peak-scalability.R and
    /// limit-scalability.R assert N* = 96.51956 and λ/σ = 3245.589 to 1e-4; its summary prints
    /// α = 2.773e-02, β = 1.044e-04, γ = 9.000e+01, residuals and a residual standard error).
    @Test func specSDM91MatchesThePublishedCoefficients() throws {
        let points = try ConcurrencyCSV.parse(String(contentsOf: fixtures.appending(path: "specsdm91.csv"), encoding: .utf8), file: "specsdm91.csv")
        #expect(points.count == 7)
        let fit = try USLFit.fit(points)
        #expect(relativeError(try #require(fit.peakConcurrency), 96.51956) <= 1e-4)
        #expect(relativeError(try #require(fit.model.contentionLimit), 3245.589) <= 1e-4)
        // The summary's four significant digits: within half a unit of the last.
        #expect(abs(fit.model.sigma - 2.773e-2) <= 0.0005e-2)
        #expect(abs(fit.model.kappa - 1.044e-4) <= 0.0005e-4)
        #expect(abs(fit.model.lambda - 90.00) <= 0.005)
        #expect(abs(fit.residualStandardError - 82.85) <= 0.005)
        #expect(abs(try #require(fit.maxThroughput) - 1884) <= 0.5)
        let published = [-25.10, -81.66, 111.09, 3.05, -49.99, -46.60, 56.00]
        for (r, p) in zip(fit.residuals, published) { #expect(abs(r - p) <= 0.005, "residual \(r) vs \(p)") }
    }

    /// The first six rows of the package's raytracer dataset: α = 0.02444, β = 0.00163,
    /// γ = 20.85605 (tests/confint.Rout.save).
    @Test func raytracerMatchesThePublishedCoefficients() throws {
        let points = zip([1.0, 4, 8, 12, 16, 20], [20.0, 78, 130, 170, 190, 200]).map { ConcurrencyPoint(concurrency: $0, throughput: $1) }
        let fit = try USLFit.fit(points)
        #expect(relativeError(fit.model.lambda, 20.85605) <= 1e-6)
        #expect(abs(fit.model.sigma - 0.02444) <= 0.000005)
        #expect(abs(fit.model.kappa - 0.00163) <= 0.000005)
    }

    @Test func exactPointsGiveBackTheirCoefficients() throws {
        let truth = USLModel(lambda: 120, sigma: 0.04, kappa: 0.0007)
        let points = [1.0, 2, 4, 8, 16, 24, 32, 48, 64].map { ConcurrencyPoint(concurrency: $0, throughput: truth.throughput(at: $0)) }
        let fit = try USLFit.fit(points)
        #expect(relativeError(fit.model.lambda, 120) < 1e-6)
        #expect(relativeError(fit.model.sigma, 0.04) < 1e-5)
        #expect(relativeError(fit.model.kappa, 0.0007) < 1e-5)
        #expect(fit.rSquared > 0.999_999)
        #expect(fit.maxThroughput != nil)
    }

    /// A curve with no coherency cost stays at κ = 0 (the bound), and has no X_max to give.
    @Test func aCurveWithoutAPeakHasNoMaximum() throws {
        let truth = USLModel(lambda: 50, sigma: 0.1, kappa: 0)
        let points = [1.0, 2, 4, 8, 16, 32].map { ConcurrencyPoint(concurrency: $0, throughput: truth.throughput(at: $0)) }
        let fit = try USLFit.fit(points)
        #expect(fit.model.kappa < 1e-9)
        #expect(relativeError(fit.model.sigma, 0.1) < 1e-5)
        #expect(fit.maxThroughput == nil)
        #expect(fit.caveat?.contains("no peak") == true)
    }

    @Test func itRefusesToExtrapolateFarPastTheMeasuredRange() throws {
        // Peak at N* = √(0.99 / 1e-5) ≈ 315, measured only up to 16.
        let truth = USLModel(lambda: 10, sigma: 0.01, kappa: 1e-5)
        let points = [1.0, 2, 4, 8, 12, 16].map { ConcurrencyPoint(concurrency: $0, throughput: truth.throughput(at: $0)) }
        let fit = try USLFit.fit(points)
        #expect(fit.predict(32) != nil)
        #expect(fit.predict(33) == nil)
        #expect(fit.peakConcurrency != nil)
        #expect(fit.maxThroughput == nil)
        #expect(fit.caveat?.contains("not extrapolated") == true)
        #expect(fit.curve().last!.concurrency == 32)
    }

    @Test func tooFewPointsAndBadRowsAreRefusedByLine() throws {
        #expect(throws: USLFit.FitError.tooFewPoints(3)) {
            try USLFit.fit([1.0, 2, 3, 3].map { ConcurrencyPoint(concurrency: $0, throughput: $0) })
        }
        #expect(throws: ConcurrencyCSV.LineError(file: "x.csv", line: 3, message: "expected numbers, found '4' and 'fast'")) {
            try ConcurrencyCSV.parse("concurrency,throughput\n1,10\n4,fast\n", file: "x.csv")
        }
        #expect(throws: ConcurrencyCSV.LineError(file: "x.csv", line: 2, message: "concurrency must be above 0, found 0")) {
            try ConcurrencyCSV.parse("# a comment\n0,10\n", file: "x.csv")
        }
        #expect(throws: ConcurrencyCSV.LineError(file: "x.csv", line: 1, message: "expected two fields, concurrency,throughput; found 3")) {
            try ConcurrencyCSV.parse("1,2,3\n", file: "x.csv")
        }
        #expect(try ConcurrencyCSV.parse("\n1, 10 # first\n\n2,19\n", file: "x.csv") == [ConcurrencyPoint(concurrency: 1, throughput: 10), ConcurrencyPoint(concurrency: 2, throughput: 19)])
    }

    /// `mplab usl` on the reference dataset, as a user runs it.
    @Test func theUSLCommandFitsTheReferenceDataset() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mplabExecutable)
        process.arguments = ["usl", fixtures.appending(path: "specsdm91.csv").path, "--json"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        struct Printed: Decodable { var lambda, sigma, kappa: Double; var peakConcurrency, maxThroughput: Double? }
        let printed = try JSONDecoder().decode(Printed.self, from: data)
        #expect(relativeError(try #require(printed.peakConcurrency), 96.51956) <= 1e-4)
        #expect(relativeError(printed.lambda / printed.sigma, 3245.589) <= 1e-4)

        let text = Process()
        text.executableURL = URL(fileURLWithPath: mplabExecutable)
        text.arguments = ["usl", fixtures.appending(path: "specsdm91.csv").path, "--predict", "100", "--predict", "1000"]
        let out = Pipe()
        text.standardOutput = out
        try text.run()
        let printedText = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        text.waitUntilExit()
        for line in ["σ  (contention)          0.0277", "N* (peak concurrency)    96.5196", "X(100) = 1883", "X(1000): not predicted"] {
            #expect(printedText.contains(line), "\(line) in:\n\(printedText)")
        }
    }
}
