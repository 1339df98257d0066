import MetaProtocol
import Yams

/// Reads cluster policy the way Istio's `DestinationRule` writes it (`trafficPolicy`, `subsets`),
/// hosts the way a `ServiceEntry` lists its endpoints, and the same fields in MetaProxyLab's own
/// `ProxyConfig` clusters. Istio fields that do not apply to an RPC proxy are accepted with a
/// warning; unknown fields are errors.
enum ClusterManifests {
    /// Applies a `trafficPolicy` to `cluster`; `path` is the configuration path of the cluster.
    static func readTrafficPolicy(_ node: Node, manifestPath: String, path: String, into cluster: inout ClusterConfiguration, _ r: inout ManifestReader) {
        for (key, value) in r.fields(node, manifestPath, known: ["loadBalancer", "connectionPool", "outlierDetection"], ignored: ["tls", "portLevelSettings", "tunnel", "proxyProtocol"]) {
            let mp = "\(manifestPath).\(key)"
            switch key {
            case "loadBalancer": readLoadBalancer(value, mp, path, &cluster, &r)
            case "connectionPool": readConnectionPool(value, mp, path, &cluster, &r)
            case "outlierDetection": readOutlierDetection(value, mp, path, &cluster, &r)
            default: break
            }
        }
    }

    private static func readLoadBalancer(_ node: Node, _ mp: String, _ path: String, _ cluster: inout ClusterConfiguration, _ r: inout ManifestReader) {
        let p = "\(path).loadBalancer"
        r.locate(p, node)
        for (key, value) in r.fields(node, mp, known: ["simple", "consistentHash", "localityLbSetting", "leastRequest", "localityWeights", "panicThreshold"],
                                     ignored: ["warmupDurationSecs", "warmup"]) {
            let kp = "\(mp).\(key)"
            switch key {
            case "simple":
                switch r.string(value, kp) ?? "" {
                case "ROUND_ROBIN", "UNSPECIFIED": cluster.loadBalancer = .roundRobin
                case "LEAST_REQUEST", "LEAST_CONN": cluster.loadBalancer = .leastRequest()
                case "RANDOM": cluster.loadBalancer = .random
                case let other: r.fail(value, kp, "\(other) is not a balancer MetaProxyLab has (ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, RANDOM)")
                }
            case "leastRequest":
                var choices = 2, bias = 1.0
                for (k, v) in r.fields(value, kp, known: ["choiceCount", "activeRequestBias"]) {
                    r.locate("\(p).leastRequest.\(k)", v)
                    if k == "choiceCount" { choices = r.int(v, "\(kp).\(k)") ?? 2 }
                    if k == "activeRequestBias" { bias = r.double(v, "\(kp).\(k)") ?? 1 }
                }
                cluster.loadBalancer = .leastRequest(choiceCount: choices, activeRequestBias: bias)
            case "consistentHash":
                var policy = LoadBalancerPolicy.ringHash()
                for (k, v) in r.fields(value, kp, known: ["ringHash", "maglev", "minimumRingSize"],
                                       ignored: ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"]) {
                    switch k {
                    case "minimumRingSize":
                        r.locate("\(p).ringHash", v)
                        policy = .ringHash(minimumRingSize: r.int(v, "\(kp).\(k)") ?? 1024)
                    case "ringHash":
                        var minimum = 1024, maximum = 8 * 1024 * 1024
                        for (rk, rv) in r.fields(v, "\(kp).ringHash", known: ["minimumRingSize", "maximumRingSize"]) {
                            r.locate("\(p).ringHash", rv)
                            if rk == "minimumRingSize" { minimum = r.int(rv, "\(kp).ringHash.\(rk)") ?? minimum }
                            if rk == "maximumRingSize" { maximum = r.int(rv, "\(kp).ringHash.\(rk)") ?? maximum }
                        }
                        policy = .ringHash(minimumRingSize: minimum, maximumRingSize: maximum)
                    case "maglev":
                        var size = 65537
                        for (mk, mv) in r.fields(v, "\(kp).maglev", known: ["tableSize"]) where mk == "tableSize" {
                            r.locate("\(p).maglev.tableSize", mv)
                            size = r.int(mv, "\(kp).maglev.tableSize") ?? size
                        }
                        policy = .maglev(tableSize: size)
                    default: break
                    }
                }
                cluster.loadBalancer = policy
            case "localityLbSetting":
                for (k, v) in r.fields(value, kp, known: ["enabled"], ignored: ["distribute", "failover", "failoverPriority"]) where k == "enabled" {
                    if r.bool(v, "\(kp).enabled") == true, cluster.localityWeights == nil { cluster.localityWeights = [:] }
                }
            case "localityWeights":
                var weights: [String: UInt32] = [:]
                for (k, v) in r.stringMap(value, kp) {
                    guard let w = UInt32(v) else {
                        r.fail(value, "\(kp).\(k)", "expected a whole weight")
                        continue
                    }
                    weights[k] = w
                }
                cluster.localityWeights = weights
            case "panicThreshold":
                r.locate("\(path).panicThreshold", value)
                cluster.panicThresholdPercent = r.double(value, kp) ?? cluster.panicThresholdPercent
            default: break
            }
        }
    }

