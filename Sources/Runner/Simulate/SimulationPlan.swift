import MetaProtocol
import MetaProtocolCodecs
import Simulation
import TrafficModel
import Workload

extension WorkloadScript {
    /// The simulation of the workload with `seed`: its proxy, hosts, clients, faults and
    /// network as the simulator takes them. `network` replaces the script's latencies (mode
    /// both sets them from the measured direct path).
    public func simulationConfiguration(seed: UInt64, network measured: NetworkModel? = nil) -> SimulationConfiguration {
        var c = SimulationConfiguration(
            seed: seed, duration: duration, warmUp: warmUp, drainLimit: drainLimit, proxy: proxy.configuration,
            capabilities: Self.capabilities(of: proxy.configuration.protocolName), proxyInstances: proxy.instances, services: services,
            network: measured ?? NetworkModel(clientToProxy: LinkModel(latency: network.clientToProxy, bandwidth: network.bandwidth),
                                              proxyToHost: LinkModel(latency: network.proxyToHost, bandwidth: network.bandwidth)),
            clients: clientModels, faults: faults, timeSeriesInterval: timeSeriesInterval)
        c.callLimit = callLimit
        c.autoscaling = autoscaling
        c.rateLimitService = rateLimitService
        return c
    }

    /// What the protocol's frames can carry, from its codec (a protocol this build has no codec
    /// for carries everything, as the simulator's message path assumes).
    static func capabilities(of protocolName: String) -> CodecCapabilities {
        CodecRegistry.codecTypes.first { $0.protocolName == protocolName }?.capabilities
            ?? CodecCapabilities(carriesMutation: true, hasHeartbeats: true, requestIDBits: 64)
    }
}
