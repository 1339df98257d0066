import MetaProtocol
import MetaProxy
import RateLimitService
import Testing
import Workload

/// What `mplab ratelimit-server` decides, on a virtual clock: envoyproxy/ratelimit's matching,
/// token buckets per distinct descriptor, and its configuration format read with file, line and
/// field in every error.
@Suite("Rate-limit service: rules and buckets")
struct RateLimitTableTests {
    static let yaml = """
        domain: production
        descriptors:
          - key: method
            value: sayHello
            rate_limit: { unit: second, requests_per_unit: 10 }
          - key: method
            value: "get*"
            rate_limit: { unit: minute, requests_per_unit: 2 }
          - key: method
            rate_limit: { unit: second, requests_per_unit: 1 }
          - key: tenant
            descriptors:
              - key: method
                rate_limit: { unit: hour, requests_per_unit: 3 }
          - key: vip
            rate_limit: { unlimited: true }
          - key: shadow
            shadow_mode: true
            rate_limit: { unit: day, requests_per_unit: 1 }
        """

    static func table() throws -> RateLimitTable {
        RateLimitTable(rules: try RateLimitRules.load([("limits.yaml", yaml)]))
    }

    static func at(_ ms: Int64) -> Timestamp { Timestamp(nanoseconds: ms * 1_000_000) }

    static func overLimit(_ t: inout RateLimitTable, _ entries: [KeyValue], at ms: Int64, hits: Int = 1, domain: String = "production") -> Bool {
        t.decide(domain: domain, descriptors: [entries], hits: hits, now: at(ms))[0].overLimit
    }

    @Test func anExactValueBeatsAPrefixWhichBeatsTheKeyAlone() throws {
        var t = try Self.table()
        let hello = [KeyValue("method", "sayHello")]
        // 10 per second: the 11th in the same instant is refused, a token comes every 100 ms.
        #expect((0..<10).allSatisfy { _ in !Self.overLimit(&t, hello, at: 0) })
        #expect(Self.overLimit(&t, hello, at: 0))
        #expect(Self.overLimit(&t, hello, at: 99))
        #expect(!Self.overLimit(&t, hello, at: 100))
        #expect(Self.overLimit(&t, hello, at: 100))
        // A prefix match: 2 per minute.
        let get = [KeyValue("method", "getUser")]
        #expect(!Self.overLimit(&t, get, at: 0) && !Self.overLimit(&t, get, at: 0) && Self.overLimit(&t, get, at: 0))
        // The key alone: 1 per second, a bucket per value.
        #expect(!Self.overLimit(&t, [KeyValue("method", "a")], at: 0))
        #expect(Self.overLimit(&t, [KeyValue("method", "a")], at: 500))
        #expect(!Self.overLimit(&t, [KeyValue("method", "b")], at: 500))
        #expect(!Self.overLimit(&t, [KeyValue("method", "a")], at: 1000))
    }

    @Test func nestedDescriptorsLimitByTheLastEntryAndLeavingTheTreeLimitsNothing() throws {
        var t = try Self.table()
        let pair = [KeyValue("tenant", "t1"), KeyValue("method", "x")]
        #expect((0..<3).allSatisfy { _ in !Self.overLimit(&t, pair, at: 0) })
        #expect(Self.overLimit(&t, pair, at: 0))
        // Another tenant, another bucket.
        #expect(!Self.overLimit(&t, [KeyValue("tenant", "t2"), KeyValue("method", "x")], at: 0))
        // tenant alone reaches a node without a limit; an unknown key or a deeper list leaves the tree.
        for entries in [[KeyValue("tenant", "t1")], [KeyValue("unknown", "1")], pair + [KeyValue("extra", "1")]] {
            #expect((0..<100).allSatisfy { _ in !Self.overLimit(&t, entries, at: 0) })
        }
        // A domain no file configures limits nothing.
        #expect(!Self.overLimit(&t, [KeyValue("method", "a")], at: 0, domain: "other") && !Self.overLimit(&t, [KeyValue("method", "a")], at: 0, domain: "other"))
        #expect(t.counters.unlimited == 302)
    }

