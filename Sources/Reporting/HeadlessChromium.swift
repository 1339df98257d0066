import Foundation

/// A report checked as a person sees it: Chromium (Debian's `chromium`), headless, renders the
/// page — for a PNG screenshot, or for the DOM after rendering, where a test finds the charts.
public enum HeadlessChromium {
    public enum Failure: Error, CustomStringConvertible {
        case notInstalled
        case failed(String)
        public var description: String {
            switch self {
            case .notInstalled: "chromium is not installed (scripts/setup installs it)"
            case .failed(let why): "chromium failed: \(why)"
            }
        }
    }

    /// The browser's path, if there is one.
    public static var executable: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Renders `html` (a file) and writes what a 1000-pixel-wide window shows of it as a PNG.
    public static func screenshot(of html: URL, to png: URL, height: Int = 4000) throws {
        _ = try run(["--screenshot=\(png.path)", "--window-size=1000,\(height)", html.absoluteString])
        guard FileManager.default.fileExists(atPath: png.path) else { throw Failure.failed("no screenshot was written") }
    }

    /// The page's DOM after Chromium loaded and laid it out.
    public static func renderedDOM(of html: URL) throws -> String {
        try run(["--dump-dom", html.absoluteString])
    }

    static func run(_ arguments: [String]) throws -> String {
        guard let executable else { throw Failure.notInstalled }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // --no-sandbox: the sandbox refuses to run as root, which is how CI runs.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-dev-shm-usage"] + arguments
        let out = Pipe()
        // Its chatter goes to a file: two pipes read one after the other could stall it.
        let errorFile = FileManager.default.temporaryDirectory.appending(path: "mplab-chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        // Read before waiting, so a large DOM cannot fill the pipe and stall the browser.
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? Data(contentsOf: errorFile)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw Failure.failed("exit \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self).suffix(600))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
