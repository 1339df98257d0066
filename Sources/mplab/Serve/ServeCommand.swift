import ArgumentParser
import Foundation
import MetaProtocol
import MetaProxy
import NIOCore
import NIOPosix
import Workload

/// `mplab serve`: synthetic upstream servers on real sockets.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run synthetic upstream servers: a synthetic cluster on real sockets.",
        discussion: """
            Each port is one host: it decodes calls with the protocol's codec and answers with \
            real frames after a service time, with an error rate (the protocol's own error \
            replies), a response size, and a concurrency limit with a line.

              mplab serve --protocol dubbo --ports 20881-20885 --service-time exp:2ms --error-rate 0.01

            Scripted phases change the behaviour over time (seconds from the start):

              --phase 30:error-rate=0.5 --phase 60:service-time=lognormal:20ms,10ms --phase 90:close

            Runs until SIGTERM or SIGINT, then prints what each port did.
            """
    )

    @Option(name: .customLong("protocol"), help: "The protocol: dubbo, thrift, livepacket.")
    var protocolName: String

    @Option(help: ArgumentHelp("Ports: a list (20881,20882) or a range (20881-20890); 0 lets the system choose.", valueName: "ports"))
    var ports = "0"

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("Service time: constant:2ms, exp:2ms, lognormal:MEAN,SD, uniform:LOW,HIGH.", valueName: "distribution"))
    var serviceTime = "constant:0"

    @Option(help: "Share of calls answered with the protocol's server-error reply.")
    var errorRate = 0.0

    @Option(help: ArgumentHelp("Size of a successful answer's payload: echo (the call's body size) or bytes.", valueName: "echo|bytes"))
    var responseSize = "echo"

    @Option(help: "Calls served at once per port; more wait in line.")
    var concurrency: Int?

    @Option(help: "Calls that may wait per port; more are answered 'unavailable' at once.")
    var queue: Int?

    @Option(help: ArgumentHelp("A scripted phase (repeatable): seconds:key=value,… with service-time, error-rate, or close.", valueName: "phase"))
    var phase: [String] = []

    @Option(help: "Seed of the service times and errors.")
    var seed: UInt64 = 1

    @Option(help: "Event loops (threads).")
    var eventLoops = System.coreCount

    func run() async throws {
        let portNumbers = try Self.ports(ports)
        let behaviour = SyntheticBehaviour(
            serviceTime: try Distribution(parsing: serviceTime), errorRate: errorRate,
            responseSize: responseSize == "echo" ? .echo : .fixed(try Self.int(responseSize, "--response-size")),
            concurrency: concurrency, queueLimit: queue, phases: try phase.map(Self.phase))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops)
        let server = try await SyntheticServer.start(protocolName: protocolName, host: host, ports: portNumbers, behaviour: behaviour, group: group, seed: seed)
        // Said on standard output at once (a script waits for these lines before it goes on).
        for address in server.addresses { Self.say("serving \(protocolName) on \(address.hostAndPort)") }
        _ = await Signals.wait(for: [SIGTERM, SIGINT])
        let counters = await server.counters()
        await server.stop()
        for (address, c) in zip(server.addresses, counters) {
            Self.say("\(address.hostAndPort): \(c.calls) calls, \(c.answered) answered, \(c.errors) errors, \(c.rejected) rejected, \(c.oneway) oneway, peak \(c.peakConcurrency) at once")
        }
        try await group.shutdownGracefully()
    }

    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    static func int(_ text: String, _ option: String) throws -> Int {
        guard let n = Int(text), n >= 0 else { throw ValidationError("\(option): \"\(text)\" is not a non-negative number") }
        return n
    }

    static func ports(_ text: String) throws -> [Int] {
        var result: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map(String.init)
            let low = try int(bounds[0], "--ports"), high = try int(bounds.count == 2 ? bounds[1] : bounds[0], "--ports")
            guard bounds.count <= 2, low <= high, high <= 65535 else { throw ValidationError("--ports: \"\(part)\" is not a port or a range low-high") }
            result += Array(low...high)
        }
        guard !result.isEmpty else { throw ValidationError("--ports: no port") }
        return result
    }

    static func phase(_ text: String) throws -> SyntheticBehaviour.Phase {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let seconds = Double(parts[0]), seconds >= 0 else {
            throw ValidationError("--phase \(text): expected seconds:key=value,… (service-time, error-rate, close)")
        }
        var phase = SyntheticBehaviour.Phase(at: .milliseconds(Int64(seconds * 1000)))
        // Split on commas that start a new key, so a distribution's own commas stay with it.
        var entries: [String] = []
        for piece in parts[1].split(separator: ",") {
            if piece.contains("=") || piece == "close" || entries.isEmpty { entries.append(String(piece)) } else { entries[entries.count - 1] += "," + piece }
        }
        for entry in entries {
            let kv = entry.split(separator: "=", maxSplits: 1).map(String.init)
            switch kv[0] {
            case "close": phase.closesConnections = true
            case "service-time" where kv.count == 2: phase.serviceTime = try Distribution(parsing: kv[1])
            case "error-rate" where kv.count == 2:
                guard let rate = Double(kv[1]), (0...1).contains(rate) else { throw ValidationError("--phase \(text): error-rate must be 0 to 1") }
                phase.errorRate = rate
            default: throw ValidationError("--phase \(text): unknown setting \"\(entry)\" (service-time=…, error-rate=…, close)")
            }
        }
        return phase
    }
}
