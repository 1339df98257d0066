/// Results of the slices of one load (shards on several machines, or runs to be pooled) added
/// into one: counts add, histograms add exactly, rates add.
extension RunResult {
    /// Why results cannot be merged.
    public enum MergeError: Error, CustomStringConvertible, Equatable {
        case nothingToMerge
        case differentDrivers
        case differentWindows(String)

        public var description: String {
            switch self {
            case .nothingToMerge: "no results to merge"
            case .differentDrivers: "results of a simulation and of real sockets cannot be merged"
            case .differentWindows(let detail): "the results measured different windows: \(detail)"
            }
        }
    }

    /// The results as one: calls, counters (by group and name) and coverage add; latency
    /// distributions of the same name merge exactly; hosts and invariants are listed together;
    /// load rates and connections add; time-series windows that start together add their counts
    /// (their percentiles become the highest of the parts', an upper bound). The provenance is
    /// the first result's with `commandLine`.
    public static func merging(_ results: [RunResult], commandLine: [String]) throws(MergeError) -> RunResult {
        guard var merged = results.first else { throw .nothingToMerge }
        guard results.allSatisfy({ $0.driver == merged.driver }) else { throw .differentDrivers }
        guard results.allSatisfy({ $0.window.warmUpSeconds == merged.window.warmUpSeconds && $0.window.durationSeconds == merged.window.durationSeconds }) else {
            throw .differentWindows(results.map { "\($0.window.warmUpSeconds)–\($0.window.durationSeconds) s" }.joined(separator: ", "))
        }
        merged.provenance.commandLine = commandLine
        for other in results.dropFirst() {
            merged.window.endedAtSeconds = max(merged.window.endedAtSeconds, other.window.endedAtSeconds)
            merged.calls.add(other.calls)
            for figure in other.latencies {
                if let i = merged.latencies.firstIndex(where: { $0.name == figure.name }) {
                    var d = merged.latencies[i].distribution
                    d.merge(figure.distribution)
                    merged.latencies[i] = LatencyFigure(name: figure.name, measurement: merged.latencies[i].measurement, distribution: d)
                } else {
                    merged.latencies.append(figure)
                }
            }
            for group in other.counters {
                if let i = merged.counters.firstIndex(where: { $0.name == group.name }) {
                    merged.counters[i].counters = Self.adding(merged.counters[i].counters, group.counters)
                } else {
                    merged.counters.append(group)
                }
            }
            merged.coverage = Self.adding(merged.coverage, other.coverage).sorted { $0.name < $1.name }
            merged.hosts += other.hosts
            merged.invariants += other.invariants
            merged.figures += other.figures
            merged.notes += other.notes.filter { !merged.notes.contains($0) }
            for window in other.timeSeries.windows {
                if let i = merged.timeSeries.windows.firstIndex(where: { $0.start == window.start }) {
                    var w = merged.timeSeries.windows[i]
                    w.sent += window.sent
                    w.answered += window.answered
                    w.success += window.success
                    w.errors += window.errors
                    w.rateLimited += window.rateLimited
                    w.p50 = max(w.p50, window.p50)
                    w.p99 = max(w.p99, window.p99)
                    w.hostsUp += window.hostsUp
                    merged.timeSeries.windows[i] = w
                } else {
                    merged.timeSeries.windows.append(window)
                }
            }
            merged.timeSeries.windows.sort { $0.start < $1.start }
            if var load = merged.load, let more = other.load {
                load.connections += more.connections
                load.workers += more.workers
                load.attemptedRate += more.attemptedRate
                load.achievedRate += more.achievedRate
                load.answeredRate += more.answeredRate
                load.elapsedSeconds = max(load.elapsedSeconds, more.elapsedSeconds)
                merged.load = load
            }
            merged.simulation = nil
        }
        return merged
    }

    /// `a` with `b`'s counts added by name, new names appended in `b`'s order.
    static func adding(_ a: [Counter], _ b: [Counter]) -> [Counter] {
        var out = a
        for c in b {
            if let i = out.firstIndex(where: { $0.name == c.name }) { out[i].value += c.value } else { out.append(c) }
        }
        return out
    }
}