    private static func readConnectionPool(_ node: Node, _ mp: String, _ path: String, _ cluster: inout ClusterConfiguration, _ r: inout ManifestReader) {
        let p = "\(path).connectionPool"
        for (key, value) in r.fields(node, mp, known: ["tcp", "http", "multiplexing", "connectionsPerHost", "retryBudget"]) {
            let kp = "\(mp).\(key)"
            switch key {
            case "tcp":
                for (k, v) in r.fields(value, kp, known: ["maxConnections", "connectTimeout", "idleTimeout"], ignored: ["tcpKeepalive", "maxConnectionDuration"]) {
                    r.locate("\(p).\(k)", v)
                    if k == "maxConnections" { cluster.circuitBreaker.maxConnections = r.int(v, "\(kp).\(k)") ?? 1024 }
                    if k == "connectTimeout" { cluster.connectTimeout = r.duration(v, "\(kp).\(k)") ?? cluster.connectTimeout }
                    if k == "idleTimeout" { cluster.idleTimeout = r.duration(v, "\(kp).\(k)") }
                }
            case "http":
                for (k, v) in r.fields(value, kp, known: ["http1MaxPendingRequests", "http2MaxRequests", "maxRetries"],
                                       ignored: ["maxRequestsPerConnection", "idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams"]) {
                    switch k {
                    case "http1MaxPendingRequests":
                        r.locate("\(p).maxPendingRequests", v)
                        cluster.circuitBreaker.maxPendingRequests = r.int(v, "\(kp).\(k)") ?? 1024
                    case "http2MaxRequests":
                        r.locate("\(p).maxRequests", v)
                        cluster.circuitBreaker.maxRequests = r.int(v, "\(kp).\(k)") ?? 1024
                    case "maxRetries":
                        r.locate("\(p).maxRetries", v)
                        cluster.circuitBreaker.maxRetries = r.int(v, "\(kp).\(k)") ?? 3
                    default: break
                    }
                }
            case "multiplexing":
                cluster.multiplexing = r.bool(value, kp) ?? true
            case "connectionsPerHost":
                r.locate("\(p).connectionsPerHost", value)
                cluster.connectionsPerHost = r.int(value, kp) ?? 1
            case "retryBudget":
                var budget = RetryBudget()
                for (k, v) in r.fields(value, kp, known: ["budgetPercent", "minRetryConcurrency"]) {
                    r.locate("\(p).retryBudget.\(k)", v)
                    if k == "budgetPercent" { budget.budgetPercent = r.double(v, "\(kp).\(k)") ?? 20 }
                    if k == "minRetryConcurrency" { budget.minRetryConcurrency = r.int(v, "\(kp).\(k)") ?? 3 }
                }
                cluster.circuitBreaker.retryBudget = budget
            default: break
            }
        }
    }

