import Foundation
import Histogram
import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import NIOPosix

// A first measurement of the real proxy (the full harness is the load generator's job):
//
//   swift run -c release ProxyProbe <path to a release mplab>
//
// Starts `mplab serve` (Dubbo, answers at once) and `mplab proxy` (one event loop: one core) as
// processes of their own, then measures from here:
//   1. added latency: open-loop calls at a modest rate, timed from when each should have been
//      sent, straight to the server and through the proxy, in alternating rounds, for 20 B and
//      120 KB payloads;
//   2. the proxy's resident memory idle and with 1000 client connections;
//   3. requests/s through the proxy on its one core with 1 KB calls at saturation (closed loop),
//      with the proxy process's CPU use over the run.

guard CommandLine.arguments.count >= 2 else {
    print("usage: ProxyProbe <mplab executable> [rate] [round seconds] [rounds]")
    exit(2)
}
let mplab = CommandLine.arguments[1]
let rate = CommandLine.arguments.count > 2 ? Double(CommandLine.arguments[2])! : 500
let roundSeconds = CommandLine.arguments.count > 3 ? Double(CommandLine.arguments[3])! : 5
let rounds = CommandLine.arguments.count > 4 ? Int(CommandLine.arguments[4])! : 3

var limit = rlimit()
getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
limit.rlim_cur = limit.rlim_max
setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)

/// A child process and the first line of its output that matches.
final class Child {
    let process = Process()
    let lines = Pipe()

