import MetaProtocol
import Testing

@testable import Workload

let livePacketCapabilities = CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)
let thriftCapabilities = CodecCapabilities(carriesMutation: false, hasHeartbeats: false, requestIDBits: 32)

@Suite("Manifests: MetaRouter, DestinationRule, ServiceEntry, ProxyConfig")
struct ManifestLoadingTests {
    func load(_ texts: String..., protocolName: String? = nil) throws -> ConfigurationLoader.Loaded {
        try ConfigurationLoader.load(texts.enumerated().map { ("m\($0.offset).yaml", $0.element) }, protocolName: protocolName)
    }

    @Test func theTalksManifestsLoadAsTheyAre() throws {
        let loaded = try load(ManifestFixtures.metaRouter, ManifestFixtures.destinationRule, ManifestFixtures.serviceEntry)
        let c = loaded.configuration
        #expect(c.protocolName == "livepacket", "from the ServiceEntry port name")
        #expect(c.hosts == ["qza-sample-server.meta-qza.svc.cluster.local"])
        let route = try #require(c.routes.first)
        #expect(route.name == "traffic-split")
        #expect(route.match == [AttributeCondition("cmd", .exact("153")), AttributeCondition("sub_cmd", .regex("1|2"))])
        #expect(route.destinations.map(\.subset) == ["v1", "v2"])
        #expect(route.destinations.map(\.weight) == [20, 80])
        let local = try #require(c.localRateLimit)
        #expect(local.tokenBucket == TokenBucketSpec(maxTokens: 5, tokensPerFill: 5, fillInterval: .seconds(60)))
        #expect(local.conditions.first?.match == [AttributeCondition("method", .exact("sayHello"))])
        #expect(local.conditions.first?.tokenBucket.fillInterval == .seconds(10))
        _ = try loaded.compile(capabilities: livePacketCapabilities)
    }

    @Test func destinationRulePolicyMapsToTheCluster() throws {
        let loaded = try load(ManifestFixtures.destinationRule, ManifestFixtures.serviceEntry)
        let cluster = try #require(loaded.configuration.clusters.first)
        #expect(cluster.name == "qza-sample-server.meta-qza.svc.cluster.local")
        #expect(cluster.hosts.map(\.address) == ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003", "127.0.0.2:9000"])
        #expect(cluster.hosts[3].weight == 3 && cluster.hosts[3].locality == "us-west/zone-b")
        #expect(cluster.subsets == [SubsetConfiguration(name: "v1", labels: ["version": "v1"]), SubsetConfiguration(name: "v2", labels: ["version": "v2"])])
        #expect(cluster.loadBalancer == .leastRequest())
        #expect(cluster.circuitBreaker == CircuitBreakerThresholds(maxConnections: 100, maxPendingRequests: 50, maxRequests: 200, maxRetries: 2))
        #expect(cluster.connectTimeout == .milliseconds(30))
        #expect(cluster.panicThresholdPercent == 40, "Istio's minHealthPercent is the panic threshold")
        let od = try #require(cluster.outlierDetection)
        #expect(od.consecutiveErrors == 7)
        #expect(od.consecutiveGatewayFailures == 3 && od.enforcingConsecutiveGatewayFailures == 100)
        #expect(od.splitExternalLocalOriginErrors && od.consecutiveLocalOriginFailures == 4)
        #expect(od.interval == .seconds(5) && od.baseEjectionTime == .seconds(60) && od.maxEjectionPercent == 30)
        #expect(od.enforcingSuccessRate == 0, "as in Istio, success-rate ejection is off unless asked for")
        #expect(loaded.warnings.contains { $0.contains("spec.trafficPolicy.tls: accepted but not used") })
        #expect(loaded.warnings.contains { $0.contains("idleTimeout: accepted but not used") })
    }

