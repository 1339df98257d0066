/// A validated configuration, ready for the core: matchers compiled, names resolved to indices,
/// subsets resolved to hosts. Immutable; requests in flight keep the one they started with, so
/// swapping configurations never disturbs them.
public final class CompiledConfiguration: Sendable {
    public let source: ProxyConfiguration
    public let capabilities: CodecCapabilities
    let routes: [CompiledRoute]
    let routeTable: RouteTable
    let clusters: [CompiledCluster]
    let clusterIndex: [String: Int]
    let localRateLimit: LocalRateLimitPolicy?
    let globalRateLimit: CompiledGlobalRateLimit?
    /// Things that are allowed but probably not meant (a route to a cluster with no hosts…).
    public let warnings: [String]

    private init(source: ProxyConfiguration, capabilities: CodecCapabilities, routes: [CompiledRoute], clusters: [CompiledCluster],
                 localRateLimit: LocalRateLimitPolicy?, globalRateLimit: CompiledGlobalRateLimit?, warnings: [String]) {
        self.source = source
        self.capabilities = capabilities
        self.routes = routes
        self.routeTable = RouteTable(routes.map(\.match))
        self.clusters = clusters
        self.clusterIndex = Dictionary(clusters.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        self.localRateLimit = localRateLimit
        self.globalRateLimit = globalRateLimit
        self.warnings = warnings
    }

    /// The index of the first route whose match holds for `attributes`.
    public func routeIndex(matching attributes: Attributes) -> Int? {
        routeTable.firstMatch(attributes)
    }

    /// Route names, in order.
    public var routeNames: [String] { routes.map(\.name) }

    /// Validates and compiles `configuration` for a protocol with `capabilities`. Throws every
    /// problem found, each with its field path; nothing of a refused configuration is kept.
    public static func compile(_ configuration: ProxyConfiguration, capabilities: CodecCapabilities) throws(ConfigurationErrors) -> CompiledConfiguration {
        var v = Validator(capabilities: capabilities)
        let clusters = configuration.clusters.enumerated().map { v.cluster($0.element, path: "clusters[\($0.offset)]") }
        v.unique(configuration.clusters.map(\.name), path: "clusters", what: "cluster name")
        let names = Dictionary(configuration.clusters.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let routes = configuration.routes.enumerated().map { v.route($0.element, index: $0.offset, clusters: clusters, names: names) }
        v.unique(configuration.routes.map(\.name).filter { !$0.isEmpty }, path: "routes", what: "route name")
        let local = configuration.localRateLimit.map { v.localRateLimit($0, path: "localRateLimit") }
        let global = configuration.globalRateLimit.map { v.globalRateLimit($0, path: "globalRateLimit") }
        if let tracing = configuration.tracing {
            v.percentage(tracing.samplingPercentage, path: "tracing.samplingPercentage")
            if !capabilities.carriesMutation {
                v.fail("tracing", "trace context is propagated as a mutation, which \(configuration.protocolName) frames cannot carry")
            }
        }
        guard v.errors.isEmpty else { throw ConfigurationErrors(errors: v.errors) }
        return CompiledConfiguration(source: configuration, capabilities: capabilities, routes: routes.map { $0! }, clusters: clusters.map { $0! },
                                     localRateLimit: local ?? nil, globalRateLimit: global ?? nil, warnings: v.warnings)
    }
}

/// A route ready to match and dispatch (a class: requests refer to it without copying it).
final class CompiledRoute: Sendable {
    let index: Int
    let name: String
    let match: AttributeMatch
    let destinations: [(target: DestinationTarget, weight: Int)]
    let totalWeight: Int
    let mirrors: [(target: DestinationTarget, percentage: Double)]
    let requestMutation: Mutation
    let responseMutation: Mutation
    let hashPolicy: [String]
    let timeout: Duration
    let retry: RetryPolicy?
    let fault: FaultInjection?
    /// What filters see of the route.
    let view: RouteView

    init(index: Int, name: String, match: AttributeMatch, destinations: [(target: DestinationTarget, weight: Int)], totalWeight: Int,
         mirrors: [(target: DestinationTarget, percentage: Double)], requestMutation: Mutation, responseMutation: Mutation,
         hashPolicy: [String], timeout: Duration, retry: RetryPolicy?, fault: FaultInjection?) {
        self.index = index
        self.name = name
        self.match = match
        self.destinations = destinations
        self.totalWeight = totalWeight
        self.mirrors = mirrors
        self.requestMutation = requestMutation
        self.responseMutation = responseMutation
        self.hashPolicy = hashPolicy
        self.timeout = timeout
        self.retry = retry
        self.fault = fault
        self.view = RouteView(name: name, index: index, fault: fault, requestMutation: requestMutation, responseMutation: responseMutation)
    }
}

/// A destination resolved against the clusters.
enum DestinationTarget: Sendable, Hashable {
    case cluster(Int, subset: Int?)
    /// A cluster or subset the configuration does not define: answered "cluster not found".
    case missing(String)
}

/// A cluster with its subsets resolved to host indices.
struct CompiledCluster: Sendable {
    let name: String
    let configuration: ClusterConfiguration
    /// Host indices of each subset, in subset order.
    let subsets: [(name: String, hosts: [Int])]
    let balancerSettings: HostSetBalancer.Settings

    func subsetIndex(_ name: String) -> Int? { subsets.firstIndex { $0.name == name } }
}

struct CompiledGlobalRateLimit: Sendable {
    let match: AttributeMatch
    let configuration: GlobalRateLimitConfiguration
}

/// Collects errors while compiling, each with its path.
private struct Validator {
    let capabilities: CodecCapabilities
    var errors: [ConfigurationError] = []
    var warnings: [String] = []

    mutating func fail(_ path: String, _ reason: String) { errors.append(ConfigurationError(path: path, reason: reason)) }

    mutating func unique(_ names: [String], path: String, what: String) {
        var seen: Set<String> = []
        for (i, n) in names.enumerated() where !seen.insert(n).inserted { fail("\(path)[\(i)]", "duplicate \(what) \"\(n)\"") }
    }

    mutating func percentage(_ p: Double, path: String) {
        if !(0...100).contains(p) { fail(path, "\(p) is not a percentage (0 to 100)") }
    }

    mutating func positive(_ d: Duration, path: String) {
        if d <= .zero { fail(path, "\(d) must be positive") }
        // Beyond a year, deadlines added to the clock could overflow; no policy means that.
        if d > Self.maxDuration { fail(path, "\(d) is longer than a year") }
    }

    mutating func matchers(_ conditions: [AttributeCondition], path: String) -> AttributeMatch {
        var compiled: [AttributeMatcher] = []
        for c in conditions {
            let p = "\(path).attributes.\(c.attribute)"
            if c.attribute.isEmpty { fail("\(path).attributes", "empty attribute name") }
            do {
                compiled.append(try AttributeMatcher(name: c.attribute, match: c.match, invert: c.invert))
            } catch {
                fail("\(p).regex", error.description)
            }
        }
        return AttributeMatch(compiled)
    }

    mutating func bucket(_ b: TokenBucketSpec, path: String) {
        if b.fillInterval < TokenBucketSpec.minimumFillInterval {
            fail("\(path).fillInterval", "fillInterval \(Self.format(b.fillInterval)) is below \(Self.format(TokenBucketSpec.minimumFillInterval))")
        }
        if b.maxTokens < 1 { fail("\(path).maxTokens", "maxTokens must be at least 1, not \(b.maxTokens)") }
        if b.tokensPerFill < 1 { fail("\(path).tokensPerFill", "tokensPerFill must be at least 1, not \(b.tokensPerFill)") }
    }

    static func format(_ d: Duration) -> String {
        let ns = d.nanoseconds
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        return "\(Double(ns) / 1e6)ms"
    }

    mutating func mutation(_ kvs: [KeyValue], path: String) -> Mutation {
        var m = Mutation()
        for (i, kv) in kvs.enumerated() {
            if kv.key.isEmpty { fail("\(path)[\(i)]", "empty mutation key") }
            m[kv.key] = kv.value
        }
        if !kvs.isEmpty && !capabilities.carriesMutation {
            fail(path, "this protocol's frames cannot carry a mutation")
        }
        return m
    }

    mutating func target(_ d: RouteDestination, path: String, clusters: [CompiledCluster?], names: [String: Int]) -> DestinationTarget {
        guard let index = names[d.cluster] else {
            warnings.append("\(path).host: no cluster named \"\(d.cluster)\"; its requests are answered cluster_not_found")
            return .missing(d.cluster)
        }
        guard let subset = d.subset else { return .cluster(index, subset: nil) }
        guard let cluster = clusters[index], let s = cluster.subsetIndex(subset) else {
            warnings.append("\(path).subset: cluster \"\(d.cluster)\" has no subset \"\(subset)\"; its requests are answered cluster_not_found")
            return .missing("\(d.cluster)/\(subset)")
        }
        if cluster.subsets[s].hosts.isEmpty {
            warnings.append("\(path).subset: subset \"\(subset)\" of \"\(d.cluster)\" selects no host")
        }
        return .cluster(index, subset: s)
    }

    mutating func route(_ r: RouteConfiguration, index: Int, clusters: [CompiledCluster?], names: [String: Int]) -> CompiledRoute? {
        let path = "routes[\(index)]"
        let errorsBefore = errors.count
        let match = matchers(r.match, path: "\(path).match")
        if r.destinations.isEmpty { fail("\(path).route", "a route needs at least one destination") }
        var destinations: [(DestinationTarget, Int)] = []
        for (i, d) in r.destinations.enumerated() {
            if d.weight < 0 { fail("\(path).route[\(i)].weight", "weight \(d.weight) is negative") }
            // Bounded so that no sum of weights can overflow.
            if d.weight > Self.maxWeight { fail("\(path).route[\(i)].weight", "weight \(d.weight) is above \(Self.maxWeight)") }
            destinations.append((target(d, path: "\(path).route[\(i)].destination", clusters: clusters, names: names), min(max(0, d.weight), Self.maxWeight)))
        }
        let total = destinations.reduce(0) { $0 + $1.1 }
        if !r.destinations.isEmpty && total == 0 { fail("\(path).route", "destination weights add up to 0") }
        var mirrors: [(DestinationTarget, Double)] = []
        for (i, m) in r.mirrors.enumerated() {
            percentage(m.percentage, path: "\(path).mirrors[\(i)].percentage")
            mirrors.append((target(m.destination, path: "\(path).mirrors[\(i)].destination", clusters: clusters, names: names), m.percentage))
        }
        let requestMutation = mutation(r.requestMutation, path: "\(path).requestMutation")
        let responseMutation = mutation(r.responseMutation, path: "\(path).responseMutation")
        if let t = r.timeout { positive(t, path: "\(path).timeout") }
        if let retry = r.retry {
            if retry.numRetries < 0 || retry.numRetries > 10 { fail("\(path).retries.attempts", "\(retry.numRetries) retries: allowed 0 to 10") }
            if let t = retry.perTryTimeout { positive(t, path: "\(path).retries.perTryTimeout") }
            positive(retry.backoffBase, path: "\(path).retries.backoff.baseInterval")
            if retry.backoffMax < retry.backoffBase { fail("\(path).retries.backoff.maxInterval", "below the base interval") }
        }
        if let fault = r.fault {
            if let abort = fault.abort { percentage(abort.percentage, path: "\(path).fault.abort.percentage") }
            if let delay = fault.delay {
                percentage(delay.percentage, path: "\(path).fault.delay.percentage")
                positive(delay.duration, path: "\(path).fault.delay.fixedDelay")
            }
        }
        for (i, a) in r.hashPolicy.enumerated() where a.isEmpty { fail("\(path).hashPolicy[\(i)]", "empty attribute name") }
        guard errors.count == errorsBefore else { return nil }
        return CompiledRoute(index: index, name: r.name.isEmpty ? "route_\(index)" : r.name, match: match, destinations: destinations, totalWeight: total,
                             mirrors: mirrors, requestMutation: requestMutation, responseMutation: responseMutation,
                             hashPolicy: r.hashPolicy, timeout: r.timeout ?? RouteConfiguration.defaultTimeout, retry: r.retry, fault: r.fault)
    }

    mutating func cluster(_ c: ClusterConfiguration, path: String) -> CompiledCluster? {
        let errorsBefore = errors.count
        if c.name.isEmpty { fail("\(path).name", "empty cluster name") }
        unique(c.hosts.map(\.address), path: "\(path).hosts", what: "host address")
        for (i, h) in c.hosts.enumerated() {
            if h.address.isEmpty { fail("\(path).hosts[\(i)].address", "empty address") }
            if h.weight < 1 { fail("\(path).hosts[\(i)].weight", "weight must be at least 1") }
            if h.priority < 0 || h.priority > 127 { fail("\(path).hosts[\(i)].priority", "priority \(h.priority): allowed 0 to 127") }
        }
        unique(c.subsets.map(\.name), path: "\(path).subsets", what: "subset name")
        let subsets = c.subsets.map { s in
            (s.name, c.hosts.indices.filter { i in s.labels.allSatisfy { c.hosts[i].labels[$0.key] == $0.value } })
        }
        switch c.loadBalancer {
        case .leastRequest(let choices, let bias):
            if choices < 2 || choices > 100 { fail("\(path).loadBalancer.leastRequest.choiceCount", "choice count \(choices): allowed 2 to 100") }
            if bias < 0 { fail("\(path).loadBalancer.leastRequest.activeRequestBias", "bias must not be negative") }
        case .ringHash(let minimum, let maximum):
            if minimum < 1 || minimum > maximum { fail("\(path).loadBalancer.ringHash", "ring size bounds \(minimum)…\(maximum) are not a range") }
            if maximum > 8 * 1024 * 1024 { fail("\(path).loadBalancer.ringHash.maximumRingSize", "at most 8M entries") }
        case .maglev(let size):
            // Bounded first: the table is allocated whole, and testing a huge number for primality takes minutes.
            if size > Self.maxMaglevTableSize {
                fail("\(path).loadBalancer.maglev.tableSize", "\(size) is above \(Self.maxMaglevTableSize) (Envoy's largest)")
            } else if size < 2 || !Self.isPrime(size) {
                fail("\(path).loadBalancer.maglev.tableSize", "\(size) is not a prime")
            }
        case .roundRobin, .random: break
        }
        percentage(c.panicThresholdPercent, path: "\(path).panicThreshold")
        if c.overprovisioningFactor < 1 { fail("\(path).overprovisioningFactor", "must be positive") }
        let cb = c.circuitBreaker
        for (name, value) in [("maxConnections", cb.maxConnections), ("maxPendingRequests", cb.maxPendingRequests), ("maxRequests", cb.maxRequests), ("maxRetries", cb.maxRetries)] where value < 0 {
            fail("\(path).connectionPool.\(name)", "\(value) is negative")
        }
        if let budget = cb.retryBudget {
            percentage(budget.budgetPercent, path: "\(path).connectionPool.retryBudget.budgetPercent")
            if budget.minRetryConcurrency < 0 { fail("\(path).connectionPool.retryBudget.minRetryConcurrency", "negative") }
        }
        positive(c.connectTimeout, path: "\(path).connectionPool.connectTimeout")
        if let idle = c.idleTimeout { positive(idle, path: "\(path).connectionPool.idleTimeout") }
        if c.connectionsPerHost < 1 { fail("\(path).connectionPool.connectionsPerHost", "at least 1") }
        if let od = c.outlierDetection {
            let p = "\(path).outlierDetection"
            positive(od.interval, path: "\(p).interval")
            positive(od.baseEjectionTime, path: "\(p).baseEjectionTime")
            if od.maxEjectionTime > Self.maxDuration { fail("\(p).maxEjectionTime", "\(od.maxEjectionTime) is longer than a year") }
            percentage(od.maxEjectionPercent, path: "\(p).maxEjectionPercent")
            if let n = od.consecutiveErrors, n < 1 { fail("\(p).consecutive5xxErrors", "at least 1") }
            if let n = od.consecutiveGatewayFailures, n < 1 { fail("\(p).consecutiveGatewayErrors", "at least 1") }
            if let n = od.consecutiveLocalOriginFailures, n < 1 { fail("\(p).consecutiveLocalOriginFailures", "at least 1") }
            for (name, value) in [("enforcingConsecutive5xx", od.enforcingConsecutiveErrors), ("enforcingConsecutiveGatewayFailure", od.enforcingConsecutiveGatewayFailures),
                                  ("enforcingSuccessRate", od.enforcingSuccessRate), ("enforcingFailurePercentage", od.enforcingFailurePercentage)] {
                percentage(Double(value), path: "\(p).\(name)")
            }
        }
        if c.hosts.isEmpty { warnings.append("\(path).hosts: cluster \"\(c.name)\" has no host; its requests are answered no_healthy_upstream") }
        guard errors.count == errorsBefore else { return nil }
        return CompiledCluster(name: c.name, configuration: c, subsets: subsets,
                               balancerSettings: HostSetBalancer.Settings(policy: c.loadBalancer, overprovisioningFactor: c.overprovisioningFactor,
                                                                          panicThresholdPercent: c.panicThresholdPercent, localityWeights: c.localityWeights))
    }

    mutating func localRateLimit(_ l: LocalRateLimitConfiguration, path: String) -> LocalRateLimitPolicy? {
        let errorsBefore = errors.count
        if let b = l.tokenBucket { bucket(b, path: "\(path).tokenBucket") }
        var conditions: [LocalRateLimitPolicy.Condition] = []
        for (i, c) in l.conditions.enumerated() {
            let match = matchers(c.match, path: "\(path).conditions[\(i)].match")
            bucket(c.tokenBucket, path: "\(path).conditions[\(i)].tokenBucket")
            conditions.append(.init(match: match, bucket: c.tokenBucket))
        }
        guard errors.count == errorsBefore else { return nil }
        return LocalRateLimitPolicy(serviceBucket: l.tokenBucket, conditions: conditions)
    }

    mutating func globalRateLimit(_ g: GlobalRateLimitConfiguration, path: String) -> CompiledGlobalRateLimit? {
        let errorsBefore = errors.count
        let match = matchers(g.match, path: "\(path).match")
        if g.domain.isEmpty { fail("\(path).domain", "empty domain") }
        if g.descriptors.isEmpty { fail("\(path).descriptors", "at least one descriptor") }
        for (i, d) in g.descriptors.enumerated() where d.key.isEmpty || d.attribute.isEmpty {
            fail("\(path).descriptors[\(i)]", "a descriptor needs a key and an attribute")
        }
        positive(g.timeout, path: "\(path).requestTimeout")
        guard errors.count == errorsBefore else { return nil }
        return CompiledGlobalRateLimit(match: match, configuration: g)
    }

    /// A route's largest destination weight (Istio's are 32-bit).
    static let maxWeight = Int(UInt32.max)
    static let maxMaglevTableSize = 5_000_011
    /// The longest timeout, interval or ejection time a configuration may set.
    static let maxDuration = Duration.seconds(365 * 86_400)

    static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        var d = 2
        while d * d <= n {
            if n % d == 0 { return false }
            d += 1
        }
        return true
    }
}
