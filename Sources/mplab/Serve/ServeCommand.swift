import ArgumentParser
import Foundation
import MetaProtocol
import MetaProxy
import NIOCore
import NIOPosix
import Results
import TrafficModel
import Workload

/// `mplab serve`: synthetic upstream servers on real sockets.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run synthetic upstream servers: a synthetic cluster on real sockets.",
        discussion: """
            Each port is one host: it decodes calls with the protocol's codec and answers with \
            real frames as the simulator's hosts do — the same host model (workers, a bounded \
            line, service times per method, errors by category, echoed or sized answers, \
            scripted phases), so a host of the same behaviour, name and seed draws the same \
            service times and errors here and in a simulation.

              mplab serve --protocol dubbo --ports 20881-20885 --service-time exp:2ms --error-rate 0.01

            Errors by category, a method's own service time, a line of at most 50 behind 8 workers:

              mplab serve --protocol thrift --ports 9090 --workers 8 --queue 50 \\
                --error application-error=0.02 --method-service-time search=lognormal:20ms,10ms

            Scripted phases change the behaviour over time (seconds from the start):

              --phase 30:error-rate=0.5 --phase 60:service-time=lognormal:20ms,10ms --phase 90:close

            Hosts of a workload, with the behaviour the workload gives each (one port per \
            host, named by its address; the hosts of one process share one behaviour):

              mplab serve --workload Workloads/quickstart.yaml --workload-host 10.1.0.1:9000 --workload-host 10.1.0.2:9000

            Runs until SIGTERM or SIGINT, then prints what each port did (and with --result, \
            writes it as a result file).
            """
    )

    @Option(name: .customLong("protocol"), help: "The protocol: dubbo, thrift, livepacket (a workload names its own).")
    var protocolOption: String?

    @Option(help: ArgumentHelp("Serve hosts of this workload script, as it describes them (with --host).", valueName: "file"))
    var workload: String?

    @Option(name: .customLong("workload-host"), help: ArgumentHelp("A host of the workload to serve, by its address (repeatable).", valueName: "address"))
    var workloadHosts: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("An override of the workload's values, as mplab run takes it (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Ports: a list (20881,20882) or a range (20881-20890); 0 lets the system choose.", valueName: "ports"))
    var ports = "0"

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("Service time: constant:2ms, exp:2ms, lognormal:MEAN,SD, uniform:LOW,HIGH.", valueName: "distribution"))
    var serviceTime = "constant:0"

    @Option(help: ArgumentHelp("A method's own service time (repeatable).", valueName: "method=distribution"))
    var methodServiceTime: [String] = []

    @Option(help: ArgumentHelp("Extra service time per byte of a call's payload.", valueName: "seconds"))
    var secondsPerByte = 0.0

    @Option(help: "Share of calls answered with the protocol's server-error reply.")
    var errorRate = 0.0

    @Option(help: ArgumentHelp("Share of calls answered with an error of a category (repeatable): server-error, application-error, unavailable.",
                               valueName: "category=share"))
    var error: [String] = []

    @Option(help: ArgumentHelp("Size of a successful answer's payload: echo (the call's argument back), bytes, or a distribution of bytes.",
                               valueName: "echo|bytes|distribution"))
    var responseSize = "echo"

    @Option(help: "Calls served at once per port; more wait in line. Without it, no limit.")
    var workers: Int?

    @Option(help: "Calls that may wait per port; more are answered 'unavailable' at once.")
    var queue: Int?

    @Option(help: ArgumentHelp("A scripted phase (repeatable): seconds:key=value,… with service-time, error-rate, or close.", valueName: "phase"))
    var phase: [String] = []

    @Option(help: "Seed of the service times and errors.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("The hosts' names, one per port (they name the random streams: a simulated host of the same name decides alike).",
                               valueName: "name,…"))
    var names: String?

    @Option(help: ArgumentHelp("On exit, write what the hosts did as a result file (JSON).", valueName: "file"))
    var result: String?

    @Option(help: "Event loops (threads).")
    var eventLoops = System.coreCount

    func validate() throws {
        if workload == nil && protocolOption == nil { throw ValidationError("give --protocol (or --workload with --host)") }
        if workload != nil && workloadHosts.isEmpty { throw ValidationError("--workload needs the hosts to serve: --workload-host ADDRESS") }
    }

    func run() async throws {
        var protocolName = protocolOption ?? ""
        var portNumbers = try Self.ports(ports)
        var behaviour = try self.behaviour()
        var names = self.names
        if let workload {
            let script: WorkloadScript
            do {
                script = try WorkloadReader.read(file: workload, overrides: overrides)
            } catch {
                throw ValidationError("\(error)")
            }
            let behaviours = try workloadHosts.map { address in
                guard let cluster = script.cluster(of: address) else { throw ValidationError("--workload-host \(address): the workload has no such host") }
                return script.services.first { $0.cluster == cluster }?.behaviour(of: address) ?? HostBehaviour()
            }
            guard behaviours.allSatisfy({ $0 == behaviours[0] }) else {
                throw ValidationError("the hosts \(workloadHosts.joined(separator: ", ")) behave differently: serve them from separate processes")
            }
            behaviour = behaviours[0]
            protocolName = script.proxy.configuration.protocolName
            portNumbers = Array(repeating: 0, count: workloadHosts.count)
            names = workloadHosts.joined(separator: ",")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops)
        let server = try await SyntheticServer.start(protocolName: protocolName, host: host, ports: portNumbers, behaviour: behaviour, group: group, seed: seed,
                                                     names: names.map { $0.split(separator: ",").map(String.init) })
        // Said on standard output at once (a script waits for these lines before it goes on).
        for address in server.addresses { Self.say("serving \(protocolName) on \(address.hostAndPort)") }
        _ = await Signals.wait(for: [SIGTERM, SIGINT])
        let counters = await server.counters()
        let hosts = await server.hostResults()
        await server.stop()
        for (address, c) in zip(server.addresses, counters) {
            Self.say("\(address.hostAndPort): \(c.calls) calls, \(c.answered) answered, \(c.errors) errors, \(c.rejected) rejected, \(c.oneway) oneway, peak \(c.peakConcurrency) at once")
        }
        if let result {
            let seconds = hosts.map(\.windowSeconds).max() ?? 0
            var run = RunResult(provenance: .current(seed: seed, startedAt: Date(timeIntervalSinceNow: -seconds)), driver: .sockets,
                                window: MeasuredWindow(warmUpSeconds: 0, durationSeconds: seconds, endedAtSeconds: seconds), calls: CallCounts(), hosts: hosts)
            run.counters = zip(server.addresses, counters).map { CounterGroup(name: "synthetic server \($0.hostAndPort)", counters: $1.namedCounters) }
            try run.encoded().write(to: URL(fileURLWithPath: result))
            Self.say("result: \(result)")
        }
        try await group.shutdownGracefully()
    }

    /// The host behaviour the options describe.
    func behaviour() throws -> HostBehaviour {
        var errors = errorRate > 0 ? [ErrorRate.serverError(errorRate)] : []
        errors += try error.map(Self.errorRate)
        let behaviour = HostBehaviour(
            workers: workers, queueLimit: queue, serviceTime: try Distribution(parsing: serviceTime),
            serviceTimeByMethod: try methodServiceTime.map { entry in
                let kv = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2, !kv[0].isEmpty else { throw ValidationError("--method-service-time \(entry): expected method=distribution") }
                return MethodServiceTime(kv[0], try Distribution(parsing: kv[1]))
            },
            secondsPerByte: secondsPerByte, errors: errors,
            responseSize: responseSize == "echo" ? .echo : .sized(try Distribution(parsing: responseSize)),
            phases: try phase.map(Self.phase))
        if let problem = behaviour.problem { throw ValidationError(problem) }
        return behaviour
    }

    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    static func int(_ text: String, _ option: String) throws -> Int {
        guard let n = Int(text), n >= 0 else { throw ValidationError("\(option): \"\(text)\" is not a non-negative number") }
        return n
    }

    static func ports(_ text: String) throws -> [Int] { try OptionValues.ports(text) }

    static func errorRate(_ text: String) throws -> ErrorRate {
        let kv = text.split(separator: "=", maxSplits: 1).map(String.init)
        let categories: [ResponseStatus.Category] = [.serverError, .applicationError, .unavailable]
        guard kv.count == 2, let category = categories.first(where: { $0.description == kv[0] }), let share = Double(kv[1]), (0...1).contains(share) else {
            throw ValidationError("--error \(text): expected category=share, the category one of \(categories.map(\.description).joined(separator: ", ")) and the share 0 to 1")
        }
        return ErrorRate(category, share)
    }

    static func phase(_ text: String) throws -> HostPhase {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let seconds = Double(parts[0]) else {
            throw ValidationError("--phase \(text): expected seconds:key=value,… (service-time, error-rate, close)")
        }
        var phase = HostPhase(at: try OptionValues.duration(seconds: seconds, "--phase", zeroAllowed: true))
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
                phase.errors = [.serverError(rate)]
            default: throw ValidationError("--phase \(text): unknown setting \"\(entry)\" (service-time=…, error-rate=…, close)")
            }
        }
        return phase
    }
}
