import Foundation
import MetaProtocol
import TrafficModel
import Yams

/// The world's parts of a workload: who calls and how (clients), how hosts serve (services),
/// the network, the fault timeline, autoscaling, the simulated rate-limit service.
extension WorkloadReader {
    // MARK: clients

    static func readClients(_ node: Node, _ r: inout ManifestReader) -> [WorkloadScript.ClientSection] {
        var out: [WorkloadScript.ClientSection] = []
        let items = r.list(node, "clients")
        if items.isEmpty && node.sequence != nil { r.fail(node, "clients", "expected at least one client") }
        for (i, item) in items.enumerated() {
            let path = "clients[\(i)]"
            var client = WorkloadScript.ClientSection(name: "client \(i)", arrivals: .poisson(rate: 100), mix: [CallTemplate(attributes: [])],
                                                      payloadSizes: [1024], payloadDistribution: nil, proxyInstance: nil)
            var sawArrivals = false
            for (key, value) in r.fields(item, path, known: ["name", "arrivals", "mix", "payload", "instance"]) {
                let p = "\(path).\(key)"
                switch key {
                case "name": client.name = r.string(value, p) ?? client.name
                case "arrivals":
                    sawArrivals = true
                    client.arrivals = readArrivals(value, p, &r) ?? client.arrivals
                case "mix": client.mix = readMix(value, p, &r)
                case "payload": readPayload(value, p, into: &client, &r)
                case "instance": client.proxyInstance = r.int(value, p)
                default: break
                }
            }
            if !sawArrivals { r.fail(item, "\(path).arrivals", "a client needs arrivals (poisson 100/s, constant 50/s, or a mapping such as flashCrowd)") }
            if out.contains(where: { $0.name == client.name }) { r.fail(item, "\(path).name", "two clients are named \"\(client.name)\"") }
            out.append(client)
        }
        return out
    }

