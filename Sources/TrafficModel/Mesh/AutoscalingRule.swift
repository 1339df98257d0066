/// Adds hosts to a cluster when rate-limited requests in the last `window` pass `threshold`
/// (the talk's "the rate-limit count drives scaling"), after a provisioning delay.
public struct AutoscalingRule: Sendable, Hashable {
    public var cluster: String
    public var window: Duration
    public var threshold: Int
    public var hostsPerStep: Int
    public var provisioningDelay: Duration
    public var maxHosts: Int
    /// Labels of the added hosts.
    public var labels: [String: String]

    public init(cluster: String, window: Duration = .seconds(30), threshold: Int, hostsPerStep: Int = 1, provisioningDelay: Duration = .seconds(30),
                maxHosts: Int = 1000, labels: [String: String] = [:]) {
        self.cluster = cluster
        self.window = window
        self.threshold = threshold
        self.hostsPerStep = hostsPerStep
        self.provisioningDelay = provisioningDelay
        self.maxHosts = maxHosts
        self.labels = labels
    }
}
