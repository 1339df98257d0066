import MetaProtocol

/// One proxy instance in the simulation: the seams of a real ``ProxyCore`` are the simulated
/// world — its clock is virtual time, its connections and answers travel as events.
///
/// The world owns the cores (``World/cores``) and the core owns this, its seams; this holds
/// neither, so a finished run frees its cores with the world.
final class SimProxy: CoreClock, UpstreamTransport, DownstreamTransport, GlobalRateLimitService {
    /// Unowned and unchecked: the world owns this (through ``World/proxies`` and its cores), so
    /// it never outlives the world, and a checked reference cost a retain on every seam call.
    unowned(unsafe) let world: World
    let index: Int32
    /// This instance's core.
    var core: ProxyCore { world.cores[Int(index)] }
    /// Open or opening connections: connection id → host index.
    @exclusivity(unchecked) var connections = IDMap<Int32>()
    @exclusivity(unchecked) private var scheduledWake: Int64?

    init(world: World, index: Int32) {
        self.world = world
        self.index = index
    }

    var now: Timestamp { Timestamp(nanoseconds: world.now) }

    func requestWakeUp(at deadline: Timestamp) {
        let t = max(deadline.nanoseconds, world.now)
        if let s = scheduledWake, s <= t { return }
        scheduledWake = t
        world.schedule(.proxyWake(proxy: index), at: t)
    }

    func wake() {
        if let s = scheduledWake, s <= world.now { scheduledWake = nil }
        core.processTimers()
    }

    func connect(_ connection: UpstreamConnectionID, to address: String) {
        guard let host = world.hostIndex[address] else {
            // No such host: the connect fails after a round trip of nothing.
            world.schedule(.connectDone(proxy: index, connection: connection.rawValue), at: world.now)
            return
        }
        connections.set(connection.rawValue, host)
        let rtt = world.linkDelay(host: host, bytes: 0) + world.linkDelay(host: host, bytes: 0)
        world.schedule(.connectDone(proxy: index, connection: connection.rawValue), at: world.now + rtt)
    }

    func connectDone(_ connection: UInt64) {
        let id = UpstreamConnectionID(connection)
        guard let host = connections[connection] else {
            core.upstreamConnectFailed(id)
            return
        }
        if world.hosts[Int(host)].up && !world.hosts[Int(host)].partitioned {
            core.upstreamConnected(id)
        } else {
            connections.remove(connection)
            core.upstreamConnectFailed(id)
        }
    }

    func send(_ message: Message, mutation: Mutation, on connection: UpstreamConnectionID) {
        guard let host = connections[connection.rawValue] else { return }
        world.sendToHost(proxy: index, connection: connection.rawValue, host: host, message: message, mutation: mutation)
    }

    func close(_ connection: UpstreamConnectionID) {
        connections.remove(connection.rawValue)
        world.forgetUpstreamCodec(proxy: index, connection: connection.rawValue)
    }

    /// One connection reset by its host.
    func resetConnection(_ id: UInt64) {
        guard connections.remove(id) != nil else { return }
        world.forgetUpstreamCodec(proxy: index, connection: id)
        core.upstreamClosed(UpstreamConnectionID(id))
    }

    /// A host's connections reset (a crash): the core hears of each, in id order.
    func resetConnections(toHost host: Int32) {
        for (id, h) in connections.sortedEntries where h == host { resetConnection(id) }
    }

    func send(_ response: Message, mutation: Mutation, to downstream: DownstreamID) {
        world.answerClient(Int32(downstream.rawValue), from: index, response: response, localReply: nil,
                           frame: world.proxyEncodes(response, mutation: mutation))
    }

    func sendLocalReply(_ error: LocalReplyError, to request: Message, downstream: DownstreamID) {
        world.answerClient(Int32(downstream.rawValue), from: index, response: request, localReply: error.kind,
                           frame: world.proxyEncodesLocalReply(error, to: request))
    }

    func sendHeartbeatReply(to heartbeat: Message, downstream: DownstreamID) {}

    func shouldRateLimit(_ call: RateLimitCallID, domain: String, descriptors: [KeyValue], timeout: Duration) {
        world.askRateLimitService(proxy: index, call: call.rawValue, domain: domain, descriptors: descriptors)
    }
}
