import Foundation
import Yams

/// Reads a gate suite, every problem reported with its file, line and field.
public enum GateSuiteReader {
    static let topLevel = ["name", "summary", "simulation", "instructions", "allocations", "latency", "dedicated", "thresholds"]

    /// - Parameter probes: the probe names the gate knows, for "unknown probe" errors.
    public static func read(file path: String, probes: [String]) throws(ManifestErrors) -> GateSuite {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ManifestErrors([ManifestError(file: path, line: nil, column: nil, path: "", reason: "cannot read the file: \(error.localizedDescription)")])
        }
        return try read(text: text, file: path, probes: probes)
    }

    public static func read(text: String, file: String, probes: [String]) throws(ManifestErrors) -> GateSuite {
        var r = ManifestReader(file: file)
        let root: Node
        if let refused = ComplexKeys.firstUse(in: text, file: file) { throw ManifestErrors([refused]) }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ManifestErrors([ManifestError(file: file, line: nil, column: nil, path: "", reason: "the file is empty; a gate suite needs at least one section")])
            }
            root = node
        } catch let e as ManifestErrors {
            throw e
        } catch {
            throw ManifestErrors([ManifestError(file: file, line: nil, column: nil, path: "", reason: "not valid YAML: \(error)")])
        }
        let directory = (file as NSString).deletingLastPathComponent
        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        var suite = GateSuite(file: file, name: stem, summary: "", simulation: nil, instructions: nil, allocations: nil, latency: nil, dedicated: false, thresholds: [])
        for (key, value) in r.fields(root, "", known: topLevel) {
            switch key {
            case "name": suite.name = r.string(value, key) ?? suite.name
            case "summary": suite.summary = r.string(value, key) ?? ""
            case "dedicated": suite.dedicated = r.bool(value, key) ?? false
            case "simulation": suite.simulation = readSimulation(value, directory: directory, &r)
            case "instructions": suite.instructions = readProbes(value, key, known: probes, tolerance: 0.01, iterations: 2_000, &r)
            case "allocations": suite.allocations = readProbes(value, key, known: probes, tolerance: 0, iterations: 2_000, &r)
            case "latency": suite.latency = readLatency(value, &r)
            case "thresholds":
                for (i, item) in r.list(value, key).enumerated() { if let t = readThreshold(item, "thresholds[\(i)]", &r) { suite.thresholds.append(t) } }
            default: break
            }
        }
        if suite.simulation == nil && suite.instructions == nil && suite.allocations == nil && suite.latency == nil {
            r.fail(root, "", "a gate suite needs at least one of simulation, instructions, allocations, latency")
        }
        guard r.errors.isEmpty else { throw ManifestErrors(r.errors) }
        return suite
    }

    static func readSimulation(_ node: Node, directory: String, _ r: inout ManifestReader) -> GateSuite.Simulation {
        var s = GateSuite.Simulation(workloads: [], tolerance: 0.02)
        for (k, v) in r.fields(node, "simulation", known: ["workloads", "tolerance"]) {
            let p = "simulation.\(k)"
            switch k {
            case "workloads":
                for (i, item) in r.list(v, p).enumerated() {
                    guard let name = r.string(item, "\(p)[\(i)]") else { continue }
                    let path = name.hasPrefix("/") ? name : (directory as NSString).appendingPathComponent(name)
                    if FileManager.default.fileExists(atPath: path) { s.workloads.append(path) } else { r.fail(item, "\(p)[\(i)]", "no such workload file: \(path)") }
                }
            case "tolerance": s.tolerance = fraction(v, p, &r) ?? s.tolerance
            default: break
            }
        }
        if s.workloads.isEmpty { r.fail(node, "simulation.workloads", "list at least one workload") }
        return s
    }

    static func readProbes(_ node: Node, _ path: String, known: [String], tolerance: Double, iterations: Int, _ r: inout ManifestReader) -> GateSuite.Probes {
        var s = GateSuite.Probes(probes: [], iterations: iterations, tolerance: tolerance)
        for (k, v) in r.fields(node, path, known: ["probes", "iterations", "tolerance"]) {
            let p = "\(path).\(k)"
            switch k {
            case "probes":
                for (i, item) in r.list(v, p).enumerated() {
                    guard let name = r.string(item, "\(p)[\(i)]") else { continue }
                    if known.contains(name) {
                        s.probes.append(name)
                    } else {
                        let guess = Suggestion.closest(to: name, in: known).map { "; did you mean '\($0)'?" } ?? " (known: \(known.joined(separator: ", ")))"
                        r.fail(item, "\(p)[\(i)]", "unknown probe \"\(name)\"\(guess)")
                    }
                }
            case "iterations":
                if let n = r.int(v, p) { if n >= 100 { s.iterations = n } else { r.fail(v, p, "at least 100 iterations, so that a request's share of the set-up is negligible") } }
            case "tolerance": s.tolerance = fraction(v, p, &r) ?? s.tolerance
            default: break
            }
        }
        if s.probes.isEmpty { r.fail(node, "\(path).probes", "list at least one probe") }
        return s
    }

    static func readLatency(_ node: Node, _ r: inout ManifestReader) -> GateSuite.Latency {
        var l = GateSuite.Latency(protocolName: "livepacket", closedLoop: true, sizes: [20, 1024], rate: 1000, connections: 4, roundDuration: .seconds(1), rounds: 8, step: 4,
                                  maxRounds: 32, minEffect: 0.05, alpha: 0.05)
        let fields = ["protocol", "pacing", "sizes", "rate", "connections", "roundDuration", "rounds", "step", "maxRounds", "minEffect", "alpha"]
        for (k, v) in r.fields(node, "latency", known: fields) {
            let p = "latency.\(k)"
            switch k {
            case "protocol": l.protocolName = r.string(v, p) ?? l.protocolName
            case "pacing":
                switch r.string(v, p) {
                case "closed": l.closedLoop = true
                case "open": l.closedLoop = false
                case let other?: r.fail(v, p, "closed or open, not \"\(other)\"")
                case nil: break
                }
            case "sizes":
                let sizes = r.list(v, p).enumerated().compactMap { r.int($0.element, "\(p)[\($0.offset)]") }
                if sizes.contains(where: { $0 < 0 || $0 > 16 << 20 }) { r.fail(v, p, "sizes are bytes from 0 to 16 MiB") } else { l.sizes = sizes }
            case "rate": if let x = r.double(v, p) { if x > 0 { l.rate = x } else { r.fail(v, p, "a rate above 0") } }
            case "connections": if let x = r.int(v, p) { if x >= 1 { l.connections = x } else { r.fail(v, p, "at least 1") } }
            case "roundDuration": if let d = r.duration(v, p) { if d >= .milliseconds(100) { l.roundDuration = d } else { r.fail(v, p, "at least 100ms") } }
            case "rounds": if let x = r.int(v, p) { if x >= 4 { l.rounds = x } else { r.fail(v, p, "at least 4 rounds per build (the test needs them)") } }
            case "step": if let x = r.int(v, p) { if x >= 2 && x % 2 == 0 { l.step = x } else { r.fail(v, p, "an even number, 2 or more (rounds come in ABBA pairs)") } }
            case "maxRounds": if let x = r.int(v, p) { l.maxRounds = x }
            case "minEffect": l.minEffect = fraction(v, p, &r) ?? l.minEffect
            case "alpha": if let x = fraction(v, p, &r) { if x > 0 && x < 0.5 { l.alpha = x } else { r.fail(v, p, "between 0 and 0.5") } }
            default: break
            }
        }
        if l.maxRounds < l.rounds { r.fail(node, "latency.maxRounds", "at least rounds (\(l.rounds))") }
        if l.sizes.isEmpty { r.fail(node, "latency.sizes", "list at least one size") }
        return l
    }

    static func readThreshold(_ node: Node, _ path: String, _ r: inout ManifestReader) -> GateSuite.Threshold? {
        var t = GateSuite.Threshold(metric: "", max: nil, min: nil)
        for (k, v) in r.fields(node, path, known: ["metric", "max", "min"]) {
            switch k {
            case "metric": t.metric = r.string(v, "\(path).metric") ?? ""
            case "max": t.max = r.double(v, "\(path).max")
            case "min": t.min = r.double(v, "\(path).min")
            default: break
            }
        }
        guard !t.metric.isEmpty, t.max != nil || t.min != nil else {
            r.fail(node, path, "a threshold names a metric and a max or a min")
            return nil
        }
        return t
    }

    /// `2%` or `0.02`, from 0 to 1.
    static func fraction(_ node: Node, _ path: String, _ r: inout ManifestReader) -> Double? {
        guard let s = node.scalar?.string else {
            r.fail(node, path, "expected a fraction such as 0.02 or 2%")
            return nil
        }
        let value = s.hasSuffix("%") ? Double(s.dropLast()).map { $0 / 100 } : Double(s)
        guard let value, value >= 0, value <= 1 else {
            r.fail(node, path, "expected a fraction from 0 to 1 (or 0% to 100%), not \"\(s)\"")
            return nil
        }
        return value
    }
}
