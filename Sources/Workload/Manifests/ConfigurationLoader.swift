import MetaProtocol
import Yams

/// Loads a proxy configuration from YAML manifests, as users already write them:
///
/// - `MetaRouter` (Aeraki, `metaprotocol.aeraki.io/v1alpha1`): routes, local and global rate
///   limits — with MetaProxyLab's additions (timeouts, retries, faults, several mirrors…);
/// - `DestinationRule` (Istio, `networking.istio.io`): balancing, connection pool and circuit
///   breakers, outlier detection, subsets;
/// - `ServiceEntry` (Istio): the hosts of a service;
/// - `ProxyConfig` (MetaProxyLab, `mplab.io/v1alpha1`): the protocol, tracing, and clusters
///   with their hosts and traffic policy inline; it may also carry the MetaRouter fields.
///
/// Any number of files, each any number of `---`-separated documents. Every problem is reported
/// with its file, line, column and field path; a configuration with problems is refused whole.
public enum ConfigurationLoader {
    /// A configuration read from manifests, not yet compiled.
    public struct Loaded: Sendable {
        public var configuration: ProxyConfiguration
        /// Fields accepted but not used, and similar notes.
        public var warnings: [String]
        fileprivate var reader: ManifestReaderBox

        /// Validates and compiles for a protocol with `capabilities`; validation errors point
        /// at the manifest lines the fields came from.
        public func compile(capabilities: CodecCapabilities) throws(ManifestErrors) -> CompiledConfiguration {
            do {
                return try CompiledConfiguration.compile(configuration, capabilities: capabilities)
            } catch {
                var r = reader.reader
                for e in error.errors { r.fail(at: e.path, e.reason) }
                throw ManifestErrors(r.errors)
            }
        }
    }

    /// Reads `files` (name and text). `protocolName` overrides the protocol the manifests name.
    public static func load(_ files: [(name: String, text: String)], protocolName: String? = nil) throws(ManifestErrors) -> Loaded {
        var r = ManifestReader(file: files.first?.name ?? "<none>")
        var documents: [(file: String, node: Node)] = []
        for (name, text) in files {
            r.file = name
            if let refused = ComplexKeys.firstUse(in: text, file: name) {
                r.append(refused)
                continue
            }
            do {
                var sequence = try Yams.compose_all(yaml: text)
                while let document = sequence.next() { documents.append((name, document)) }
                if let error = sequence.error { r.fail(nil, "", "not valid YAML: \(error)") }
            } catch {
                r.fail(nil, "", "not valid YAML: \(error)")
            }
        }
        return try load(documents: documents, protocolName: protocolName, reader: r)
    }

