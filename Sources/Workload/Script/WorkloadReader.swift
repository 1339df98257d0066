import Foundation
import MetaProtocol
import TrafficModel
import Yams

/// Reads workload scripts (`Workloads/*.yaml`): every problem with its file, line, column and
/// field path, "did you mean" for a misspelt field, and nothing run until the whole file is
/// sound. Defaults are filled in here, so the ``WorkloadScript`` holds every value the run uses.
public enum WorkloadReader {
    /// The top-level fields, in the order `Workloads/README.md` documents them.
    static let topLevel = ["name", "description", "mode", "seed", "duration", "calls", "warmUp", "drain", "protocol", "proxy", "services", "network",
                           "clients", "faults", "autoscaling", "rateLimitService", "real", "overhead", "capacity", "replications", "timeSeriesInterval", "expectations"]

    /// Reads the workload at `path`. `overrides` are `key=value` pairs (`seed=7`,
    /// `clients[0].arrivals=poisson 500/s`) applied before reading, as `mplab run --set` gives them.
    public static func read(file path: String, overrides: [String] = []) throws(ManifestErrors) -> WorkloadScript {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ManifestErrors([ManifestError(file: path, line: nil, column: nil, path: "", reason: "cannot read the file: \(error.localizedDescription)")])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try read(text: text, file: path, directory: directory.isEmpty ? "." : directory, overrides: overrides)
    }

