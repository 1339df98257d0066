import MetaProtocol
import Testing

@testable import Workload

/// A configuration is refused for each kind of invalid field, with file, line, field path and
/// reason; a refused configuration yields nothing.
@Suite("Manifests: refused configurations")
struct ManifestErrorTests {
    /// The descriptions of the errors `text` is refused with, loading and compiling for
    /// `capabilities`.
    func errors(_ text: String, protocolName: String = "livepacket", capabilities: CodecCapabilities = livePacketCapabilities) -> [String] {
        do {
            let loaded = try ConfigurationLoader.load([("bad.yaml", text)], protocolName: protocolName)
            _ = try loaded.compile(capabilities: capabilities)
            Issue.record("the configuration was accepted")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// A one-route MetaRouter plus a cluster, with `routeExtra` and `specExtra` spliced in.
    func router(routeExtra: String = "", match: String = "cmd: { exact: \"153\" }", specExtra: String = "", trafficPolicy: String = "") -> String {
        """
        apiVersion: mplab.io/v1alpha1
        kind: ProxyConfig
        spec:
          clusters:
            - name: svc
              hosts: [127.0.0.1:9001]
        \(trafficPolicy.isEmpty ? "" : "      trafficPolicy:\n" + trafficPolicy.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n"))
        ---
        apiVersion: metaprotocol.aeraki.io/v1alpha1
        kind: MetaRouter
        spec:
          routes:
            - name: r
              match:
                attributes:
                  \(match)
              route:
                - destination: { host: svc }
        \(routeExtra.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
        \(specExtra.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func anInvalidRegexNamesItsFieldAndLine() {
        let e = errors(router(match: "sub_cmd: { regex: \"1|(2\" }"))
        #expect(e.count == 1, "got \(e)")
        #expect(e.first?.hasPrefix("bad.yaml:16:29: routes[0].match.attributes.sub_cmd.regex: invalid pattern \"1|(2\"") == true)
    }

    @Test func aFillIntervalBelow50msIsRefused() {
        let e = errors(router(specExtra: "localRateLimit:\n  tokenBucket: { fillInterval: 20ms, maxTokens: 5, tokensPerFill: 5 }"))
        #expect(e == ["bad.yaml:21:34: localRateLimit.tokenBucket.fillInterval: fillInterval 20ms is below 50ms"])
    }

    @Test(arguments: [
        ("weight: -5", "routes[0].route[0].weight: weight -5 is negative"),
        ("weight: 9223372036854775807", "routes[0].route[0].weight: weight 9223372036854775807 is above 4294967295"),
        ("timeout: 2562048h", "routes[0].timeout: expected a duration such as 30s, 100ms or 1m30s, not \"2562048h\""),
        ("timeout: 400000h", "routes[0].timeout: 1440000000.0 seconds is longer than a year"),
        ("timeout: 0s", "routes[0].timeout: 0.0 seconds must be positive"),
        ("retries: { attempts: 11 }", "routes[0].retries.attempts: 11 retries: allowed 0 to 10"),
        ("mirrors: [{ destination: { host: svc }, percentage: 120 }]", "routes[0].mirrors[0].percentage: 120.0 is not a percentage (0 to 100)"),
        ("fault: { abort: { error: over_limit, percentage: -1 } }", "routes[0].fault.abort.percentage: -1.0 is not a percentage (0 to 100)"),
        ("fault: { abort: { error: teapot } }", "routes[0].fault.abort.error: unknown error \"teapot\""),
        ("timeout: soon", "routes[0].timeout: expected a duration such as 30s, 100ms or 1m30s, not \"soon\""),
        ("retries: { retryOn: \"sometimes\" }", "routes[0].retries.retryOn: unknown retry condition \"sometimes\""),
        ("colour: blue", "routes[0].colour: unknown field"),
    ])
    func routeFieldsAreChecked(extra: String, expected: String) {
        let e = errors(router(routeExtra: extra.hasPrefix("weight") ? "" : extra).replacingOccurrences(of: "- destination: { host: svc }",
                                                                                                      with: extra.hasPrefix("weight") ? "- destination: { host: svc }\n          \(extra)" : "- destination: { host: svc }"))
        #expect(e.contains { $0.contains(expected) }, "got \(e)")
        #expect(e.allSatisfy { $0.hasPrefix("bad.yaml:") && $0.split(separator: ":").count >= 4 }, "every error has a file and line")
    }

    @Test(arguments: [
        ("loadBalancer: { consistentHash: { maglev: { tableSize: 65536 } } }", "clusters[0].loadBalancer.maglev.tableSize: 65536 is not a prime"),
        ("loadBalancer: { consistentHash: { maglev: { tableSize: 9223372036854775783 } } }",
         "clusters[0].loadBalancer.maglev.tableSize: 9223372036854775783 is above 5000011 (Envoy's largest)"),
        ("loadBalancer: { leastRequest: { choiceCount: 1000000000 } }", "clusters[0].loadBalancer.leastRequest.choiceCount: choice count 1000000000: allowed 2 to 100"),
        ("outlierDetection: { baseEjectionTime: 1000000h }", "clusters[0].outlierDetection.baseEjectionTime: 3600000000.0 seconds is longer than a year"),
        ("loadBalancer: { simple: PASSTHROUGH }", "PASSTHROUGH is not a balancer MetaProxyLab has"),
        ("connectionPool: { tcp: { maxConnections: -1 } }", "clusters[0].connectionPool.maxConnections: -1 is negative"),
        ("connectionPool: { tcp: { maxConnections: many } }", "expected an integer, not \"many\""),
        ("outlierDetection: { maxEjectionPercent: 150 }", "clusters[0].outlierDetection.maxEjectionPercent: 150.0 is not a percentage"),
        ("outlierDetection: { interval: 0s }", "clusters[0].outlierDetection.interval: 0.0 seconds must be positive"),
    ])
    func clusterFieldsAreChecked(policy: String, expected: String) {
        let e = errors(router(trafficPolicy: policy))
        #expect(e.contains { $0.contains(expected) }, "got \(e)")
    }

    @Test func mutationsAThriftFrameCannotCarryAreRefused() {
        let e = errors(router(routeExtra: "requestMutation: [{ key: x-env, value: prod }]"), protocolName: "thrift", capabilities: thriftCapabilities)
        #expect(e.contains { $0.contains("routes[0].requestMutation: this protocol's frames cannot carry a mutation") })
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() {
        let e = errors(router(routeExtra: "timeout: 0s\nretries: { attempts: 50 }", specExtra: "localRateLimit:\n  tokenBucket: { fillInterval: 1ms, maxTokens: 0 }"))
        #expect(e.count >= 3, "got \(e)")
    }

    @Test func structuralMistakes() {
        #expect(errors("kind: MetaRouter\napiVersion: metaprotocol.aeraki.io/v1alpha1\nspec: { routes: 5 }").contains { $0.contains("routes: expected a list") })
        #expect(errors("kind: Gateway\napiVersion: networking.istio.io/v1beta1\nspec: {}").contains { $0.contains("unknown kind \"Gateway\"") })
        #expect(errors("routes: [").contains { $0.contains("not valid YAML") })
        #expect(errors("kind: MetaRouter\napiVersion: v2\nspec: {}").contains { $0.contains("apiVersion: MetaRouter is read as metaprotocol.aeraki.io/v1alpha1, not v2") })
        let twice = """
            apiVersion: mplab.io/v1alpha1
            kind: ProxyConfig
            spec: { clusters: [{ name: a, hosts: [x:1] }, { name: a, hosts: [y:1] }] }
            """
        #expect(errors(twice).contains { $0.contains("cluster \"a\" is defined twice") })
    }
}