    /// Reads manifests already parsed (a workload script's inline ones keep their places in the
    /// script), after the problems `r` has already found.
    static func load(documents parsed: [(file: String, node: Node)], protocolName: String?, reader: ManifestReader) throws(ManifestErrors) -> Loaded {
        var r = reader
        var documents: [(file: String, kind: String, node: Node)] = []
        for (name, document) in parsed {
            r.file = name
            guard document.mapping != nil else {
                r.fail(document, "", "expected a manifest (a mapping with kind and spec)")
                continue
            }
            documents.append((name, document["kind"]?.scalar?.string ?? "", document))
        }

        var router: MetaRouterManifest?
        var protocolFromManifests: String?
        var tracing: TracingConfiguration?
        var clusters: [ClusterConfiguration] = []
        func index(of name: String) -> Int? { clusters.firstIndex { $0.name == name } }

        // Hosts first (ServiceEntry, ProxyConfig clusters), then policies (DestinationRule), so a
        // cluster's index does not depend on the order of documents.
        for (file, kind, doc) in documents where kind == "ServiceEntry" || kind == "ProxyConfig" {
            r.file = file
            guard let spec = header(doc, kind: kind, &r) else { continue }
            if kind == "ServiceEntry" {
                guard let entry = ClusterManifests.readServiceEntry(spec, &r) else { continue }
                if index(of: entry.name) != nil {
                    r.fail(spec, "spec.hosts", "cluster \"\(entry.name)\" is defined twice")
                    continue
                }
                r.locate("clusters[\(clusters.count)]", spec)
                clusters.append(ClusterConfiguration(name: entry.name, hosts: entry.hosts))
                protocolFromManifests = protocolFromManifests ?? entry.protocolName
                continue
            }
            var routerFields: [(String, Node)] = []
            for (key, value) in r.fields(spec, "spec", known: ["protocol", "tracing", "clusters", "hosts", "routes", "localRateLimit", "globalRateLimit"]) {
                switch key {
                case "protocol": protocolFromManifests = r.string(value, "spec.protocol")
                case "tracing":
                    r.locate("tracing", value)
                    var t = TracingConfiguration()
                    for (k, v) in r.fields(value, "spec.tracing", known: ["samplingPercentage"]) where k == "samplingPercentage" {
                        r.locate("tracing.samplingPercentage", v)
                        t.samplingPercentage = r.double(v, "spec.tracing.samplingPercentage") ?? 100
                    }
                    tracing = t
                case "clusters":
                    for (i, c) in r.list(value, "spec.clusters").enumerated() {
                        if let cluster = readCluster(c, manifestPath: "spec.clusters[\(i)]", path: "clusters[\(clusters.count)]", &r) {
                            if index(of: cluster.name) != nil { r.fail(c, "spec.clusters[\(i)].name", "cluster \"\(cluster.name)\" is defined twice") }
                            clusters.append(cluster)
                        }
                    }
                default: routerFields.append((key, value))
                }
            }
            if !routerFields.isEmpty {
                let routerSpec = Node.mapping(Node.Mapping(routerFields.map { (Node.scalar(.init($0.0)), $0.1) }))
                if router != nil { r.fail(spec, "spec", "a configuration takes one MetaRouter (routes are given twice)") }
                router = MetaRouterManifest.read(routerSpec, &r)
            }
        }
        for (file, kind, doc) in documents where kind != "ServiceEntry" && kind != "ProxyConfig" {
            r.file = file
            switch kind {
            case "MetaRouter":
                guard let spec = header(doc, kind: kind, &r) else { continue }
                if router != nil { r.fail(doc, "", "a configuration takes one MetaRouter") }
                router = MetaRouterManifest.read(spec, &r)
            case "DestinationRule":
                guard let spec = header(doc, kind: kind, &r) else { continue }
                guard let host = spec["host"]?.scalar?.string else {
                    r.fail(spec, "spec.host", "a DestinationRule needs a host")
                    continue
                }
                let i = index(of: host) ?? {
                    r.warn(spec, "spec.host", "no ServiceEntry or ProxyConfig gives hosts for \"\(host)\"")
                    clusters.append(ClusterConfiguration(name: host, hosts: []))
                    return clusters.count - 1
                }()
                let path = "clusters[\(i)]"
                r.locate(path, spec)
                for (key, value) in r.fields(spec, "spec", known: ["host", "trafficPolicy", "subsets"], ignored: ["exportTo", "workloadSelector"]) {
                    if key == "trafficPolicy" { ClusterManifests.readTrafficPolicy(value, manifestPath: "spec.trafficPolicy", path: path, into: &clusters[i], &r) }
                    if key == "subsets" { clusters[i].subsets = ClusterManifests.readSubsets(value, manifestPath: "spec.subsets", path: path, &r) }
                }
            case "":
                r.fail(doc, "kind", "missing kind (MetaRouter, DestinationRule, ServiceEntry or ProxyConfig)")
            default:
                r.fail(doc["kind"], "kind", "unknown kind \"\(kind)\" (MetaRouter, DestinationRule, ServiceEntry or ProxyConfig)")
            }
        }

        guard let protocolName = protocolName ?? protocolFromManifests else {
            r.fail(nil, "protocol", "no protocol given: set spec.protocol in a ProxyConfig, name the ServiceEntry port tcp-metaprotocol-<protocol>-…, or pass one")
            throw ManifestErrors(r.errors)
        }
        guard r.errors.isEmpty else { throw ManifestErrors(r.errors) }
        let configuration = ProxyConfiguration(
            protocolName: protocolName, hosts: router?.hosts ?? [], routes: router?.routes ?? [], clusters: clusters,
            localRateLimit: router?.localRateLimit, globalRateLimit: router?.globalRateLimit, tracing: tracing)
        return Loaded(configuration: configuration, warnings: r.warnings, reader: ManifestReaderBox(reader: r))
    }

    /// Checks `apiVersion` and `kind`, returns `spec`.
    private static func header(_ doc: Node, kind: String, _ r: inout ManifestReader) -> Node? {
        let expected: [String: [String]] = [
            "MetaRouter": ["metaprotocol.aeraki.io/v1alpha1"],
            "DestinationRule": ["networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1"],
            "ServiceEntry": ["networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1"],
            "ProxyConfig": ["mplab.io/v1alpha1"],
        ]
        var spec: Node?
        for (key, value) in r.fields(doc, "", known: ["apiVersion", "kind", "metadata", "spec"], ignored: ["status"]) {
            switch key {
            case "apiVersion":
                let v = r.string(value, "apiVersion") ?? ""
                if !(expected[kind] ?? []).contains(v) {
                    r.fail(value, "apiVersion", "\(kind) is read as \((expected[kind] ?? []).joined(separator: " or ")), not \(v)")
                }
            case "spec": spec = value
            default: break
            }
        }
        if spec == nil { r.fail(doc, "spec", "\(kind) needs a spec") }
        return spec
    }

    private static func readCluster(_ node: Node, manifestPath: String, path: String, _ r: inout ManifestReader) -> ClusterConfiguration? {
        r.locate(path, node)
        var cluster = ClusterConfiguration(name: "", hosts: [])
        for (key, value) in r.fields(node, manifestPath, known: ["name", "hosts", "trafficPolicy", "subsets"]) {
            switch key {
            case "name":
                r.locate("\(path).name", value)
                cluster.name = r.string(value, "\(manifestPath).name") ?? ""
            case "hosts": cluster.hosts = ClusterManifests.readHosts(value, manifestPath: "\(manifestPath).hosts", path: path, &r)
            case "trafficPolicy": ClusterManifests.readTrafficPolicy(value, manifestPath: "\(manifestPath).trafficPolicy", path: path, into: &cluster, &r)
            case "subsets": cluster.subsets = ClusterManifests.readSubsets(value, manifestPath: "\(manifestPath).subsets", path: path, &r)
            default: break
            }
        }
        guard !cluster.name.isEmpty else {
            r.fail(node, manifestPath, "a cluster needs a name")
            return nil
        }
        return cluster
    }
}

/// Keeps the reader (and its field locations) with a loaded configuration.
struct ManifestReaderBox: @unchecked Sendable {
    var reader: ManifestReader
}
