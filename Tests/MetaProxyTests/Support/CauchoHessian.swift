import Foundation

/// Caucho's Hessian 2 (Debian's libhessian-java, installed by scripts/setup) and the Java peers
/// in `Peers/` built on it: compiled once for the whole test run, run as processes, and the text
/// form (`HessianValues.describe`) they print what they read in.
enum CauchoHessian {
    static let jar = "/usr/share/java/hessian.jar"
    static let peers = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Peers")
    static let sources = ["DubboHessianPeer.java", "DubboHessianProvider.java", "HessianValues.java"]
    /// Hessian 4.0.38 reflects into java.lang when it builds its serializers (an exception's
    /// fields, which a Dubbo answer carries); Java 17 lets it only when asked.
    static let javaOptions = ["--add-opens", "java.base/java.lang=ALL-UNNAMED"]

    /// The class path of the compiled peers.
    static var classPath: String {
        get async throws { try await compiled.value }
    }

    // javac takes seconds on a busy machine: once is enough for every test.
    private static let compiled = Task { try await compile() }

    private static func compile() async throws -> String {
        guard FileManager.default.fileExists(atPath: jar) else { throw PeerProcess.Failed(description: "no \(jar): run scripts/setup") }
        let out = FileManager.default.temporaryDirectory.appending(path: "mplab-hessian-\(UUID().uuidString)").path
        _ = try await PeerProcess.run("javac", ["-cp", jar, "-d", out] + sources.map { peers.appending(path: $0).path })
        return "\(jar):\(out)"
    }

    /// Runs the peer class `main` with `arguments` to its end; the lines it printed.
    static func run(_ main: String, _ arguments: [String]) async throws -> [String] {
        let output = try await PeerProcess.run("java", javaOptions + ["-cp", try await classPath, main] + arguments)
        return output.split(separator: "\n").map(String.init)
    }

    /// Starts the Java Dubbo provider; it, and the port it listens on. ``RunningPeer/stop()``
    /// ends it.
    static func startProvider() async throws -> (peer: RunningPeer, port: Int) {
        let peer = try RunningPeer("/usr/bin/env", ["java"] + javaOptions + ["-cp", try await classPath, "DubboHessianProvider"])
        do {
            let line = try await peer.line(startingWith: "listening ")
            guard let port = Int(line.dropFirst("listening ".count)) else { throw PeerProcess.Failed(description: "provider printed \(line)") }
            return (peer, port)
        } catch {
            peer.stop()
            throw error
        }
    }

    /// `text` as the peers print a Java string: in quotes, printable ASCII as itself and every
    /// other UTF-16 unit as `\uXXXX`; longer than 64 units, `string(LENGTH, hash HASH)` with
    /// Java's `String.hashCode()`. Worked out here from the text meant, not from any bytes.
    static func quoted(_ text: String) -> String {
        let units = Array(text.utf16)
        if units.count > 64 {
            let hash = units.reduce(Int32(0)) { $0 &* 31 &+ Int32($1) }
            return "string(\(units.count), hash \(hash))"
        }
        var out = "\""
        for u in units {
            if (0x20..<0x7f).contains(u), u != 0x22, u != 0x5c {  // not `"` or `\`
                out.unicodeScalars.append(Unicode.Scalar(UInt8(u)))
            } else {
                let digits = String(u, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            }
        }
        return out + "\""
    }
}