    /// Istio's outlier detection: `consecutive5xxErrors` (default 5), `consecutiveGatewayErrors`
    /// (enforced when set), `splitExternalLocalOriginErrors` with `consecutiveLocalOriginFailures`
    /// (default 5), `interval`, `baseEjectionTime`, `maxEjectionPercent`, and
    /// `minHealthPercent` as the panic threshold. As in Istio, success-rate ejection is off
    /// unless MetaProxyLab's own `successRate` block turns it on.
    private static func readOutlierDetection(_ node: Node, _ mp: String, _ path: String, _ cluster: inout ClusterConfiguration, _ r: inout ManifestReader) {
        let p = "\(path).outlierDetection"
        r.locate(p, node)
        var od = OutlierDetectionPolicy(consecutiveGatewayFailures: nil, enforcingSuccessRate: 0)
        let known = ["consecutive5xxErrors", "consecutiveErrors", "consecutiveGatewayErrors", "interval", "baseEjectionTime", "maxEjectionTime",
                     "maxEjectionPercent", "minHealthPercent", "successRate", "failurePercentage",
                     "splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures"]
        for (key, value) in r.fields(node, mp, known: known) {
            let kp = "\(mp).\(key)"
            switch key {
            case "consecutive5xxErrors", "consecutiveErrors":
                r.locate("\(p).consecutive5xxErrors", value)
                let n = r.int(value, kp) ?? 5
                od.consecutiveErrors = n == 0 ? nil : n
            case "consecutiveGatewayErrors":
                r.locate("\(p).consecutiveGatewayErrors", value)
                let n = r.int(value, kp) ?? 0
                od.consecutiveGatewayFailures = n == 0 ? nil : n
                od.enforcingConsecutiveGatewayFailures = 100
            case "splitExternalLocalOriginErrors":
                od.splitExternalLocalOriginErrors = r.bool(value, kp) ?? false
            case "consecutiveLocalOriginFailures":
                r.locate("\(p).consecutiveLocalOriginFailures", value)
                let n = r.int(value, kp) ?? 5
                od.consecutiveLocalOriginFailures = n == 0 ? nil : n
            case "interval":
                r.locate("\(p).interval", value)
                od.interval = r.duration(value, kp) ?? od.interval
            case "baseEjectionTime":
                r.locate("\(p).baseEjectionTime", value)
                od.baseEjectionTime = r.duration(value, kp) ?? od.baseEjectionTime
            case "maxEjectionTime":
                od.maxEjectionTime = r.duration(value, kp) ?? od.maxEjectionTime
            case "maxEjectionPercent":
                r.locate("\(p).maxEjectionPercent", value)
                od.maxEjectionPercent = r.double(value, kp) ?? od.maxEjectionPercent
            case "minHealthPercent":
                r.locate("\(path).panicThreshold", value)
                cluster.panicThresholdPercent = r.double(value, kp) ?? cluster.panicThresholdPercent
            case "successRate":
                od.enforcingSuccessRate = 100
                for (k, v) in r.fields(value, kp, known: ["minimumHosts", "requestVolume", "stdevFactor", "enforcing"]) {
                    let vp = "\(kp).\(k)"
                    switch k {
                    case "minimumHosts": od.successRateMinimumHosts = r.int(v, vp) ?? 5
                    case "requestVolume": od.successRateRequestVolume = r.int(v, vp) ?? 100
                    case "stdevFactor": od.successRateStdevFactor = r.double(v, vp) ?? 1.9
                    case "enforcing":
                        r.locate("\(p).enforcingSuccessRate", v)
                        od.enforcingSuccessRate = r.int(v, vp) ?? 100
                    default: break
                    }
                }
            case "failurePercentage":
                od.enforcingFailurePercentage = 100
                for (k, v) in r.fields(value, kp, known: ["threshold", "minimumHosts", "requestVolume", "enforcing"]) {
                    let vp = "\(kp).\(k)"
                    switch k {
                    case "threshold": od.failurePercentageThreshold = r.double(v, vp) ?? 85
                    case "minimumHosts": od.failurePercentageMinimumHosts = r.int(v, vp) ?? 5
                    case "requestVolume": od.failurePercentageRequestVolume = r.int(v, vp) ?? 50
                    case "enforcing":
                        r.locate("\(p).enforcingFailurePercentage", v)
                        od.enforcingFailurePercentage = r.int(v, vp) ?? 100
                    default: break
                    }
                }
            default: break
            }
        }
        cluster.outlierDetection = od
    }

    /// `subsets: [{name, labels}]`.
    static func readSubsets(_ node: Node, manifestPath: String, path: String, _ r: inout ManifestReader) -> [SubsetConfiguration] {
        r.list(node, manifestPath).enumerated().compactMap { i, s in
            var name: String?, labels: [String: String] = [:]
            r.locate("\(path).subsets[\(i)]", s)
            for (k, v) in r.fields(s, "\(manifestPath)[\(i)]", known: ["name", "labels"], ignored: ["trafficPolicy"]) {
                if k == "name" { name = r.string(v, "\(manifestPath)[\(i)].name") }
                if k == "labels" { labels = r.stringMap(v, "\(manifestPath)[\(i)].labels") }
            }
            guard let name else {
                r.fail(s, "\(manifestPath)[\(i)]", "a subset needs a name")
                return nil
            }
            return SubsetConfiguration(name: name, labels: labels)
        }
    }

