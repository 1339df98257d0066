import Foundation
import Yams

extension WorkloadScript {
    /// How `mplab capacity` treats the workload: the objective a rate must keep, how the search
    /// steps and bisects, how each point is measured on each driver, the closed-loop sweep for
    /// the Universal Scalability Law, and how the recommendation is derived and replayed.
    /// Every field has a default (`Workloads/README.md`, "capacity").
    public struct CapacitySection: Sendable {
        /// The percentile judged (99 for p99) and its bound, seconds.
        public var percentile: Double = 99
        public var bound: Double = 0.1
        /// The highest share of calls not answered with success.
        public var maxErrorShare: Double = 0.01
        /// The drivers searched: simulate, real or both (the workload's mode unless given).
        public var driver: Mode
        /// The first offered rate, calls per second; each passing step multiplies it by `growth`.
        public var start: Double = 100
        public var growth: Double = 2
        /// Bisection stops when the bracket is narrower than this share of its low end.
        public var precision: Double = 0.01
        /// No rate above this is offered.
        public var ceiling: Double = 1_000_000
        /// Simulated: independent replications per point, each this long, the first `warmUp` left out.
        public var replications: Int = 8
        public var pointDuration: Duration = .seconds(30)
        public var warmUp: Duration = .seconds(2)
        /// Real sockets: rounds per point, each this long (its first fifth is warm-up).
        public var rounds: Int = 3
        public var roundDuration: Duration = .seconds(3)
        /// Callers of the closed-loop sweep; empty for no sweep.
        public var concurrency: [Int] = [1, 2, 4, 8, 16, 32]
        /// How long each sweep level runs (simulated; real levels run `roundDuration`).
        public var sweepDuration: Duration = .seconds(20)
        /// The recommended limit is capacity × headroom.
        public var headroom: Double = 0.75
        /// The buckets' fill interval (50 ms or more).
        public var fillInterval: Duration = .milliseconds(100)
        /// The call attribute that names a method, for per-method buckets (`method` unless given;
        /// LivePacket's `cmd`).
        public var methodAttribute: String = "method"
        /// The what-if replays: these multiples of the capacity, and a flash crowd of this
        /// multiple (0 for none), each this long.
        public var whatIfMultiples: [Double] = [1, 2, 5]
        public var flashCrowd: Double = 5
        public var whatIfDuration: Duration = .seconds(120)

        public init(driver: Mode) { self.driver = driver }
    }
}

extension WorkloadReader {
    static let capacityFields = ["objective", "maxErrors", "driver", "start", "growth", "precision", "ceiling", "replications", "pointDuration", "warmUp",
                                 "rounds", "roundDuration", "concurrency", "sweepDuration", "headroom", "fillInterval", "methodAttribute", "whatIf"]

