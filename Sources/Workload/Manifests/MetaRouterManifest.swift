import Foundation
import MetaProtocol
import Yams

/// Reads an Aeraki `MetaRouter` (`metaprotocol.aeraki.io/v1alpha1`) as users write it, plus the
/// route fields MetaProxyLab adds (timeout, retries, fault, hash policy, several mirrors, suffix,
/// present and invert matches).
struct MetaRouterManifest {
    var hosts: [String] = []
    var routes: [RouteConfiguration] = []
    var localRateLimit: LocalRateLimitConfiguration?
    var globalRateLimit: GlobalRateLimitConfiguration?

    static func read(_ spec: Node, _ r: inout ManifestReader) -> MetaRouterManifest {
        var m = MetaRouterManifest()
        for (key, value) in r.fields(spec, "spec", known: ["hosts", "routes", "localRateLimit", "globalRateLimit"], ignored: ["gateways", "exportTo"]) {
            switch key {
            case "hosts": m.hosts = r.strings(value, "hosts")
            case "routes":
                for (i, node) in r.list(value, "routes").enumerated() {
                    if let route = readRoute(node, "routes[\(i)]", &r) { m.routes.append(route) }
                }
            case "localRateLimit": m.localRateLimit = readLocalRateLimit(value, "localRateLimit", &r)
            case "globalRateLimit": m.globalRateLimit = readGlobalRateLimit(value, "globalRateLimit", &r)
            default: break
            }
        }
        return m
    }

    static func readRoute(_ node: Node, _ path: String, _ r: inout ManifestReader) -> RouteConfiguration? {
        r.locate(path, node)
        var route = RouteConfiguration(name: "", destinations: [])
        var mirrorPercentage: Double?
        var mirror: RouteDestination?
        var mirrorNode: Node?
        let known = ["name", "match", "route", "mirror", "mirrorPercentage", "mirrors", "requestMutation", "responseMutation",
                     "hashPolicy", "timeout", "retries", "fault"]
        for (key, value) in r.fields(node, path, known: known) {
            let p = "\(path).\(key)"
            switch key {
            case "name": route.name = r.string(value, p) ?? ""
            case "match": route.match = readMatch(value, p, &r)
            case "route":
                r.locate(p, value)
                for (j, d) in r.list(value, p).enumerated() {
                    let dp = "\(p)[\(j)]"
                    r.locate(dp, d)
                    var destination: RouteDestination?
                    var weight = 1
                    for (k, v) in r.fields(d, dp, known: ["destination", "weight"], ignored: ["headers"]) {
                        if k == "destination" { destination = readDestination(v, "\(dp).destination", &r) }
                        if k == "weight" {
                            r.locate("\(dp).weight", v)
                            weight = r.int(v, "\(dp).weight") ?? 1
                        }
                    }
                    guard var destination else {
                        r.fail(d, dp, "a route entry needs a destination")
                        continue
                    }
                    destination.weight = weight
                    route.destinations.append(destination)
                }
            case "mirror":
                mirror = readDestination(value, p, &r)
                mirrorNode = value
            case "mirrorPercentage":
                for (k, v) in r.fields(value, p, known: ["value"]) where k == "value" { mirrorPercentage = r.double(v, "\(p).value") }
            case "mirrors":
                for (j, m) in r.list(value, p).enumerated() {
                    let mp = "\(p)[\(j)]"
                    r.locate(mp, m)
                    var destination: RouteDestination?
                    var percentage = 100.0
                    for (k, v) in r.fields(m, mp, known: ["destination", "percentage"]) {
                        if k == "destination" { destination = readDestination(v, "\(mp).destination", &r) }
                        if k == "percentage" { percentage = r.double(v, "\(mp).percentage") ?? 100 }
                    }
                    if let destination { route.mirrors.append(MirrorPolicy(destination: destination, percentage: percentage)) }
                }
            case "requestMutation": route.requestMutation = readKeyValues(value, p, &r)
            case "responseMutation": route.responseMutation = readKeyValues(value, p, &r)
            case "hashPolicy": route.hashPolicy = r.strings(value, p)
            case "timeout":
                r.locate(p, value)
                route.timeout = r.duration(value, p)
            case "retries": route.retry = readRetries(value, p, &r)
            case "fault": route.fault = readFault(value, p, &r)
            default: break
            }
        }
        if let mirror {
            r.locate("\(path).mirrors[\(route.mirrors.count)]", mirrorNode!)
            route.mirrors.insert(MirrorPolicy(destination: mirror, percentage: mirrorPercentage ?? 100), at: 0)
        }
        return route
    }