    @Test func hitsUnlimitedAndShadowMode() throws {
        var t = try Self.table()
        let hello = [KeyValue("method", "sayHello")]
        #expect(!Self.overLimit(&t, hello, at: 0, hits: 7))
        #expect(Self.overLimit(&t, hello, at: 0, hits: 4), "3 tokens left")
        #expect(!Self.overLimit(&t, hello, at: 0, hits: 3))
        #expect((0..<50).allSatisfy { _ in !Self.overLimit(&t, [KeyValue("vip", "x")], at: 0) })
        // Shadow mode: over the limit is counted, never refused.
        #expect(!Self.overLimit(&t, [KeyValue("shadow", "x")], at: 0) && !Self.overLimit(&t, [KeyValue("shadow", "x")], at: 0))
        #expect(t.counters.shadowOverLimit == 1)
        // Several descriptors: each is decided, and each reports its limit and what is left.
        let statuses = t.decide(domain: "production", descriptors: [[KeyValue("method", "c")], [KeyValue("method", "c")]], hits: 1, now: Self.at(0))
        #expect(statuses.map(\.overLimit) == [false, true])
        #expect(statuses[0].limit == .init(requestsPerUnit: 1, unit: .second) && statuses[0].remaining == 0)
    }

    @Test func aMetaRoutersServiceNameIsAnIstioClusterOrAnAddress() {
        func resolved(_ name: String) -> String? { RateLimitServices.hostAndPort(name).map { "\($0.0) \($0.1)" } }
        #expect(resolved("outbound|8081||ratelimit.default.svc.cluster.local") == "ratelimit.default.svc.cluster.local 8081")
        #expect(resolved("127.0.0.1:8081") == "127.0.0.1 8081")
        #expect(resolved("[::1]:8081") == "::1 8081")
        for bad in ["ratelimit", "outbound|x||h", "h:0", "h:70000", ":80"] { #expect(resolved(bad) == nil, "\(bad)") }
    }

    @Test func badFilesAreRefusedWithFileLineAndField() {
        func errors(_ text: String) -> [String] {
            do {
                _ = try RateLimitRules.load([("limits.yaml", text)])
                return []
            } catch {
                return error.errors.map(\.description)
            }
        }
        #expect(errors("domain: d\ndescriptors:\n  - key: a\n    rate_limit: { unit: fortnight, requests_per_unit: 1 }\n")
            == ["limits.yaml:4:25: descriptors[0].rate_limit.unit: expected one of second, minute, hour, day, week, month, year, not \"fortnight\""])
        #expect(errors("domain: d\ndescriptors:\n  - key: a\n    rate_limt: {}\n").first?.contains("limits.yaml:4:5: descriptors[0].rate_limt: unknown field; did you mean 'rate_limit'?") == true)
        #expect(errors("descriptors: []\n").first?.contains("domain: missing") == true)
        #expect(errors("domain: d\ndescriptors:\n  - key: a\n    rate_limit: { unit: second }\n").first?.contains("requests_per_unit: missing") == true)
        #expect(errors("domain: d\ndescriptors:\n  - key: a\n  - key: a\n").first?.contains("configured twice") == true)
        #expect(errors("domain: d\ndescriptors:\n  - key: a\n    rate_limit: { unit: second, requests_per_unit: -1 }\n").first?.contains("expected 0 to 4294967295") == true)
        #expect(errors("").first?.contains("empty") == true)
        do {
            _ = try RateLimitRules.load([("a.yaml", "domain: d\n"), ("b.yaml", "domain: d\n")])
            Issue.record("a domain configured twice was accepted")
        } catch {
            #expect(error.description.contains("b.yaml:1:1: domain: domain 'd' is configured by another file too"))
        }
    }
}
