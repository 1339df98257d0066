import MetaProtocol
import MetaProtocolCodecs
import NIOCore
import NIOPosix

/// Runs a ``LoadPlan`` against a server on real sockets: one event loop per worker, each with
/// its own connections, schedule share and figures, merged exactly at the end.
public enum LoadRun {
    /// Why a load run could not start.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case badPlan(String)
        case unknownProtocol(String)
        case cannotConnect(String)

        public var description: String {
            switch self {
            case .badPlan(let problem): "load plan: \(problem)"
            case .unknownProtocol(let name): "no codec named \"\(name)\" (known: \(CodecRegistry.protocolNames.joined(separator: ", ")))"
            case .cannotConnect(let detail): "cannot connect: \(detail)"
            }
        }
    }

    /// Runs `plan`; `progress` (if given) hears the figures so far about every `interval`.
    public static func run(_ plan: LoadPlan, synthesizer: (any FrameSynthesizer)? = nil, progress: (@Sendable (LoadProgress) -> Void)? = nil,
                           interval: Duration = .seconds(1)) async throws -> LoadReport {
        if let problem = plan.problem { throw Failure.badPlan(problem) }
        guard let codecType = CodecRegistry.codecTypes.first(where: { $0.protocolName == plan.protocolName }),
            let synthesizer = synthesizer ?? CodecRegistry.makeSynthesizer(named: plan.protocolName)
        else { throw Failure.unknownProtocol(plan.protocolName) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.workers)
        do {
            let report = try await run(plan, codecType: codecType, synthesizer: synthesizer, group: group, progress: progress, interval: interval)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func run(_ plan: LoadPlan, codecType: any MetaCodec.Type, synthesizer: any FrameSynthesizer, group: EventLoopGroup,
                            progress: (@Sendable (LoadProgress) -> Void)?, interval: Duration) async throws -> LoadReport {
        var workers: [LoadWorker] = []
        for i in 0..<plan.workers {
            let loop = group.next()
            let worker = LoadWorker(loop: loop, plan: plan, index: i, synthesizer: synthesizer)
            for c in 0..<plan.connections(ofWorker: i) {
                let connection = LoadConnection(worker: worker, index: c, codec: codecType.init())
                do {
                    let channel = try await ClientBootstrap(group: loop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .connectTimeout(.seconds(10))
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
                        }
                        .connect(host: plan.host, port: plan.port)
                        .get()
                    try await loop.submit { connection.channel = channel }.get()
                } catch {
                    try await loop.submit { worker.figures.connectFailures += 1 }.get()
                    throw Failure.cannotConnect("\(plan.host):\(plan.port): \(error)")
                }
                try await loop.submit { worker.connections.append(connection) }.get()
            }
            workers.append(worker)
        }
        // One start for all, a little ahead so that every worker is ready for it.
        let origin = NIODeadline.now() + .milliseconds(20)
        let started = ContinuousClock.now
        let finished = workers.map { worker in worker.loop.flatSubmit { worker.start(at: origin) } }
        var watcher: Task<Void, Never>?
        if let progress {
            let all = workers
            watcher = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard !Task.isCancelled else { return }
                    var figures = LoadFigures()
                    for w in all { figures.merge(try! await w.loop.submit { w.figures }.get()) }
                    progress(LoadProgress(elapsed: ContinuousClock.now - started, figures: figures))
                }
            }
        }
        for future in finished { try await future.get() }
        let elapsed = ContinuousClock.now - started
        watcher?.cancel()
        var figures = LoadFigures()
        var perWorker: [LoadFigures] = []
        for w in workers {
            let f = try await w.loop.submit {
                for c in w.connections { c.channel?.close(promise: nil) }
                return w.figures
            }.get()
            perWorker.append(f)
            figures.merge(f)
        }
        return LoadReport(plan: plan, figures: figures, perWorker: perWorker, elapsed: elapsed)
    }
}

/// The figures so far of a run in progress.
public struct LoadProgress: Sendable {
    public var elapsed: Duration
    public var figures: LoadFigures
}