    /// `hosts: [{address, weight, labels, locality, priority}]` of a `ProxyConfig` cluster.
    static func readHosts(_ node: Node, manifestPath: String, path: String, _ r: inout ManifestReader) -> [HostConfiguration] {
        r.list(node, manifestPath).enumerated().compactMap { i, h in
            let hp = "\(path).hosts[\(i)]", mp = "\(manifestPath)[\(i)]"
            r.locate(hp, h)
            if let address = h.scalar?.string { return HostConfiguration(address: address) }
            var host = HostConfiguration(address: "")
            for (k, v) in r.fields(h, mp, known: ["address", "weight", "labels", "locality", "priority"]) {
                r.locate("\(hp).\(k)", v)
                switch k {
                case "address": host.address = r.string(v, "\(mp).address") ?? ""
                case "weight": host.weight = UInt32(clamping: r.int(v, "\(mp).weight") ?? 1)
                case "labels": host.labels = r.stringMap(v, "\(mp).labels")
                case "locality": host.locality = r.string(v, "\(mp).locality") ?? ""
                case "priority": host.priority = r.int(v, "\(mp).priority") ?? 0
                default: break
                }
            }
            return host
        }
    }

    /// A `ServiceEntry`: its first host names the cluster; its endpoints are the hosts, at the
    /// port their `ports` map gives for the entry's first port (or that port's number). The
    /// protocol shows in the port name when it follows Aeraki's `tcp-metaprotocol-<protocol>-…`.
    static func readServiceEntry(_ spec: Node, _ r: inout ManifestReader) -> (name: String, hosts: [HostConfiguration], protocolName: String?)? {
        var name: String?, portName: String?, portNumber: Int?
        var endpoints: [Node] = []
        var endpointsNode: Node?
        for (key, value) in r.fields(spec, "spec", known: ["hosts", "ports", "endpoints"], ignored: ["addresses", "location", "resolution", "exportTo", "subjectAltNames", "workloadSelector"]) {
            switch key {
            case "hosts": name = r.strings(value, "spec.hosts").first
            case "ports":
                if let first = r.list(value, "spec.ports").first {
                    for (k, v) in r.fields(first, "spec.ports[0]", known: ["number", "name", "protocol", "targetPort"]) {
                        if k == "number" { portNumber = r.int(v, "spec.ports[0].number") }
                        if k == "name" { portName = r.string(v, "spec.ports[0].name") }
                    }
                }
            case "endpoints":
                endpoints = r.list(value, "spec.endpoints")
                endpointsNode = value
            default: break
            }
        }
        guard let name else {
            r.fail(spec, "spec.hosts", "a ServiceEntry needs a host")
            return nil
        }
        var hosts: [HostConfiguration] = []
        for (i, e) in endpoints.enumerated() {
            let mp = "spec.endpoints[\(i)]"
            var host = HostConfiguration(address: "")
            var address = "", port = portNumber
            for (k, v) in r.fields(e, mp, known: ["address", "ports", "labels", "locality", "weight"], ignored: ["network", "serviceAccount"]) {
                switch k {
                case "address": address = r.string(v, "\(mp).address") ?? ""
                case "ports":
                    let ports = r.stringMap(v, "\(mp).ports")
                    if let portName, let p = ports[portName].flatMap(Int.init) { port = p } else if ports.count == 1, let p = Int(ports.first!.value) { port = p }
                case "labels": host.labels = r.stringMap(v, "\(mp).labels")
                case "locality": host.locality = r.string(v, "\(mp).locality") ?? ""
                case "weight": host.weight = UInt32(clamping: r.int(v, "\(mp).weight") ?? 1)
                default: break
                }
            }
            guard let port else {
                r.fail(e, mp, "no port for this endpoint: give the ServiceEntry a port or the endpoint a ports map")
                continue
            }
            host.address = "\(address):\(port)"
            hosts.append(host)
        }
        _ = endpointsNode
        var protocolName: String?
        if let portName, portName.hasPrefix("tcp-metaprotocol-") {
            protocolName = portName.dropFirst("tcp-metaprotocol-".count).split(separator: "-").first.map(String.init)
        }
        return (name, hosts, protocolName)
    }
}
