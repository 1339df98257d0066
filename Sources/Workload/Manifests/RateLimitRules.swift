import Yams

/// The limits a rate-limit service enforces, in envoyproxy/ratelimit's configuration format:
/// one file per domain, a tree of descriptors, each with a key, an optional value and an
/// optional `rate_limit`.
///
/// ```yaml
/// domain: production
/// descriptors:
///   - key: method
///     value: sayHello
///     rate_limit: { unit: second, requests_per_unit: 100 }
///   - key: method            # any other method: a bucket per value
///     rate_limit: { unit: second, requests_per_unit: 10 }
///   - key: tenant
///     descriptors:
///       - key: method
///         rate_limit: { unit: minute, requests_per_unit: 600 }
/// ```
public struct RateLimitRules: Sendable, Hashable {
    /// A time unit of `rate_limit.unit`.
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case second, minute, hour, day, week, month, year

        /// The unit's length (a month is 30 days and a year 365, as envoyproxy/ratelimit counts them).
        public var duration: Duration {
            switch self {
            case .second: .seconds(1)
            case .minute: .seconds(60)
            case .hour: .seconds(3600)
            case .day: .seconds(86_400)
            case .week: .seconds(7 * 86_400)
            case .month: .seconds(30 * 86_400)
            case .year: .seconds(365 * 86_400)
            }
        }
    }

    /// `requests_per_unit` requests per `unit`, or no limit at all (`unlimited: true`).
    public struct Limit: Sendable, Hashable {
        public var requestsPerUnit: Int
        public var unit: Unit
        public var unlimited: Bool
        public var name: String?
        public init(requestsPerUnit: Int, unit: Unit, unlimited: Bool = false, name: String? = nil) {
            self.requestsPerUnit = requestsPerUnit
            self.unit = unit
            self.unlimited = unlimited
            self.name = name
        }
    }

    /// A node of the tree: matches a descriptor entry with `key` (and `value`, when given; a
    /// value ending in `*` matches every value with that prefix).
    public struct Descriptor: Sendable, Hashable {
        public var key: String
        public var value: String?
        public var limit: Limit?
        /// Counted and reported, but never refused (`shadow_mode`).
        public var shadowMode: Bool
        public var descriptors: [Descriptor]
        public init(key: String, value: String? = nil, limit: Limit? = nil, shadowMode: Bool = false, descriptors: [Descriptor] = []) {
            self.key = key
            self.value = value
            self.limit = limit
            self.shadowMode = shadowMode
            self.descriptors = descriptors
        }
    }

    /// The descriptor trees, by domain.
    public var domains: [String: [Descriptor]]

    public init(domains: [String: [Descriptor]]) { self.domains = domains }

    /// Reads one file per domain; a domain named twice, an unknown field, a unit or a count
    /// that is not one are errors with file, line and field.
    public static func load(_ files: [(name: String, text: String)]) throws(ManifestErrors) -> RateLimitRules {
        var r = ManifestReader(file: files.first?.name ?? "<none>")
        var domains: [String: [Descriptor]] = [:]
        for (name, text) in files {
            r.file = name
            if let refused = ComplexKeys.firstUse(in: text, file: name) {
                r.append(refused)
                continue
            }
            let document: Node?
            do {
                document = try Yams.compose(yaml: text)
            } catch {
                r.fail(nil, "", "not valid YAML: \(error)")
                continue
            }
            guard let document else {
                r.fail(nil, "", "empty: a rate-limit configuration names a domain and its descriptors")
                continue
            }
            var domain: String?
            var descriptors: [Descriptor] = []
            for (key, value) in r.fields(document, "", known: ["domain", "descriptors"]) {
                switch key {
                case "domain": domain = r.string(value, "domain")
                default: descriptors = readDescriptors(value, "descriptors", &r)
                }
            }
            guard let domain, !domain.isEmpty else {
                r.fail(document, "domain", "missing: every rate-limit configuration names its domain")
                continue
            }
            if domains[domain] != nil {
                r.fail(document, "domain", "domain '\(domain)' is configured by another file too")
                continue
            }
            domains[domain] = descriptors
        }
        guard r.errors.isEmpty else { throw ManifestErrors(r.errors) }
        return RateLimitRules(domains: domains)
    }

    static func readDescriptors(_ node: Node, _ path: String, _ r: inout ManifestReader) -> [Descriptor] {
        var result: [Descriptor] = []
        var seen: Set<String> = []
        for (i, item) in r.list(node, path).enumerated() {
            let p = "\(path)[\(i)]"
            var d = Descriptor(key: "")
            for (key, value) in r.fields(item, p, known: ["key", "value", "rate_limit", "descriptors", "shadow_mode"],
                                         ignored: ["detailed_metric"]) {
                let f = "\(p).\(key)"
                switch key {
                case "key": d.key = r.string(value, f) ?? ""
                case "value": d.value = r.string(value, f)
                case "rate_limit": d.limit = readLimit(value, f, &r)
                case "shadow_mode": d.shadowMode = r.bool(value, f) ?? false
                default: d.descriptors = readDescriptors(value, f, &r)
                }
            }
            if d.key.isEmpty { r.fail(item, "\(p).key", "missing: every descriptor has a key") }
            let identity = "\(d.key)=\(d.value ?? "")"
            if !seen.insert(identity).inserted {
                r.fail(item, p, "key '\(d.key)'\(d.value.map { " with value '\($0)'" } ?? " without a value") is configured twice at this level")
            }
            result.append(d)
        }
        return result
    }

    static func readLimit(_ node: Node, _ path: String, _ r: inout ManifestReader) -> Limit? {
        var unit: Unit?
        var unitGiven = false
        var count: Int?
        var unlimited = false
        var name: String?
        for (key, value) in r.fields(node, path, known: ["unit", "requests_per_unit", "unlimited", "name"]) {
            let f = "\(path).\(key)"
            switch key {
            case "unit":
                unitGiven = true
                let text = r.string(value, f)?.lowercased()
                unit = text.flatMap(Unit.init(rawValue:))
                if text != nil, unit == nil {
                    r.fail(value, f, "expected one of \(Unit.allCases.map(\.rawValue).joined(separator: ", ")), not \(ManifestReader.describe(value))")
                }
            case "requests_per_unit":
                count = r.int(value, f)
                if let c = count, c < 0 || c > Int(UInt32.max) {
                    r.fail(value, f, "expected 0 to \(UInt32.max) (the API carries it as a uint32), not \(c)")
                    count = nil
                }
            case "unlimited": unlimited = r.bool(value, f) ?? false
            default: name = r.string(value, f)
            }
        }
        if unlimited { return Limit(requestsPerUnit: 0, unit: unit ?? .second, unlimited: true, name: name) }
        guard let unit else {
            if !unitGiven { r.fail(node, "\(path).unit", "missing: a rate limit needs a unit (second, minute, hour, day, …)") }
            return nil
        }
        guard let count else {
            r.fail(node, "\(path).requests_per_unit", "missing: a rate limit needs requests_per_unit")
            return nil
        }
        return Limit(requestsPerUnit: count, unit: unit, name: name)
    }
}