    @Test func theSlidesIndentationIsRefusedAtItsLines() throws {
        #expect {
            try load(ManifestFixtures.metaRouterAsOnTheSlide, protocolName: "livepacket")
        } throws: { error in
            let lines = (error as? ManifestErrors)?.errors.map(\.description) ?? []
            return lines.contains("m0.yaml:15:13: routes[0].match.attributes.cmd.sub_cmd: unknown field (expected one of: exact, prefix, suffix, regex, present, invert)")
                && lines.contains("m0.yaml:21:13: routes[0].route[0].destination.weight: unknown field (expected one of: host, subset, port)")
        }
    }

    @Test func protocolNativeConfigLoads() throws {
        let text = """
            apiVersion: mplab.io/v1alpha1
            kind: ProxyConfig
            metadata: { name: quick }
            spec:
              protocol: dubbo
              tracing: { samplingPercentage: 10 }
              clusters:
                - name: greeter
                  hosts:
                    - 127.0.0.1:20880
                    - { address: 127.0.0.1:20881, weight: 2, labels: { version: v2 }, priority: 1 }
                  trafficPolicy:
                    loadBalancer: { consistentHash: { maglev: { tableSize: 65537 } } }
                    connectionPool: { multiplexing: false, retryBudget: { budgetPercent: 25 } }
              routes:
                - name: all
                  route: [{ destination: { host: greeter } }]
                  timeout: 2s
                  retries: { attempts: 2, perTryTimeout: 500ms, retryOn: "connect-failure,reset,unavailable", backoff: { baseInterval: 10ms } }
                  fault: { abort: { error: over_limit, percentage: 1.5 }, delay: { fixedDelay: 100ms, percentage: 5 } }
                  hashPolicy: [uid]
                  mirrors: [{ destination: { host: greeter }, percentage: 10 }]
                  requestMutation: [{ key: x-env, value: prod }]
            """
        let c = try load(text).configuration
        #expect(c.protocolName == "dubbo")
        #expect(c.tracing?.samplingPercentage == 10)
        let cluster = try #require(c.clusters.first)
        #expect(cluster.hosts.map(\.address) == ["127.0.0.1:20880", "127.0.0.1:20881"])
        #expect(cluster.hosts[1].priority == 1 && cluster.hosts[1].weight == 2)
        #expect(cluster.loadBalancer == .maglev(tableSize: 65537))
        #expect(!cluster.multiplexing)
        #expect(cluster.circuitBreaker.retryBudget == RetryBudget(budgetPercent: 25))
        let route = try #require(c.routes.first)
        #expect(route.timeout == .seconds(2))
        #expect(route.retry == RetryPolicy(numRetries: 2, retryOn: [.connectFailure, .reset, .unavailable], perTryTimeout: .milliseconds(500), backoffBase: .milliseconds(10)))
        #expect(route.fault?.abort?.error == .overLimit && route.fault?.abort?.percentage == 1.5)
        #expect(route.fault?.delay?.duration == .milliseconds(100))
        #expect(route.hashPolicy == ["uid"])
        #expect(route.mirrors == [MirrorPolicy(destination: RouteDestination(cluster: "greeter"), percentage: 10)])
        #expect(route.requestMutation == [KeyValue("x-env", "prod")])
    }

    @Test func durationsAreReadAsIstioWritesThem() {
        #expect(ManifestReader.parseDuration("30s") == .seconds(30))
        #expect(ManifestReader.parseDuration("100ms") == .milliseconds(100))
        #expect(ManifestReader.parseDuration("1m30s") == .seconds(90))
        #expect(ManifestReader.parseDuration("1.5s") == .milliseconds(1500))
        #expect(ManifestReader.parseDuration("2h") == .seconds(7200))
        #expect(ManifestReader.parseDuration("250us") == .microseconds(250))
        #expect(ManifestReader.parseDuration("0") == .zero)
        #expect(ManifestReader.parseDuration("30") == nil)
        #expect(ManifestReader.parseDuration("5 parsecs") == nil)
        #expect(ManifestReader.parseDuration("") == nil)
    }
}