    /// Reads a workload from `text`; `file` names it in messages and `directory` is where its
    /// manifest references are looked up.
    public static func read(text: String, file: String, directory: String, overrides: [String] = []) throws(ManifestErrors) -> WorkloadScript {
        var r = ManifestReader(file: file)
        var root: Node
        if let refused = ComplexKeys.firstUse(in: text, file: file) { throw ManifestErrors([refused]) }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ManifestErrors([ManifestError(file: file, line: nil, column: nil, path: "", reason: "the file is empty; a workload needs at least clients")])
            }
            root = node
        } catch let e as ManifestErrors {
            throw e
        } catch {
            throw ManifestErrors([ManifestError(file: file, line: nil, column: nil, path: "", reason: "not valid YAML: \(error)")])
        }
        for o in overrides { Overrides.apply(o, to: &root, &r) }
        guard r.errors.isEmpty else { throw ManifestErrors(r.errors) }

        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        var script = WorkloadScript(
            file: file, name: stem, summary: leadingComment(text), mode: .simulate, seed: 1, duration: .seconds(10), callLimit: nil, warmUp: .zero,
            drainLimit: .seconds(60),
            proxy: .init(configuration: ProxyConfiguration(protocolName: "", routes: [], clusters: []), manifestFiles: [], inlineManifests: nil, instances: 1),
            services: [], network: .init(clientToProxy: .constant(0.000_05), proxyToHost: .constant(0.000_05), bandwidth: nil, fromDirectPath: true),
            clients: [], faults: [], autoscaling: nil, rateLimitService: nil,
            real: .init(rateScale: 1, duration: nil, connections: 4, requestTimeout: .seconds(5), proxyEventLoops: 2),
            overhead: nil, capacity: nil, replications: 1, timeSeriesInterval: .seconds(1), expectations: [], warnings: [])

        var protocolName: String?
        var proxyNode: Node?, servicesNode: Node?, clientsNode: Node?, faultsNode: Node?, expectationsNode: Node?
        var autoscalingNode: Node?, rateLimitNode: Node?, overheadNode: Node?, capacityNode: Node?
        for (key, value) in r.fields(root, "", known: topLevel) {
            switch key {
            case "name": script.name = r.string(value, key) ?? script.name
            case "description": script.summary = r.string(value, key) ?? script.summary
            case "mode":
                let m = r.string(value, key) ?? ""
                if let mode = WorkloadScript.Mode(rawValue: m) { script.mode = mode } else {
                    r.fail(value, key, "expected simulate, real or both, not \"\(m)\"")
                }
            case "seed":
                if let s = value.scalar?.string, let v = UInt64(s) { script.seed = v } else { r.fail(value, key, "expected a whole number 0 or more") }
            case "duration": script.duration = positiveDuration(value, key, &r) ?? script.duration
            case "calls":
                if let n = r.int(value, key) { if n > 0 { script.callLimit = n } else { r.fail(value, key, "expected at least 1 call") } }
            case "warmUp": script.warmUp = r.duration(value, key) ?? .zero
            case "drain": script.drainLimit = r.duration(value, key) ?? script.drainLimit
            case "protocol": protocolName = r.string(value, key)
            case "proxy": proxyNode = value
            case "services": servicesNode = value
            case "network": script.network = readNetwork(value, script.network, &r)
            case "clients": clientsNode = value
            case "faults": faultsNode = value
            case "autoscaling": autoscalingNode = value
            case "rateLimitService": rateLimitNode = value
            case "real": script.real = readReal(value, script.real, &r)
            case "overhead": overheadNode = value
            case "capacity": capacityNode = value
            case "replications":
                if let n = r.int(value, key) { if n >= 1 { script.replications = n } else { r.fail(value, key, "expected at least 1") } }
            case "timeSeriesInterval": script.timeSeriesInterval = positiveDuration(value, key, &r) ?? script.timeSeriesInterval
            case "expectations": expectationsNode = value
            default: break
            }
        }
        if script.warmUp >= script.duration { r.fail(root["warmUp"] ?? root, "warmUp", "the warm-up (\(Expectation.duration(script.warmUp.seconds))) must end before the duration (\(Expectation.duration(script.duration.seconds)))") }

        // A workload of the overhead round alone needs neither a mesh nor clients.
        let roundOnly = overheadNode != nil && clientsNode == nil && proxyNode == nil
        // The proxy first: the rest refers to its clusters and hosts.
        let loaded = roundOnly ? nil : readProxy(proxyNode, protocolName: protocolName, directory: directory, &script, &r)
        if roundOnly { script.proxy.configuration.protocolName = protocolName ?? "livepacket" }
        script.proxy.configuration = loaded?.configuration ?? script.proxy.configuration
        script.warnings += loaded?.warnings ?? []
        let clusters = script.proxy.configuration.clusters
        if let servicesNode { script.services = readServices(servicesNode, clusters: clusters, &r) }
        if let clientsNode { script.clients = readClients(clientsNode, &r) } else if !roundOnly {
            r.fail(root, "clients", "a workload needs clients (who calls, how often, with what), or only an overhead round")
        }
        if let faultsNode { script.faults = readFaults(faultsNode, hosts: clusters.flatMap { $0.hosts.map(\.address) }, &r) }
        if let autoscalingNode { script.autoscaling = readAutoscaling(autoscalingNode, clusters: clusters.map(\.name), &r) }
        if let rateLimitNode { script.rateLimitService = readRateLimitService(rateLimitNode, &r) }
        if let overheadNode { script.overhead = readOverhead(overheadNode, protocolName: script.proxy.configuration.protocolName, &r) }
        if let capacityNode { script.capacity = readCapacity(capacityNode, mode: script.mode, &r) }
        if let expectationsNode { script.expectations = readExpectations(expectationsNode, mode: script.mode, overhead: script.overhead, &r) }
        if roundOnly, let d = script.expectations.first(where: { e in
            if case .value(let o, _) = e.check { return !o.drivers.isEmpty || !Self.addedSizesOnly(o) }
            return true
        }) {
            r.fail(expectationsNode ?? root, "expectations", "\"\(d.text)\" reads a simulated or real run, but this workload has only an overhead round")
        }
        if script.proxy.configuration.globalRateLimit != nil && script.rateLimitService == nil && script.mode != .real {
            script.warnings.append("\(file): the proxy has a global rate limit but the workload no rateLimitService: simulated calls under it follow the failure mode")
        }
        if script.mode != .simulate && !script.faults.isEmpty {
            r.fail(faultsNode ?? root, "faults", "faults run in the simulator only (mode: simulate); a real run cannot crash hosts yet")
        }
        if script.mode != .simulate && script.autoscaling != nil {
            r.fail(autoscalingNode ?? root, "autoscaling", "autoscaling runs in the simulator only (mode: simulate)")
        }
        guard r.errors.isEmpty else { throw ManifestErrors(r.errors) }
        script.warnings += r.warnings
        return script
    }

    /// The file's first comment lines, joined: what `mplab list` shows.
    static func leadingComment(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("#") else { break }
            lines.append(t.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces))
        }
        return lines.first ?? ""
    }

    static func positiveDuration(_ node: Node, _ path: String, _ r: inout ManifestReader) -> Duration? {
        guard let d = r.duration(node, path) else { return nil }
        guard d > .zero else {
            r.fail(node, path, "expected a duration above 0")
            return nil
        }
        return d
    }

    // MARK: proxy

    /// `proxy: { manifests: [files…], inline: [documents…], instances: N }`, or a bare list of files.
    static func readProxy(_ node: Node?, protocolName: String?, directory: String, _ script: inout WorkloadScript,
                          _ r: inout ManifestReader) -> ConfigurationLoader.Loaded? {
        guard let node else {
            r.fail(nil, "proxy", "a workload needs a proxy: manifests (MetaRouter, DestinationRule, ServiceEntry, ProxyConfig) by file or inline")
            return nil
        }
        var documents: [(file: String, node: Node)] = []
        var files: [String] = []
        var inline: [Node] = []
        if node.sequence != nil {
            files = r.strings(node, "proxy")
        } else {
            for (key, value) in r.fields(node, "proxy", known: ["manifests", "inline", "instances"]) {
                switch key {
                case "manifests": files = r.strings(value, "proxy.manifests")
                case "inline": inline = r.list(value, "proxy.inline")
                case "instances":
                    if let n = r.int(value, "proxy.instances") { if n >= 1 { script.proxy.instances = n } else { r.fail(value, "proxy.instances", "expected at least 1") } }
                default: break
                }
            }
        }
        let errorsBefore = r.errors.count
        for (i, f) in files.enumerated() {
            let path = f.hasPrefix("/") ? f : (directory as NSString).appendingPathComponent(f)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                r.fail(node["manifests"]?[i] ?? node[i] ?? node, "proxy.manifests[\(i)]", "cannot read \(path)")
                continue
            }
            script.proxy.manifestFiles.append(path)
            if let refused = ComplexKeys.firstUse(in: text, file: path) {
                r.append(refused)
                continue
            }
            do {
                var sequence = try Yams.compose_all(yaml: text)
                while let d = sequence.next() { documents.append((path, d)) }
                if let error = sequence.error { r.fail(nil, "proxy.manifests[\(i)]", "\(path) is not valid YAML: \(error)") }
            } catch {
                r.fail(nil, "proxy.manifests[\(i)]", "\(path) is not valid YAML: \(error)")
            }
        }
        documents += inline.map { (r.file, $0) }
        if !inline.isEmpty {
            script.proxy.inlineManifests = inline.compactMap { try? Yams.serialize(node: $0) }.joined(separator: "---\n")
        }
        guard r.errors.count == errorsBefore else { return nil }
        guard !documents.isEmpty else {
            r.fail(node, "proxy", "no manifests: give proxy.manifests (files) or proxy.inline (documents)")
            return nil
        }
        do {
            return try ConfigurationLoader.load(documents: documents, protocolName: protocolName, reader: ManifestReader(file: r.file))
        } catch {
            for e in error.errors { r.append(e) }
            return nil
        }
    }

    // MARK: expectations

    static func readExpectations(_ node: Node, mode: WorkloadScript.Mode, overhead: WorkloadScript.OverheadSection?,
                                 _ r: inout ManifestReader) -> [Expectation] {
        var out: [Expectation] = []
        for (i, item) in r.list(node, "expectations").enumerated() {
            let path = "expectations[\(i)]"
            guard let text = r.string(item, path) else { continue }
            do {
                let e = try Expectation(parsing: text, line: item.mark?.line, column: item.mark?.column)
                var named: Set<Expectation.Driver> = []
                var addedSizes: [Int] = []
                switch e.check {
                case .invariantsHold(let d): if let d { named.insert(d) }
                case .value(let operand, _):
                    named = operand.drivers
                    addedSizes = Self.addedSizes(operand)
                }
                if named.contains(.real) && mode == .simulate { r.fail(item, path, "\"\(text)\" reads the real run, but the mode is simulate") }
                if named.contains(.simulated) && mode == .real { r.fail(item, path, "\"\(text)\" reads the simulation, but the mode is real") }
                for size in addedSizes where !(overhead?.sizes.contains(size) ?? false) {
                    r.fail(item, path, "\"\(text)\" reads the overhead round at \(ByteSize.describe(size)), but the workload's overhead.sizes do not have it")
                }
                out.append(e)
            } catch {
                r.fail(item, path, error.reason)
            }
        }
        return out
    }

    /// Whether the operand reads only the overhead round.
    static func addedSizesOnly(_ operand: Expectation.Operand) -> Bool {
        switch operand {
        case .metric(.added, _): true
        case .metric: false
        case .ratio(let a, let b): addedSizesOnly(a) && addedSizesOnly(b)
        }
    }

    private static func addedSizes(_ operand: Expectation.Operand) -> [Int] {
        switch operand {
        case .metric(.added(let size, _, _), _): [size]
        case .metric: []
        case .ratio(let a, let b): addedSizes(a) + addedSizes(b)
        }
    }
}