    /// `attributes: {name: StringMatch}`; an empty StringMatch (`method: {}`) checks presence.
    static func readMatch(_ node: Node, _ path: String, _ r: inout ManifestReader) -> [AttributeCondition] {
        var conditions: [AttributeCondition] = []
        for (key, value) in r.fields(node, path, known: ["attributes"]) where key == "attributes" {
            guard let mapping = value.mapping else {
                r.fail(value, "\(path).attributes", "expected a mapping of attribute names to matches")
                continue
            }
            for (k, v) in mapping {
                guard let name = k.scalar?.string else { continue }
                let p = "\(path).attributes.\(name)"
                r.locate(p, v)
                var match: StringMatch?
                var invert = false
                let fields = v.scalar?.string == "" || (v.scalar != nil && v.null != nil) ? [] : r.fields(v, p, known: ["exact", "prefix", "suffix", "regex", "present", "invert"])
                for (mk, mv) in fields {
                    let mp = "\(p).\(mk)"
                    r.locate(mp, mv)
                    let kind: StringMatch?
                    switch mk {
                    case "exact": kind = r.string(mv, mp).map { .exact($0) }
                    case "prefix": kind = r.string(mv, mp).map { .prefix($0) }
                    case "suffix": kind = r.string(mv, mp).map { .suffix($0) }
                    case "regex": kind = r.string(mv, mp).map { .regex($0) }
                    case "present": kind = (r.bool(mv, mp) ?? true) ? .present : nil
                    case "invert":
                        invert = r.bool(mv, mp) ?? false
                        continue
                    default: kind = nil
                    }
                    if match != nil, kind != nil { r.fail(mv, mp, "one match kind per attribute (exact, prefix, suffix, regex or present)") }
                    match = match ?? kind
                }
                conditions.append(AttributeCondition(name, match ?? .present, invert: invert))
            }
        }
        return conditions
    }

    static func readDestination(_ node: Node, _ path: String, _ r: inout ManifestReader) -> RouteDestination? {
        r.locate(path, node)
        var host: String?
        var subset: String?
        for (key, value) in r.fields(node, path, known: ["host", "subset", "port"]) {
            if key == "host" { host = r.string(value, "\(path).host") }
            if key == "subset" { subset = r.string(value, "\(path).subset") }
        }
        guard let host else {
            r.fail(node, path, "a destination needs a host")
            return nil
        }
        return RouteDestination(cluster: host, subset: subset)
    }

    static func readKeyValues(_ node: Node, _ path: String, _ r: inout ManifestReader) -> [KeyValue] {
        r.locate(path, node)
        return r.list(node, path).enumerated().compactMap { i, kv in
            var key: String?, value = ""
            for (k, v) in r.fields(kv, "\(path)[\(i)]", known: ["key", "value"]) {
                if k == "key" { key = r.string(v, "\(path)[\(i)].key") }
                if k == "value" { value = r.string(v, "\(path)[\(i)].value") ?? "" }
            }
            guard let key else {
                r.fail(kv, "\(path)[\(i)]", "a mutation entry needs a key")
                return nil
            }
            return KeyValue(key, value)
        }
    }

    static func readRetries(_ node: Node, _ path: String, _ r: inout ManifestReader) -> RetryPolicy? {
        r.locate(path, node)
        var policy = RetryPolicy()
        var maxGiven = false
        for (key, value) in r.fields(node, path, known: ["attempts", "perTryTimeout", "retryOn", "backoff", "retryOtherHost"]) {
            let p = "\(path).\(key)"
            r.locate(p, value)
            switch key {
            case "attempts": policy.numRetries = r.int(value, p) ?? policy.numRetries
            case "perTryTimeout": policy.perTryTimeout = r.duration(value, p)
            case "retryOn":
                var conditions: RetryPolicy.Conditions = []
                for name in (r.string(value, p) ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    switch name {
                    case "connect-failure": conditions.insert(.connectFailure)
                    case "reset": conditions.insert(.reset)
                    case "per-try-timeout", "timeout": conditions.insert(.perTryTimeout)
                    case "unavailable", "gateway-error": conditions.insert(.unavailable)
                    case "server-error", "5xx": conditions.insert([.serverError, .unavailable])
                    default: r.fail(value, p, "unknown retry condition \"\(name)\" (connect-failure, reset, per-try-timeout, unavailable, server-error)")
                    }
                }
                policy.retryOn = conditions
            case "backoff":
                for (k, v) in r.fields(value, p, known: ["baseInterval", "maxInterval"]) {
                    r.locate("\(p).\(k)", v)
                    if k == "baseInterval" { policy.backoffBase = r.duration(v, "\(p).\(k)") ?? policy.backoffBase }
                    if k == "maxInterval" {
                        policy.backoffMax = r.duration(v, "\(p).\(k)") ?? policy.backoffMax
                        maxGiven = true
                    }
                }
            case "retryOtherHost": policy.retryOtherHost = r.bool(value, p) ?? true
            default: break
            }
        }
        // Envoy's default maximum backoff is ten times the base.
        if !maxGiven { policy.backoffMax = policy.backoffBase * 10 }
        return policy
    }

