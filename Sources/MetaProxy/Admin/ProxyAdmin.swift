import Foundation
import MetaProtocol
import NIOHTTP1

/// The admin endpoint's routes over the listeners of one proxy process:
///
/// - `GET /healthz` — `ok` while serving;
/// - `GET /stats` — counters of every listener, JSON;
/// - `GET /metrics` — Prometheus text (every listener, labelled `listener`);
/// - `GET /config[?listener=N]` — the configuration files in force;
/// - `POST /config[?listener=N]` — a new configuration (manifests as the body): validated,
///   then swapped atomically; refused with its errors, the old one kept;
/// - `GET /memory` — allocator statistics (what the executable says; jemalloc's in `mplab`).
public struct ProxyAdmin: Sendable {
    public let listeners: [ManagedProxy]
    public let memoryReport: @Sendable () -> String
    /// The rate-limit services the listeners ask, whose clients' counters `/stats` shows.
    public let rateLimitServices: RateLimitServices?
    /// The access log the listeners share, whose losses `/metrics` shows.
    public let accessLog: FileAccessLog?

    public init(listeners: [ManagedProxy], memoryReport: @escaping @Sendable () -> String = { "no allocator statistics in this process\n" },
                rateLimitServices: RateLimitServices? = nil, accessLog: FileAccessLog? = nil) {
        self.listeners = listeners
        self.memoryReport = memoryReport
        self.rateLimitServices = rateLimitServices
        self.accessLog = accessLog
    }

    public func respond(_ request: AdminRequest) async -> AdminResponse {
        switch (request.method, request.path) {
        case (.GET, "/healthz"):
            return AdminResponse("ok\n")
        case (.GET, "/stats"):
            return AdminResponse(contentType: "application/json", await statsJSON())
        case (.GET, "/metrics"):
            return AdminResponse(contentType: "text/plain; version=0.0.4", await metrics())
        case (.GET, "/memory"):
            return AdminResponse(memoryReport())
        case (.GET, "/config"):
            guard let listener = listener(request) else { return noListener(request) }
            let files = await listener.files
            return AdminResponse(contentType: "application/yaml", files.map { "# \($0.name)\n\($0.text)" }.joined(separator: "\n---\n"))
        case (.POST, "/config"):
            guard let listener = listener(request) else { return noListener(request) }
            do {
                let warnings = try await listener.reload([("POST /config", request.body)])
                return AdminResponse("applied\n" + warnings.map { "warning: \($0)\n" }.joined())
            } catch {
                return AdminResponse(.badRequest, "refused; the configuration in force keeps serving:\n\(error)\n")
            }
        case (_, "/healthz"), (_, "/stats"), (_, "/metrics"), (_, "/memory"), (_, "/config"):
            return AdminResponse(.methodNotAllowed, "\(request.method) is not allowed on \(request.path)\n")
        default:
            return AdminResponse(.notFound, "no such endpoint; try /healthz /stats /metrics /config /memory\n")
        }
    }

    private func listener(_ request: AdminRequest) -> ManagedProxy? {
        let index = request.query["listener"].flatMap(Int.init) ?? 0
        return listeners.indices.contains(index) ? listeners[index] : nil
    }

    private func noListener(_ request: AdminRequest) -> AdminResponse {
        AdminResponse(.notFound, "no listener \(request.query["listener"] ?? "0"); there are \(listeners.count)\n")
    }

