import Foundation
import MetaProtocol
import MetaProtocolCodecs
import MetaProxy
import NIOCore
import Results
import Simulation
import Testing
import TrafficModel

/// `mplab serve` and the simulator run the same host: with the same behaviour, name and seed,
/// and the same calls in the same order, a synthetic server on sockets and a simulated host make
/// the same decisions — service times, errors, response sizes — in the same order.
@Suite("One host, both drivers")
struct SameHostBothDriversTests {
    static let behaviour = HostBehaviour(workers: 1, serviceTime: .lognormal(mean: 0.002, standardDeviation: 0.001),
                                         errors: [.serverError(0.2), ErrorRate(.applicationError, 0.1)], responseSize: .sized(.uniform(low: 10, high: 3000)))
    static let name = "10.0.0.1:9000"
    static let seed: UInt64 = 2026

    @Test func aSimulatedHostAndASyntheticServerDecideAlike() async throws {
        // Simulated: one client straight to the host, a call every 50 ms for 10 s.
        let config = SimulationConfiguration(
            seed: Self.seed, duration: .seconds(10),
            proxy: ProxyConfiguration(protocolName: "livepacket", routes: [], clusters: [ClusterConfiguration(name: "svc", hosts: [HostConfiguration(address: Self.name)])]),
            services: [ServiceModel(cluster: "svc", behaviour: Self.behaviour)],
            clients: [ClientModel(name: "c", arrivals: .constant(rate: 20), mix: [CallTemplate(attributes: [KeyValue("method", "1.1")])], payloadSize: .constant(64))],
            bypassProxy: true)
        let simulated = try Simulation.run(config)
        let host = simulated.hosts[0]
        #expect(host.completions > 150)

        // On sockets: the same number of calls, one after another, to a server of that name.
        let server = try await SyntheticServer.start(protocolName: "livepacket", ports: [0], behaviour: Self.behaviour, group: Fixtures.group,
                                                     seed: Self.seed, names: [Self.name])
        let client = try await TestClient.connect(to: server.addresses[0], protocolName: "livepacket", group: Fixtures.group)
        let answers = try await client.calls(host.completions, concurrency: 1, payload: 64) { _ in [KeyValue("method", "1.1")] }
        await client.close()
        let real = await server.hostResults()[0]
        await server.stop()

        #expect(real.decisionDigest == host.decisionDigest, "the same service times, errors and sizes, in the same order")
        #expect(real.completions == host.completions && real.errors == host.errors)
        #expect(answers.filter { $0.status?.category == .serverError }.count == simulated.calls.serverError)
        #expect(answers.filter { $0.status?.category == .applicationError }.count == simulated.calls.applicationError)
        #expect(simulated.calls.serverError > 10 && simulated.calls.applicationError > 5)
        // Another seed decides otherwise.
        var other = config
        other.seed = Self.seed + 1
        #expect(try Simulation.run(other).hosts[0].decisionDigest != host.decisionDigest)
    }
}
