/// Manifests as users write them.
enum ManifestFixtures {
    /// The talk's traffic split, as Aeraki documents it (metaprotocol.md).
    static let metaRouter = """
        apiVersion: metaprotocol.aeraki.io/v1alpha1
        kind: MetaRouter
        metadata: { name: qza-route, namespace: meta-qza }
        spec:
          hosts: [qza-sample-server.meta-qza.svc.cluster.local]
          routes:
            - name: traffic-split
              match:
                attributes:
                  cmd: { exact: "153" }
                  sub_cmd: { regex: "1|2" }
              route:
                - destination: { host: qza-sample-server.meta-qza.svc.cluster.local, subset: v1 }
                  weight: 20
                - destination: { host: qza-sample-server.meta-qza.svc.cluster.local, subset: v2 }
                  weight: 80
          localRateLimit:
            tokenBucket: { fillInterval: 60s, maxTokens: 5, tokensPerFill: 5 }
            conditions:
              - match: { attributes: { method: { exact: sayHello } } }
                tokenBucket: { fillInterval: 10s, maxTokens: 2, tokensPerFill: 2 }
        """

    /// The same route exactly as the slide in the talk prints it: `sub_cmd` indented under
    /// `cmd`, `weight` under `destination`. Istio-style strict reading refuses it.
    static let metaRouterAsOnTheSlide = """
        apiVersion: metaprotocol.aeraki.io/v1alpha1
        kind: MetaRouter
        metadata:
          name: test-metaproto-qza-route
          namespace: meta-qza
        spec:
          hosts:
            - qza-sample-server.meta-qza.svc.cluster.local
          routes:
            - name: traffic-split
              match:
                attributes:
                  cmd:
                    exact: "153"
                    sub_cmd:
                      regex: "1|2"
              route:
                - destination:
                    host: qza-sample-server.meta-qza.svc.cluster.local
                    subset: v1
                    weight: 20
                - destination:
                    host: qza-sample-server.meta-qza.svc.cluster.local
                    subset: v2
                    weight: 80
        """

    static let destinationRule = """
        apiVersion: networking.istio.io/v1beta1
        kind: DestinationRule
        metadata: { name: qza, namespace: meta-qza }
        spec:
          host: qza-sample-server.meta-qza.svc.cluster.local
          trafficPolicy:
            loadBalancer:
              simple: LEAST_REQUEST
            connectionPool:
              tcp: { maxConnections: 100, connectTimeout: 30ms }
              http: { http1MaxPendingRequests: 50, http2MaxRequests: 200, maxRetries: 2, idleTimeout: 1h }
            outlierDetection:
              consecutive5xxErrors: 7
              consecutiveGatewayErrors: 3
              splitExternalLocalOriginErrors: true
              consecutiveLocalOriginFailures: 4
              interval: 5s
              baseEjectionTime: 1m
              maxEjectionPercent: 30
              minHealthPercent: 40
            tls: { mode: ISTIO_MUTUAL }
          subsets:
            - name: v1
              labels: { version: v1 }
            - name: v2
              labels: { version: v2 }
        """

    static let serviceEntry = """
        apiVersion: networking.istio.io/v1beta1
        kind: ServiceEntry
        metadata: { name: qza, namespace: meta-qza }
        spec:
          hosts: [qza-sample-server.meta-qza.svc.cluster.local]
          ports:
            - { number: 9000, name: tcp-metaprotocol-livepacket-qza, protocol: TCP }
          resolution: STATIC
          endpoints:
            - { address: 127.0.0.1, ports: { tcp-metaprotocol-livepacket-qza: 9001 }, labels: { version: v1 } }
            - { address: 127.0.0.1, ports: { tcp-metaprotocol-livepacket-qza: 9002 }, labels: { version: v2 } }
            - { address: 127.0.0.1, ports: { tcp-metaprotocol-livepacket-qza: 9003 }, labels: { version: v2 } }
            - { address: 127.0.0.2, labels: { version: v2 }, locality: us-west/zone-b, weight: 3 }
        """
}