    static func readCapacity(_ node: Node, mode: WorkloadScript.Mode, _ r: inout ManifestReader) -> WorkloadScript.CapacitySection {
        var c = WorkloadScript.CapacitySection(driver: mode)
        for (k, v) in r.fields(node, "capacity", known: capacityFields) {
            let p = "capacity.\(k)"
            switch k {
            case "objective":
                if let (percentile, bound) = readObjective(v, p, &r) { (c.percentile, c.bound) = (percentile, bound) }
            case "maxErrors": c.maxErrorShare = readShare(v, p, &r) ?? c.maxErrorShare
            case "driver":
                let m = r.string(v, p) ?? ""
                if let mode = WorkloadScript.Mode(rawValue: m) { c.driver = mode } else { r.fail(v, p, "expected simulate, real or both, not \"\(m)\"") }
            case "start": c.start = readRate(v, p, &r) ?? c.start
            case "growth":
                if let g = r.double(v, p) { if g > 1 { c.growth = g } else { r.fail(v, p, "the growth factor must be above 1, found \(g)") } }
            case "precision": c.precision = readShare(v, p, &r) ?? c.precision
            case "ceiling": c.ceiling = readRate(v, p, &r) ?? c.ceiling
            case "replications":
                if let n = r.int(v, p) { if n >= 2 { c.replications = n } else { r.fail(v, p, "a 95 % bound needs at least 2 replications, found \(n)") } }
            case "pointDuration": c.pointDuration = positiveDuration(v, p, &r) ?? c.pointDuration
            case "warmUp": c.warmUp = r.duration(v, p) ?? c.warmUp
            case "rounds":
                if let n = r.int(v, p) { if n >= 2 { c.rounds = n } else { r.fail(v, p, "a 95 % bound needs at least 2 rounds, found \(n)") } }
            case "roundDuration": c.roundDuration = positiveDuration(v, p, &r) ?? c.roundDuration
            case "concurrency":
                var levels: [Int] = []
                for (i, item) in r.list(v, p).enumerated() {
                    if let n = r.int(item, "\(p)[\(i)]") { if n >= 1 { levels.append(n) } else { r.fail(item, "\(p)[\(i)]", "expected 1 caller or more, found \(n)") } }
                }
                if !levels.isEmpty && Set(levels).count < 4 { r.fail(v, p, "the Universal Scalability Law has three coefficients: give at least 4 distinct levels, or [] for no sweep") }
                c.concurrency = levels.sorted()
            case "sweepDuration": c.sweepDuration = positiveDuration(v, p, &r) ?? c.sweepDuration
            case "headroom":
                if let h = r.double(v, p) { if h > 0 && h <= 1 { c.headroom = h } else { r.fail(v, p, "headroom is a share of the capacity, above 0 and at most 1; found \(h)") } }
            case "fillInterval":
                if let d = r.duration(v, p) { if d >= .milliseconds(50) { c.fillInterval = d } else { r.fail(v, p, "a fill interval under 50ms refills too often to be exact; found \(Expectation.duration(d.seconds))") } }
            case "methodAttribute": c.methodAttribute = r.string(v, p) ?? c.methodAttribute
            case "whatIf":
                for (wk, wv) in r.fields(v, p, known: ["multiples", "flashCrowd", "duration"]) {
                    let wp = "\(p).\(wk)"
                    switch wk {
                    case "multiples":
                        c.whatIfMultiples = r.list(wv, wp).enumerated().compactMap { i, item in
                            guard let m = r.double(item, "\(wp)[\(i)]") else { return nil }
                            if m <= 0 { r.fail(item, "\(wp)[\(i)]", "a multiple of the capacity must be above 0, found \(m)") }
                            return m
                        }
                    case "flashCrowd":
                        if let m = r.double(wv, wp) { if m == 0 || m > 1 { c.flashCrowd = m } else { r.fail(wv, wp, "a flash crowd multiplies the load by more than 1 (or 0 for none); found \(m)") } }
                    case "duration": c.whatIfDuration = positiveDuration(wv, wp, &r) ?? c.whatIfDuration
                    default: break
                    }
                }
            default: break
            }
        }
        if c.warmUp >= c.pointDuration { r.fail(node["warmUp"] ?? node, "capacity.warmUp", "the warm-up must end before each point's duration (\(Expectation.duration(c.pointDuration.seconds)))") }
        return c
    }

    /// `p99 < 20ms`: the percentile and its bound in seconds.
    static func readObjective(_ node: Node, _ path: String, _ r: inout ManifestReader) -> (Double, Double)? {
        let text = r.string(node, path) ?? ""
        let parts = text.split(separator: "<", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "=")) }
        guard parts.count == 2, parts[0].hasPrefix("p"), let p = Double(parts[0].dropFirst()), p > 0, p < 100 else {
            r.fail(node, path, "expected a percentile and its bound, such as p99 < 20ms, not \"\(text)\"")
            return nil
        }
        guard let bound = try? Expectation.value(parts[1].trimmingCharacters(in: .whitespaces), in: text), bound > 0 else {
            r.fail(node, path, "the bound must be a duration above 0, such as 20ms, not \"\(parts[1])\"")
            return nil
        }
        return (p, bound)
    }

    /// `1%` or `0.01`: a share between 0 and 1.
    static func readShare(_ node: Node, _ path: String, _ r: inout ManifestReader) -> Double? {
        let text = node.scalar?.string ?? ""
        guard let v = text.hasSuffix("%") ? Double(text.dropLast().trimmingCharacters(in: .whitespaces)).map({ $0 / 100 }) : Double(text), v >= 0, v <= 1 else {
            r.fail(node, path, "expected a share such as 1% or 0.01, not \"\(text)\"")
            return nil
        }
        return v
    }
}