    /// Every listener's counters as JSON, keys in a stable order.
    func statsJSON() async -> String {
        var entries: [String] = []
        for (i, l) in listeners.enumerated() {
            let (core, runtime) = await l.server.counters()
            var fields: [(String, Any)] = [("listener", i), ("protocol", l.protocolName), ("address", l.server.localAddress.hostAndPort)]
            fields += [("accepted", core.accepted), ("active", core.active), ("upstream_responses", core.upstreamResponses),
                       ("oneway_forwarded", core.onewayForwarded), ("dropped", core.dropped), ("retries", core.retries),
                       ("timeouts", core.timeouts), ("per_try_timeouts", core.perTryTimeouts), ("heartbeats", core.heartbeats),
                       ("upstream_connects", core.upstreamConnects), ("upstream_connect_failures", core.upstreamConnectFailures),
                       ("upstream_resets", core.upstreamResets), ("configuration_swaps", core.configurationSwaps),
                       ("global_ratelimit_over_limit", core.globalRateLimitOverLimit), ("global_ratelimit_errors", core.globalRateLimitErrors),
                       ("global_ratelimit_timeouts", core.globalRateLimitTimeouts),
                       ("global_ratelimit_failed_open", core.globalRateLimitFailedOpen),
                       ("conserved", core.isConserved)]
            let replies = LocalReplyError.Kind.allCases.map { "\"\($0)\": \(core.localReplies[Int($0.rawValue)])" }.joined(separator: ", ")
            fields += [("downstream_accepted", runtime.downstreamAccepted), ("downstream_active", runtime.downstreamActive),
                       ("downstream_refused", runtime.downstreamRefused), ("downstream_protocol_errors", runtime.downstreamProtocolErrors),
                       ("downstream_idle_closed", runtime.downstreamIdleClosed), ("upstream_protocol_errors", runtime.upstreamProtocolErrors),
                       ("encode_failures", runtime.encodeFailures), ("reloads", await l.reloads), ("refused_reloads", await l.refusedReloads)]
            let body = fields.map { "\"\($0.0)\": \(Self.json($0.1))" }.joined(separator: ", ")
            entries.append("  {\(body), \"local_replies\": {\(replies)}}")
        }
        let services = (rateLimitServices?.counters ?? []).map { service in
            let body = [("address", service.address as Any)] + service.counters.named.map { ($0.0, $0.1 as Any) }
            return "  {" + body.map { "\"\($0.0)\": \(Self.json($0.1))" }.joined(separator: ", ") + "}"
        }
        return "{\"listeners\": [\n\(entries.joined(separator: ",\n"))\n], \"rate_limit_services\": [\n\(services.joined(separator: ",\n"))\n]}\n"
    }

    private static func json(_ value: Any) -> String {
        switch value {
        case let b as Bool: return b ? "true" : "false"
        case let n as Int: return String(n)
        case let s as String:
            let data = try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
            return String(decoding: data, as: UTF8.self).dropFirst().dropLast().description
        default: return "null"
        }
    }

    /// Prometheus text of every listener; with several, each sample gets a `listener` label.
    func metrics() async -> String {
        var out = await listenerMetrics()
        if let accessLog {
            var p = PrometheusText()
            p.family("mplab_access_log_dropped_lines_total", .counter, help: "Access-log lines dropped: their write failed or the backlog was full.")
            p.sample("mplab_access_log_dropped_lines_total", [], accessLog.droppedLines)
            p.family("mplab_access_log_write_errors_total", .counter, help: "Access-log writes that failed.")
            p.sample("mplab_access_log_write_errors_total", [], accessLog.writeErrors)
            out += p.text
        }
        return out
    }

    private func listenerMetrics() async -> String {
        guard listeners.count > 1 else { return await listeners.first?.server.prometheusText() ?? "" }
        var out = ""
        for (i, l) in listeners.enumerated() {
            let text = await l.server.prometheusText()
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("#") {
                    if i == 0 { out += line + "\n" }
                    continue
                }
                out += Self.label(String(line), "listener=\"\(i)\"") + "\n"
            }
        }
        return out
    }

    /// Adds `label` to a Prometheus sample line.
    static func label(_ line: String, _ label: String) -> String {
        if let brace = line.firstIndex(of: "{") {
            return line[...brace] + label + "," + line[line.index(after: brace)...]
        }
        guard let space = line.firstIndex(of: " ") else { return line }
        return line[..<space] + "{" + label + "}" + line[space...]
    }
}
