import Testing

@testable import MetaProtocol

/// The key a route's hash policy gives a request: its attributes' values, sorted, hashed; what
/// a request lacks is skipped. The same key reaches the same host through a consistent-hash
/// cluster, whatever order the attributes came in.
@Suite("Core: the hash-policy key")
struct HashPolicyTests {
    static func attributes(_ pairs: [(String, String)]) -> Attributes {
        var a = Attributes()
        for (k, v) in pairs { a.append(key: k, value: v) }
        return a
    }

    @Test func theKeyIsTheSortedValuesAndSkipsWhatIsMissing() {
        let policy = ["user", "tenant"]
        let key = ProxyCore.hashKey(Self.attributes([("user", "u1"), ("tenant", "t1")]), policy: policy)
        #expect(key == XXHash64.hash("t1\u{1f}u1"), "values sorted, joined by the unit separator")
        #expect(ProxyCore.hashKey(Self.attributes([("tenant", "t1"), ("user", "u1")]), policy: policy) == key, "order of attributes")
        #expect(ProxyCore.hashKey(Self.attributes([("user", "u1"), ("tenant", "t1")]), policy: policy.reversed()) == key, "order of the policy")
        #expect(ProxyCore.hashKey(Self.attributes([("user", "u1")]), policy: policy) == XXHash64.hash("u1"), "a missing attribute is skipped")
        #expect(ProxyCore.hashKey(Self.attributes([("user", "u2"), ("tenant", "t1")]), policy: policy) != key)
        #expect(ProxyCore.hashKey(Self.attributes([("other", "x")]), policy: policy) == XXHash64.hash(""))
    }

    @Test(arguments: [LoadBalancerPolicy.ringHash(), .maglev()])
    func theSameKeyReachesTheSameHostThroughARoute(lb: LoadBalancerPolicy) throws {
        let route = RouteConfiguration(name: "sticky", destinations: [RouteDestination(cluster: "svc")], hashPolicy: ["user"])
        let d = try TestDriver.make(Configs.single(route: route, cluster: Configs.cluster("svc", hosts: 8, lb: lb)))
        var hostOf: [String: String] = [:]
        for i in 0..<400 {
            let user = "user-\(i % 40)"
            // The other attribute varies and comes first half the time: only the policy's counts.
            let noise = ("request", "\(i)")
            d.request(i % 2 == 0 ? [noise, ("user", user)] : [("user", user), noise], id: UInt64(i + 1))
            let host = d.host(of: d.sent.last!)
            #expect(hostOf[user, default: host] == host, "\(user) moved")
            hostOf[user] = host
            d.answer(d.sent.count - 1)
        }
        #expect(Set(hostOf.values).count > 4, "40 keys spread over the 8 hosts: \(Set(hostOf.values).count)")
    }
}
