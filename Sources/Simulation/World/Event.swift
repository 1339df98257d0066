import MetaProtocol
import TrafficModel

/// Everything that can happen in a simulation. Payloads are plain numbers — indices into the
/// world's tables — so events are cheap to move through the queue.
enum Event {
    /// A client's next call is due.
    case arrival(client: Int32)
    /// A client's call reaches its proxy.
    case atProxy(message: Int32)
    /// A proxy asked to be woken for its timers.
    case proxyWake(proxy: Int32)
    /// A connect attempt's answer reaches the proxy.
    case connectDone(proxy: Int32, connection: UInt64)
    /// A request reaches a host.
    case atHost(job: Int32)
    /// A host finished serving a request.
    case serviceDone(host: Int32, job: Int32)
    /// A host's answer reaches the proxy.
    case answerAtProxy(job: Int32)
    /// An answer reaches a client.
    case atClient(message: Int32)
    /// A host's answer reaches a client that called it directly.
    case directAnswer(job: Int32)
    /// The rate-limit service's answer reaches a proxy.
    case rateLimitAnswer(proxy: Int32, call: UInt64, decision: UInt8)
    case fault(index: Int32)
    /// The end of a time-series window.
    case sample
    case autoscaleCheck
    /// Provisioned hosts come online.
    case scaleUp(hosts: Int32)

    /// The event as numbers for the trace hash.
    var traceWords: (UInt64, UInt64) {
        switch self {
        case .arrival(let c): (1, UInt64(c))
        case .atProxy(let m): (2, UInt64(m))
        case .proxyWake(let p): (3, UInt64(p))
        case .connectDone(let p, let c): (4, UInt64(p) << 48 ^ c)
        case .atHost(let j): (5, UInt64(j))
        case .serviceDone(let h, let j): (6, UInt64(h) << 32 | UInt64(UInt32(bitPattern: j)))
        case .answerAtProxy(let j): (7, UInt64(j))
        case .atClient(let m): (8, UInt64(m))
        case .rateLimitAnswer(let p, let c, let d): (9, UInt64(p) << 48 ^ c ^ UInt64(d) << 40)
        case .fault(let i): (10, UInt64(i))
        case .sample: (11, 0)
        case .autoscaleCheck: (12, 0)
        case .scaleUp(let n): (13, UInt64(n))
        case .directAnswer(let j): (14, UInt64(j))
        }
    }
}

/// A call or an answer travelling between a client and a proxy.
struct WireMessage {
    var client: Int32
    var proxy: Int32
    /// The client's own id for the call.
    var requestID: UInt64
    var message: Message
    /// Set when the proxy answered by itself.
    var localReply: LocalReplyError.Kind?
}

/// A request at, or on its way to or from, a host. (On the byte path its frames live in
/// ``ByteCodecs``, keyed by the job's slot, so that jobs stay small on the common path.)
struct Job {
    /// -1 when a client called the host directly (no proxy).
    var proxy: Int32
    var connection: UInt64
    var host: Int32
    /// The id the proxy gave the request (or the client's, without a proxy).
    var requestID: UInt64
    var client: Int32
    /// Which per-method service time of the host the call takes (-1 for the default).
    var method: Int32
    var oneway: Bool
    var payload: Int
    /// The host's service of the call, once it started.
    var service: SyntheticHost.Service?
    /// What the host answers, once it decided.
    var answer: SyntheticHost.Answer?
}