    init(_ arguments: [String], waitFor needle: String) throws {
        process.executableURL = URL(filePath: mplab)
        process.arguments = arguments
        process.standardOutput = lines
        process.standardError = lines
        try process.run()
        var seen = ""
        while !seen.contains(needle) {
            let chunk = lines.fileHandleForReading.availableData
            if chunk.isEmpty { fatalError("\(arguments[0]) exited: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        firstOutput = seen
    }

    let firstOutput: String

    var rssKB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// User + system CPU seconds so far.
    var cpuSeconds: Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        process.interrupt()
        process.waitUntilExit()
    }
}

func port(after marker: String, in text: String) -> Int {
    let rest = text.components(separatedBy: marker)[1]
    return Int(rest.prefix { $0.isNumber })!
}

let server = try Child(["serve", "--protocol", "dubbo", "--ports", "0", "--event-loops", "1"], waitFor: "serving dubbo on")
let serverPort = port(after: "serving dubbo on 127.0.0.1:", in: server.firstOutput)
let configPath = FileManager.default.temporaryDirectory.appending(path: "probe-\(getpid()).yaml").path
try """
    apiVersion: metaprotocol.aeraki.io/v1alpha1
    kind: MetaRouter
    metadata: { name: probe }
    spec:
      hosts: [svc]
      routes: [{ name: all, route: [{ destination: { host: svc } }] }]
    ---
    apiVersion: networking.istio.io/v1beta1
    kind: ServiceEntry
    metadata: { name: svc }
    spec:
      hosts: [svc]
      ports: [{ number: \(serverPort), name: tcp-metaprotocol-dubbo-svc, protocol: TCP }]
      endpoints: [{ address: 127.0.0.1 }]

    """.write(toFile: configPath, atomically: true, encoding: .utf8)
let proxy = try Child(["proxy", "--config", configPath, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--event-loops", "1"], waitFor: "admin endpoint")
let proxyPort = port(after: "address=127.0.0.1:", in: proxy.firstOutput)
print("server on \(serverPort), proxy on \(proxyPort) (pid \(proxy.process.processIdentifier), 1 event loop)")

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let synthesizer = DubboSynthesizer()

/// One client connection; `onAnswer` runs on its loop for each answer.
final class Connection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var codec = DubboCodec()
    var buffer = ByteBuffer()
    var onAnswer: (Message) -> Void = { _ in }
    var channel: Channel!

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        while let m = try! codec.decode(&buffer) { onAnswer(m) }
        buffer.discardReadBytes()
    }

    static func open(port: Int) throws -> Connection {
        let handler = Connection()
        handler.channel = try ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
            .connect(host: "127.0.0.1", port: port).wait()
        return handler
    }
}

/// Open loop: `rate` calls a second for `seconds`, each timed from its intended send time.
func openLoop(port: Int, payload: Int, rate: Double, seconds: Double) throws -> Histogram<UInt64> {
    let c = try Connection.open(port: port)
    let loop = c.channel.eventLoop
    let total = Int(rate * seconds)
    let done = loop.makePromise(of: Histogram<UInt64>.self)
    try loop.submit {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var intended: [UInt64: UInt64] = [:]
        var answered = 0
        c.onAnswer = { m in
            guard let t = intended.removeValue(forKey: m.requestID) else { return }
            histogram.record(DispatchTime.now().uptimeNanoseconds - t)
            answered += 1
            if answered == total { done.succeed(histogram) }
        }
        let start = DispatchTime.now().uptimeNanoseconds + 10_000_000
        for i in 0..<total {
            let at = start + UInt64(Double(i) / rate * 1e9)
            loop.scheduleTask(deadline: .uptimeNanoseconds(at)) {
                intended[UInt64(i + 1)] = at
                c.channel.writeAndFlush(try! synthesizer.request(id: UInt64(i + 1), attributes: [KeyValue("method", "get")], payloadSize: payload, oneway: false), promise: nil)
            }
        }
    }.wait()
    let result = try done.futureResult.wait()
    try c.channel.close().wait()
    return result
}

func ms(_ ns: UInt64) -> String { String(format: "%.3f", Double(ns) / 1e6) }

// 1. Added latency, alternating rounds.
print("\n## Added latency, open loop at \(Int(rate))/s, \(rounds) alternating rounds of \(Int(roundSeconds)) s per path")
_ = try openLoop(port: proxyPort, payload: 1024, rate: rate, seconds: 1)  // warm-up: connections, caches
_ = try openLoop(port: serverPort, payload: 1024, rate: rate, seconds: 1)
print("| payload | path | samples | p50 ms | p99 ms | p99.9 ms | max ms |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for payload in [20, 120 * 1024] {
    var direct = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    var proxied = direct
    for _ in 0..<rounds {
        direct.add(try openLoop(port: serverPort, payload: payload, rate: rate, seconds: roundSeconds))
        proxied.add(try openLoop(port: proxyPort, payload: payload, rate: rate, seconds: roundSeconds))
    }
    for (name, h) in [("direct", direct), ("via proxy", proxied)] {
        print("| \(payload) B | \(name) | \(h.totalCount) | \(ms(h.valueAtPercentile(50))) | \(ms(h.valueAtPercentile(99))) | \(ms(h.valueAtPercentile(99.9))) | \(ms(h.max)) |")
    }
    let add50 = Int64(proxied.valueAtPercentile(50)) - Int64(direct.valueAtPercentile(50))
    let add99 = Int64(proxied.valueAtPercentile(99)) - Int64(direct.valueAtPercentile(99))
    print("| \(payload) B | added | | \(String(format: "%.3f", Double(add50) / 1e6)) | \(String(format: "%.3f", Double(add99) / 1e6)) | | |")
}

// 2. Memory.
print("\n## Proxy resident memory")
print("idle (after the latency rounds): \(proxy.rssKB) KB")
var held: [Connection] = []
for _ in 0..<1000 { held.append(try Connection.open(port: proxyPort)) }
for (i, c) in held.enumerated() {
    let p = c.channel.eventLoop.makePromise(of: Void.self)
    try c.channel.eventLoop.submit {
        c.onAnswer = { _ in p.succeed(()) }
        c.channel.writeAndFlush(try! synthesizer.request(id: UInt64(i + 1), attributes: [KeyValue("method", "get")], payloadSize: 20, oneway: false), promise: nil)
    }.wait()
    try p.futureResult.wait()
}
try await Task.sleep(for: .milliseconds(500))
print("with 1000 client connections (each made one call): \(proxy.rssKB) KB")
for c in held { try c.channel.close().wait() }
held = []

// 3. Saturation on one core.
print("\n## Saturation, closed loop, 1 KB calls")
let connections = 8, perConnection = 32, seconds = 10.0
let counts = (0..<connections).map { _ in ManagedCount() }
final class ManagedCount: @unchecked Sendable { var n = 0 }
var clients: [Connection] = []
for k in 0..<connections {
    let c = try Connection.open(port: proxyPort)
    clients.append(c)
    let counter = counts[k]
    try c.channel.eventLoop.submit {
        var next: UInt64 = 1
        func send() {
            c.channel.writeAndFlush(try! synthesizer.request(id: next, attributes: [KeyValue("method", "get")], payloadSize: 1024, oneway: false), promise: nil)
            next += 1
        }
        c.onAnswer = { _ in
            counter.n += 1
            send()
        }
        for _ in 0..<perConnection { send() }
    }.wait()
}
try await Task.sleep(for: .seconds(1))  // warm-up
let before = try clients.indices.map { i in try clients[i].channel.eventLoop.submit { counts[i].n }.wait() }.reduce(0, +)
let cpuBefore = proxy.cpuSeconds, wallBefore = Date()
try await Task.sleep(for: .seconds(seconds))
let after = try clients.indices.map { i in try clients[i].channel.eventLoop.submit { counts[i].n }.wait() }.reduce(0, +)
let wall = Date().timeIntervalSince(wallBefore), cpu = proxy.cpuSeconds - cpuBefore
print("\(after - before) calls in \(String(format: "%.2f", wall)) s: \(Int(Double(after - before) / wall)) calls/s through the proxy; proxy CPU \(String(format: "%.0f", cpu / wall * 100)) % of one core")
for c in clients { c.channel.close(promise: nil) }

proxy.stop()
server.stop()
try? FileManager.default.removeItem(atPath: configPath)