    static func readFault(_ node: Node, _ path: String, _ r: inout ManifestReader) -> FaultInjection? {
        r.locate(path, node)
        var fault = FaultInjection()
        for (key, value) in r.fields(node, path, known: ["abort", "delay"]) {
            let p = "\(path).\(key)"
            r.locate(p, value)
            var percentage = 100.0
            var error: LocalReplyError.Kind = .unspecified
            var delay: Duration?
            for (k, v) in r.fields(value, p, known: key == "abort" ? ["error", "percentage"] : ["fixedDelay", "percentage"]) {
                let kp = "\(p).\(k)"
                r.locate(kp, v)
                switch k {
                case "percentage": percentage = r.double(v, kp) ?? 100
                case "fixedDelay": delay = r.duration(v, kp)
                case "error":
                    let name = r.string(v, kp) ?? ""
                    if let kind = LocalReplyError.Kind.allCases.first(where: { $0.description == name }) {
                        error = kind
                    } else {
                        r.fail(v, kp, "unknown error \"\(name)\" (one of: \(LocalReplyError.Kind.allCases.map(\.description).joined(separator: ", ")))")
                    }
                default: break
                }
            }
            if key == "abort" { fault.abort = (error, percentage) }
            if key == "delay" {
                guard let delay else {
                    r.fail(value, p, "a delay needs a fixedDelay")
                    continue
                }
                fault.delay = (delay, percentage)
            }
        }
        return fault
    }

    static func readTokenBucket(_ node: Node, _ path: String, _ r: inout ManifestReader) -> TokenBucketSpec? {
        r.locate(path, node)
        var maxTokens: Int?, perFill = 1
        var interval: Duration?
        for (key, value) in r.fields(node, path, known: ["maxTokens", "tokensPerFill", "fillInterval"]) {
            let p = "\(path).\(key)"
            r.locate(p, value)
            switch key {
            case "maxTokens": maxTokens = r.int(value, p)
            case "tokensPerFill": perFill = r.int(value, p) ?? 1
            case "fillInterval": interval = r.duration(value, p)
            default: break
            }
        }
        guard let maxTokens, let interval else {
            r.fail(node, path, "a token bucket needs maxTokens and fillInterval")
            return nil
        }
        return TokenBucketSpec(maxTokens: maxTokens, tokensPerFill: perFill, fillInterval: interval)
    }

    static func readLocalRateLimit(_ node: Node, _ path: String, _ r: inout ManifestReader) -> LocalRateLimitConfiguration {
        r.locate(path, node)
        var config = LocalRateLimitConfiguration(tokenBucket: nil)
        for (key, value) in r.fields(node, path, known: ["tokenBucket", "conditions"]) {
            if key == "tokenBucket" { config.tokenBucket = readTokenBucket(value, "\(path).tokenBucket", &r) }
            if key == "conditions" {
                for (i, c) in r.list(value, "\(path).conditions").enumerated() {
                    let cp = "\(path).conditions[\(i)]"
                    r.locate(cp, c)
                    var match: [AttributeCondition] = []
                    var bucket: TokenBucketSpec?
                    for (k, v) in r.fields(c, cp, known: ["match", "tokenBucket"]) {
                        if k == "match" { match = readMatch(v, "\(cp).match", &r) }
                        if k == "tokenBucket" { bucket = readTokenBucket(v, "\(cp).tokenBucket", &r) }
                    }
                    if let bucket { config.conditions.append(.init(match: match, tokenBucket: bucket)) } else { r.fail(c, cp, "a condition needs a tokenBucket") }
                }
            }
        }
        return config
    }

    static func readGlobalRateLimit(_ node: Node, _ path: String, _ r: inout ManifestReader) -> GlobalRateLimitConfiguration? {
        r.locate(path, node)
        var config = GlobalRateLimitConfiguration(domain: "", descriptors: [])
        for (key, value) in r.fields(node, path, known: ["match", "domain", "requestTimeout", "denyOnFail", "rateLimitService", "descriptors"]) {
            let p = "\(path).\(key)"
            r.locate(p, value)
            switch key {
            case "match": config.match = readMatch(value, p, &r)
            case "domain": config.domain = r.string(value, p) ?? ""
            case "requestTimeout": config.timeout = r.duration(value, p) ?? config.timeout
            case "denyOnFail": config.denyOnFailure = r.bool(value, p) ?? false
            case "rateLimitService": config.service = r.string(value, p)
            case "descriptors":
                for (i, d) in r.list(value, p).enumerated() {
                    var property: String?, descriptorKey: String?
                    for (k, v) in r.fields(d, "\(p)[\(i)]", known: ["property", "descriptorKey"]) {
                        if k == "property" { property = r.string(v, "\(p)[\(i)].property") }
                        if k == "descriptorKey" { descriptorKey = r.string(v, "\(p)[\(i)].descriptorKey") }
                    }
                    config.descriptors.append(.init(key: descriptorKey ?? property ?? "", attribute: property ?? ""))
                }
            default: break
            }
        }
        return config
    }
}
