import MetaProtocol
import Testing
import TrafficModel

@testable import Simulation

/// The host model's features as the simulator runs them: per-method service times, phases, a
/// host that closes connections, direct callers of a host that crashes.
@Suite("Simulation: the host model in a run")
struct HostModelTests {
    @Test func eachMethodTakesItsOwnServiceTime() throws {
        var c = Scenarios.simple(hosts: 2, behaviour: HostBehaviour(workers: nil, serviceTime: .constant(0.001), serviceTimeByMethod: [MethodServiceTime("scan", .constant(0.05))]),
                                 rate: 200, duration: .seconds(5))
        c.clients[0].mix = [CallTemplate(attributes: [KeyValue("method", "get")]), CallTemplate(attributes: [KeyValue("method", "scan")])]
        let r = try Simulation.run(c)
        #expect(r.violations == [])
        let byMethod = Dictionary(uniqueKeysWithValues: r.latencyByMethod.map { ($0.method, $0.histogram) })
        // No network and no line: latency is the service time, to the histogram's precision.
        #expect(abs(Double(byMethod["get"]!.valueAtPercentile(50)) / 1e9 - 0.001) < 0.00001)
        #expect(abs(Double(byMethod["scan"]!.valueAtPercentile(50)) / 1e9 - 0.05) < 0.0001)
    }

    @Test func phasesChangeTheHostsFromTheirTime() throws {
        // From 2 s every answer is an error, from 4 s every call closes its connection: the
        // core sees resets and answers locally, and every call still gets one answer.
        let behaviour = HostBehaviour(workers: 4, serviceTime: .constant(0.002),
                                      phases: [HostPhase(at: .seconds(2), errors: [.serverError(1)]), HostPhase(at: .seconds(4), closesConnections: true)])
        let r = try Simulation.run(Scenarios.simple(hosts: 3, behaviour: behaviour, rate: 200, duration: .seconds(6)))
        #expect(r.violations == [])
        let windows = r.timeSeries.windows
        // Windows are a second wide: those of [0, 2) answer calls started before 2 s, that of
        // [3, 4) only calls started after 2 s.
        let early = windows.filter { $0.start < 1.9 }, middle = windows.filter { $0.start >= 2.9 && $0.start < 3.9 }
        #expect(early.count == 2 && middle.count == 1)
        #expect(early.allSatisfy { $0.errors == 0 } && middle.allSatisfy { $0.errors == $0.answered && $0.answered > 0 })
        #expect(r.hosts.reduce(0) { $0 + $1.closedConnections } > 0)
        #expect(r.coverage["reset", default: 0] > 0)
        #expect(r.calls.answered == r.calls.sent)
    }

    @Test func directCallersOfACrashedHostAreAnsweredUnavailable() throws {
        // No proxy: what the host held when it crashed, and what reached it while down, come back
        // as "unavailable" (a reset connection), so every call is answered.
        var c = Scenarios.simple(hosts: 2, behaviour: HostBehaviour(workers: 1, serviceTime: .exponential(mean: 0.004)), rate: 200, duration: .seconds(4), bypass: true)
        c.faults = [FaultEvent(at: .seconds(1), .crash(host: "10.0.0.0:9000")), FaultEvent(at: .seconds(2), .restart(host: "10.0.0.0:9000"))]
        let r = try Simulation.run(c)
        #expect(r.violations == [])
        #expect(r.calls.unavailable > 50 && r.calls.answered == r.calls.sent)
    }

    @Test func aHostThatCannotWorkIsRefusedBeforeTheRun() {
        #expect(throws: SimulationConfigurationError.badHost(cluster: "svc", host: "every host", problem: "workers must be at least 1 (or left out for no limit), found 0")) {
            try Simulation.run(Scenarios.simple(behaviour: HostBehaviour(workers: 0)))
        }
    }
}