    /// A rate: `2000/s`, `120/min`, or a bare number per second.
    static func rate(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("/s", 1.0), ("/min", 1.0 / 60), ("/m", 1.0 / 60), ("/h", 1.0 / 3600)] where s.hasSuffix(suffix) {
            return Double(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)).flatMap { $0 >= 0 && $0.isFinite ? $0 * scale : nil }
        }
        return Double(s).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil }
    }

    static func readRate(_ node: Node, _ path: String, _ r: inout ManifestReader) -> Double? {
        guard let s = node.scalar?.string, let v = rate(s) else {
            r.fail(node, path, "expected a rate such as 2000/s or 120/min, not \(ManifestReader.describe(node))")
            return nil
        }
        return v
    }

    static let arrivalKinds = ["constant", "poisson", "bursty", "ramp", "diurnal", "flashCrowd", "profile"]

    /// `poisson 2000/s`, `constant 100/s`, or a one-key mapping: `{ flashCrowd: { base: 100/s,
    /// multiplier: 20, at: 10s, rise: 2s, hold: 5s, decay: 3s } }`, `{ ramp: { from, to, over } }`,
    /// `{ bursty: { on, off, onFor, offFor } }`, `{ diurnal: { base, amplitude, period } }`,
    /// `{ profile: file.csv }`.
    static func readArrivals(_ node: Node, _ path: String, _ r: inout ManifestReader) -> ArrivalProcess? {
        if let s = node.scalar?.string {
            let parts = s.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let v = rate(parts[1]) else {
                r.fail(node, path, "expected poisson RATE or constant RATE (poisson 2000/s), or a mapping such as { flashCrowd: {…} }, not \"\(s)\"")
                return nil
            }
            switch parts[0] {
            case "poisson": return .poisson(rate: v)
            case "constant": return .constant(rate: v)
            default:
                let guess = Suggestion.closest(to: parts[0], in: arrivalKinds)
                r.fail(node, path, "unknown arrival process \"\(parts[0])\"" + (guess.map { "; did you mean '\($0)'?" } ?? " (poisson, constant, or a mapping: bursty, ramp, diurnal, flashCrowd, profile)"))
                return nil
            }
        }
        let entries = r.fields(node, path, known: arrivalKinds)
        guard entries.count == 1, let (kind, value) = entries.first else {
            if entries.count > 1 { r.fail(node, path, "one arrival process per client") }
            return nil
        }
        let p = "\(path).\(kind)"
        switch kind {
        case "constant", "poisson":
            guard let v = readRate(value, p, &r) else { return nil }
            return kind == "poisson" ? .poisson(rate: v) : .constant(rate: v)
        case "profile":
            guard let file = r.string(value, p) else { return nil }
            let full = file.hasPrefix("/") ? file : ((r.file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file)
            do {
                return try ArrivalProcess.profile(csvFile: full)
            } catch {
                r.fail(value, p, "\(error)")
                return nil
            }
        default: break
        }
        let shapes: [String: [String]] = [
            "bursty": ["on", "off", "onFor", "offFor"], "ramp": ["from", "to", "over"], "diurnal": ["base", "amplitude", "period"],
            "flashCrowd": ["base", "multiplier", "at", "rise", "hold", "decay"],
        ]
        var rates: [String: Double] = [:], durations: [String: Duration] = [:], numbers: [String: Double] = [:]
        for (k, v) in r.fields(value, p, known: shapes[kind]!) {
            switch k {
            case "on", "off", "from", "to", "base": rates[k] = readRate(v, "\(p).\(k)", &r)
            case "amplitude", "multiplier": numbers[k] = r.double(v, "\(p).\(k)")
            default: durations[k] = r.duration(v, "\(p).\(k)")
            }
        }
        let missing = shapes[kind]!.filter { rates[$0] == nil && durations[$0] == nil && numbers[$0] == nil }
        guard missing.isEmpty else {
            r.fail(value, p, "\(kind) needs \(missing.joined(separator: ", "))")
            return nil
        }
        switch kind {
        case "bursty": return .bursty(onRate: rates["on"]!, offRate: rates["off"]!, on: durations["onFor"]!, off: durations["offFor"]!)
        case "ramp": return .ramp(from: rates["from"]!, to: rates["to"]!, over: durations["over"]!)
        case "diurnal": return .diurnal(base: rates["base"]!, amplitude: numbers["amplitude"]!, period: durations["period"]!)
        default:
            return .flashCrowd(base: rates["base"]!, multiplier: numbers["multiplier"]!, at: durations["at"]!, rise: durations["rise"]!,
                               hold: durations["hold"]!, decay: durations["decay"]!)
        }
    }

    /// `- { weight: 9, attributes: { cmd: "153" }, oneway: false }`, in order.
    static func readMix(_ node: Node, _ path: String, _ r: inout ManifestReader) -> [CallTemplate] {
        var mix: [CallTemplate] = []
        for (i, item) in r.list(node, path).enumerated() {
            let p = "\(path)[\(i)]"
            var t = CallTemplate(attributes: [])
            for (key, value) in r.fields(item, p, known: ["weight", "attributes", "oneway"]) {
                switch key {
                case "weight":
                    if let w = r.double(value, "\(p).weight") { if w >= 0 { t.weight = w } else { r.fail(value, "\(p).weight", "expected a weight of 0 or more") } }
                case "attributes":
                    guard let mapping = value.mapping else {
                        r.fail(value, "\(p).attributes", "expected a mapping of attribute names to values")
                        continue
                    }
                    for (k, v) in mapping {
                        guard let name = k.scalar?.string, let text = v.scalar?.string else {
                            r.fail(k, "\(p).attributes", "expected string names and values")
                            continue
                        }
                        t.attributes.append(KeyValue(name, text))
                    }
                case "oneway": t.oneway = r.bool(value, "\(p).oneway") ?? false
                default: break
                }
            }
            mix.append(t)
        }
        if mix.isEmpty { r.fail(node, path, "expected at least one kind of call") }
        if !mix.isEmpty && mix.allSatisfy({ $0.weight == 0 }) { r.fail(node, path, "every weight is 0: no call would be sent") }
        return mix
    }

    /// `1KB`, `[20B, 120KB]` (sizes sharing the rate), or a distribution of bytes (`uniform:20,2000`).
    static func readPayload(_ node: Node, _ path: String, into client: inout WorkloadScript.ClientSection, _ r: inout ManifestReader) {
        if let s = node.scalar?.string, s.contains(":") {
            do {
                client.payloadDistribution = try Distribution(parsing: s)
            } catch {
                r.fail(node, path, error.reason)
            }
            return
        }
        let items = node.sequence.map(Array.init) ?? [node]
        var sizes: [Int] = []
        for (i, item) in items.enumerated() {
            let p = node.sequence == nil ? path : "\(path)[\(i)]"
            guard let s = item.scalar?.string else {
                r.fail(item, p, "expected a byte count such as 20B, 1KB, 120KB")
                continue
            }
            do {
                sizes.append(try ByteSize.parse(s))
            } catch {
                r.fail(item, p, error.description)
            }
        }
        if sizes.isEmpty && r.errors.isEmpty { r.fail(node, path, "expected at least one payload size") }
        if !sizes.isEmpty { client.payloadSizes = sizes }
    }

    // MARK: services

    static let behaviourFields = ["workers", "queueLimit", "serviceTime", "methods", "secondsPerByte", "errors", "response", "speed", "phases"]

    /// `services: { CLUSTER: { behaviour fields…, hosts: { ADDRESS: { behaviour fields… } } } }`.
    static func readServices(_ node: Node, clusters: [ClusterConfiguration], _ r: inout ManifestReader) -> [ServiceModel] {
        guard let mapping = node.mapping else {
            r.fail(node, "services", "expected a mapping of cluster names to how their hosts behave")
            return []
        }
        var out: [ServiceModel] = []
        for (k, value) in mapping {
            guard let name = k.scalar?.string else { continue }
            let path = "services.\(name)"
            guard let cluster = clusters.first(where: { $0.name == name }) else {
                let guess = Suggestion.closest(to: name, in: clusters.map(\.name))
                r.fail(k, path, "no cluster of the proxy is named \"\(name)\"" + (guess.map { "; did you mean '\($0)'?" } ?? " (clusters: \(clusters.map(\.name).joined(separator: ", ")))"))
                continue
            }
            var behaviour = HostBehaviour()
            var overrides: [String: HostBehaviour] = [:]
            var hostsNode: Node?
            for (field, v) in r.fields(value, path, known: behaviourFields + ["hosts"]) {
                if field == "hosts" { hostsNode = v } else { readBehaviourField(field, v, "\(path).\(field)", into: &behaviour, &r) }
            }
            if let problem = behaviour.problem { r.fail(value, path, problem) }
            if let hostsNode, let hosts = hostsNode.mapping {
                for (hk, hv) in hosts {
                    guard let address = hk.scalar?.string else { continue }
                    let hp = "\(path).hosts.\(address)"
                    guard cluster.hosts.contains(where: { $0.address == address }) else {
                        let guess = Suggestion.closest(to: address, in: cluster.hosts.map(\.address))
                        r.fail(hk, hp, "\(name) has no host \(address)" + (guess.map { "; did you mean '\($0)'?" } ?? ""))
                        continue
                    }
                    var b = behaviour
                    for (field, v) in r.fields(hv, hp, known: behaviourFields) { readBehaviourField(field, v, "\(hp).\(field)", into: &b, &r) }
                    if let problem = b.problem { r.fail(hv, hp, problem) }
                    overrides[address] = b
                }
            } else if let hostsNode {
                r.fail(hostsNode, "\(path).hosts", "expected a mapping of host addresses to how they differ")
            }
            out.append(ServiceModel(cluster: name, behaviour: behaviour, overrides: overrides))
        }
        return out
    }

    static func distribution(_ node: Node, _ path: String, _ r: inout ManifestReader) -> Distribution? {
        guard let s = node.scalar?.string else {
            r.fail(node, path, "expected a distribution such as exp:2ms, lognormal:4ms,2ms, uniform:1ms,3ms or 2ms")
            return nil
        }
        do {
            return try Distribution(parsing: s)
        } catch {
            r.fail(node, path, error.reason)
            return nil
        }
    }

    static func readErrors(_ node: Node, _ path: String, _ r: inout ManifestReader) -> [ErrorRate] {
        let names: [(String, ResponseStatus.Category)] = [("serverError", .serverError), ("applicationError", .applicationError), ("unavailable", .unavailable)]
        var out: [ErrorRate] = []
        for (k, v) in r.fields(node, path, known: names.map(\.0)) {
            guard let category = names.first(where: { $0.0 == k })?.1, let p = r.double(v, "\(path).\(k)") else { continue }
            out.append(ErrorRate(category, p))
        }
        return out
    }

    static func readBehaviourField(_ field: String, _ v: Node, _ p: String, into b: inout HostBehaviour, _ r: inout ManifestReader) {
        switch field {
        case "workers":
            if v.scalar?.string == "unlimited" { b.workers = nil } else if let n = r.int(v, p) { b.workers = n }
        case "queueLimit":
            if v.scalar?.string == "unlimited" { b.queueLimit = nil } else if let n = r.int(v, p) { b.queueLimit = n }
        case "serviceTime": b.serviceTime = distribution(v, p, &r) ?? b.serviceTime
        case "methods":
            b.serviceTimeByMethod = []
            for (k, d) in v.mapping ?? [:] {
                guard let m = k.scalar?.string, let dist = distribution(d, "\(p).\(m)", &r) else { continue }
                b.serviceTimeByMethod.append(MethodServiceTime(m, dist))
            }
            if v.mapping == nil { r.fail(v, p, "expected a mapping of method names to service times") }
        case "secondsPerByte":
            if case .constant(let x)? = distribution(v, p, &r) { b.secondsPerByte = x } else if v.scalar?.string.contains(":") == true {
                r.fail(v, p, "expected one value (seconds, or 10ns)")
            }
        case "errors": b.errors = readErrors(v, p, &r)
        case "response":
            if v.scalar?.string == "echo" { b.responseSize = .echo } else if let s = v.scalar?.string, s.contains(":") {
                if let d = distribution(v, p, &r) { b.responseSize = .sized(d) }
            } else if let s = v.scalar?.string, let n = try? ByteSize.parse(s) {
                b.responseSize = .sized(.constant(Double(n)))
            } else {
                r.fail(v, p, "expected echo, a byte count (1KB) or a distribution of bytes (uniform:100,2000)")
            }
        case "speed": b.speedFactor = r.double(v, p) ?? b.speedFactor
        case "phases":
            var phases: [HostPhase] = []
            for (i, item) in r.list(v, p).enumerated() {
                let pp = "\(p)[\(i)]"
                var phase = HostPhase(at: .zero)
                var sawAt = false
                for (k, x) in r.fields(item, pp, known: ["at", "serviceTime", "errors", "closesConnections"]) {
                    switch k {
                    case "at":
                        sawAt = true
                        phase.at = r.duration(x, "\(pp).at") ?? .zero
                    case "serviceTime": phase.serviceTime = distribution(x, "\(pp).serviceTime", &r)
                    case "errors": phase.errors = readErrors(x, "\(pp).errors", &r)
                    case "closesConnections": phase.closesConnections = r.bool(x, "\(pp).closesConnections") ?? false
                    default: break
                    }
                }
                if !sawAt { r.fail(item, "\(pp).at", "a phase needs at: when it starts") }
                phases.append(phase)
            }
            b.phases = phases.sorted { $0.at < $1.at }
        default: break
        }
    }

    // MARK: network

    static func readNetwork(_ node: Node, _ base: WorkloadScript.NetworkSection, _ r: inout ManifestReader) -> WorkloadScript.NetworkSection {
        var n = base
        for (k, v) in r.fields(node, "network", known: ["clientToProxy", "proxyToHost", "bandwidth", "fromDirectPath"]) {
            let p = "network.\(k)"
            switch k {
            case "clientToProxy": n.clientToProxy = distribution(v, p, &r) ?? n.clientToProxy
            case "proxyToHost": n.proxyToHost = distribution(v, p, &r) ?? n.proxyToHost
            case "bandwidth":
                let s = (v.scalar?.string ?? "").replacingOccurrences(of: "/s", with: "")
                if let bytes = try? ByteSize.parse(s), bytes > 0 { n.bandwidth = Double(bytes) } else { r.fail(v, p, "expected bytes per second such as 1250MB/s") }
            case "fromDirectPath": n.fromDirectPath = r.bool(v, p) ?? n.fromDirectPath
            default: break
            }
        }
        return n
    }

    // MARK: faults

    static let faultKinds = ["crash", "slowDown", "errorBurst", "partition", "addedLatency"]

    /// `- { at: 10s, crash: 10.0.0.3:9000, for: 8s }`; `slowDown: HOST, factor: 10`; `errorBurst:
    /// HOST, probability: 0.5`; `partition: HOST`; `addedLatency: 20ms`. `for` undoes it after.
    static func readFaults(_ node: Node, hosts: [String], _ r: inout ManifestReader) -> [FaultEvent] {
        var out: [FaultEvent] = []
        for (i, item) in r.list(node, "faults").enumerated() {
            let path = "faults[\(i)]"
            var at: Duration?, lasting: Duration?, factor: Double?, probability: Double?
            var kind: String?, subject: Node?
            for (k, v) in r.fields(item, path, known: ["at", "for", "factor", "probability"] + faultKinds) {
                switch k {
                case "at": at = r.duration(v, "\(path).at")
                case "for": lasting = positiveDuration(v, "\(path).for", &r)
                case "factor": factor = r.double(v, "\(path).factor")
                case "probability": probability = r.double(v, "\(path).probability")
                default:
                    if kind != nil { r.fail(v, "\(path).\(k)", "one fault per entry (this one is already a \(kind!))") }
                    kind = k
                    subject = v
                }
            }
            guard let at else {
                r.fail(item, "\(path).at", "a fault needs at: when it happens")
                continue
            }
            guard let kind, let subject else {
                r.fail(item, path, "a fault needs one of: \(faultKinds.joined(separator: ", "))")
                continue
            }
            let p = "\(path).\(kind)"
            func host() -> String? {
                guard let h = r.string(subject, p) else { return nil }
                guard hosts.contains(h) else {
                    let guess = Suggestion.closest(to: h, in: hosts)
                    r.fail(subject, p, "no host \(h) in the proxy's clusters" + (guess.map { "; did you mean '\($0)'?" } ?? ""))
                    return nil
                }
                return h
            }
            let events: (Fault, Fault)?
            switch kind {
            case "crash": events = host().map { (.crash(host: $0), .restart(host: $0)) }
            case "partition": events = host().map { (.partition(host: $0), .heal(host: $0)) }
            case "slowDown":
                guard let f = factor, f > 0 else {
                    r.fail(item, "\(path).factor", "slowDown needs factor: how many times slower (above 0)")
                    continue
                }
                events = host().map { (.slowDown(host: $0, factor: f), .slowDown(host: $0, factor: 1)) }
            case "errorBurst":
                guard let q = probability, q >= 0, q <= 1 else {
                    r.fail(item, "\(path).probability", "errorBurst needs probability: 0 to 1")
                    continue
                }
                events = host().map { (.errorBurst(host: $0, probability: q), .errorBurst(host: $0, probability: nil)) }
            default:
                guard case .constant(let seconds)? = distribution(subject, p, &r) else { continue }
                events = (.addedLatency(seconds: seconds), .addedLatency(seconds: 0))
            }
            guard let (on, off) = events else { continue }
            out.append(FaultEvent(at: at, on))
            if let lasting { out.append(FaultEvent(at: at + lasting, off)) }
        }
        return out.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }

    // MARK: autoscaling, rate-limit service

    static func readAutoscaling(_ node: Node, clusters: [String], _ r: inout ManifestReader) -> AutoscalingRule? {
        var a = AutoscalingRule(cluster: "", threshold: 0)
        var sawThreshold = false
        for (k, v) in r.fields(node, "autoscaling", known: ["cluster", "window", "threshold", "hostsPerStep", "provisioningDelay", "maxHosts", "labels"]) {
            let p = "autoscaling.\(k)"
            switch k {
            case "cluster":
                a.cluster = r.string(v, p) ?? ""
                if !clusters.contains(a.cluster) { r.fail(v, p, "no cluster \"\(a.cluster)\" (clusters: \(clusters.joined(separator: ", ")))") }
            case "window": a.window = positiveDuration(v, p, &r) ?? a.window
            case "threshold":
                sawThreshold = true
                a.threshold = r.int(v, p) ?? 0
            case "hostsPerStep": a.hostsPerStep = r.int(v, p) ?? 1
            case "provisioningDelay": a.provisioningDelay = r.duration(v, p) ?? a.provisioningDelay
            case "maxHosts": a.maxHosts = r.int(v, p) ?? a.maxHosts
            case "labels": a.labels = r.stringMap(v, p)
            default: break
            }
        }
        if a.cluster.isEmpty { r.fail(node, "autoscaling.cluster", "autoscaling needs the cluster it scales") }
        if !sawThreshold { r.fail(node, "autoscaling.threshold", "autoscaling needs threshold: rate-limited calls per window that add hosts") }
        return a
    }

    static func readRateLimitService(_ node: Node, _ r: inout ManifestReader) -> RateLimitServiceModel? {
        var maxTokens: Int?, perFill: Int?, interval = Duration.seconds(1)
        var s = RateLimitServiceModel(bucket: TokenBucketSpec(maxTokens: 1, tokensPerFill: 1, fillInterval: .seconds(1)))
        for (k, v) in r.fields(node, "rateLimitService", known: ["maxTokens", "tokensPerFill", "fillInterval", "latency", "failureProbability"]) {
            let p = "rateLimitService.\(k)"
            switch k {
            case "maxTokens": maxTokens = r.int(v, p)
            case "tokensPerFill": perFill = r.int(v, p)
            case "fillInterval": interval = r.duration(v, p) ?? interval
            case "latency": s.latency = distribution(v, p, &r) ?? s.latency
            case "failureProbability": s.failureProbability = r.double(v, p) ?? 0
            default: break
            }
        }
        guard let maxTokens, let perFill else {
            r.fail(node, "rateLimitService", "the service's bucket needs maxTokens and tokensPerFill (and fillInterval, 1s by default)")
            return nil
        }
        if interval < TokenBucketSpec.minimumFillInterval { r.fail(node["fillInterval"] ?? node, "rateLimitService.fillInterval", "at least 50ms") }
        s.bucket = TokenBucketSpec(maxTokens: maxTokens, tokensPerFill: perFill, fillInterval: interval)
        return s
    }

    // MARK: real sockets

    static func readReal(_ node: Node, _ base: WorkloadScript.RealSection, _ r: inout ManifestReader) -> WorkloadScript.RealSection {
        var s = base
        for (k, v) in r.fields(node, "real", known: ["rateScale", "duration", "connections", "requestTimeout", "proxyEventLoops"]) {
            let p = "real.\(k)"
            switch k {
            case "rateScale":
                if let x = r.double(v, p) { if x > 0 { s.rateScale = x } else { r.fail(v, p, "expected a factor above 0") } }
            case "duration": s.duration = positiveDuration(v, p, &r)
            case "connections": s.connections = max(1, r.int(v, p) ?? s.connections)
            case "requestTimeout": s.requestTimeout = positiveDuration(v, p, &r) ?? s.requestTimeout
            case "proxyEventLoops": s.proxyEventLoops = max(1, r.int(v, p) ?? s.proxyEventLoops)
            default: break
            }
        }
        return s
    }

    static func readOverhead(_ node: Node, protocolName: String, _ r: inout ManifestReader) -> WorkloadScript.OverheadSection? {
        var o = WorkloadScript.OverheadSection(protocolName: protocolName.isEmpty ? "livepacket" : protocolName, sizes: [20, 120 << 10], rounds: 4,
                                               roundDuration: .seconds(1), rate: 500, connections: 1, haproxy: true)
        for (k, v) in r.fields(node, "overhead", known: ["protocol", "sizes", "rounds", "roundDuration", "rate", "connections", "haproxy"]) {
            let p = "overhead.\(k)"
            switch k {
            case "protocol": o.protocolName = r.string(v, p) ?? o.protocolName
            case "sizes":
                var sizes: [Int] = []
                for (i, s) in r.strings(v, p).enumerated() {
                    do { sizes.append(try ByteSize.parse(s)) } catch { r.fail(v, "\(p)[\(i)]", error.reason) }
                }
                if !sizes.isEmpty { o.sizes = sizes }
            case "rounds":
                if let n = r.int(v, p) { if n >= 2 && n % 2 == 0 { o.rounds = n } else { r.fail(v, p, "expected an even number of rounds, 2 or more (ABBA order)") } }
            case "roundDuration": o.roundDuration = positiveDuration(v, p, &r) ?? o.roundDuration
            case "rate": o.rate = readRate(v, p, &r) ?? o.rate
            case "connections": o.connections = max(1, r.int(v, p) ?? 1)
            case "haproxy": o.haproxy = r.bool(v, p) ?? true
            default: break
            }
        }
        return o
    }
}
