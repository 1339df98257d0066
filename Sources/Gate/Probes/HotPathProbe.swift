import LoadGenerator
import MetaProtocol
import MetaProtocolCodecs
import NIOCore

/// A hot path the gate counts per request: a codec's decode and encode, the routing decision,
/// a whole request through the core. Each runs `iterations` requests after a warm-up, inside
/// ``HotPathProbe/measured(_:)``, the one function callgrind collects (`--toggle-collect`), so
/// set-up and warm-up are never counted.
public struct HotPathProbe: Sendable {
    /// A test-only regression put into the measured path, to show that the gate catches it.
    public struct Injection: Sendable, Hashable {
        /// Copy each request's frame once more (an allocation and a copy per request).
        public var copyFrames = false
        /// Rounds of extra arithmetic per request (what one costs depends on the compiler:
        /// scripts/gate-trust measures it).
        public var extraWork = 0

        public init(copyFrames: Bool = false, extraWork: Int = 0) {
            self.copyFrames = copyFrames
            self.extraWork = extraWork
        }
    }

    public var name: String
    /// What one request of the probe does, for reports.
    public var summary: String
    /// Builds the probe's state and returns the function that runs one request.
    let make: @Sendable (Injection) -> () -> Void

    /// Every probe, by name.
    public static let all: [HotPathProbe] = {
        var probes: [HotPathProbe] = []
        for protocolName in ["dubbo", "thrift", "livepacket"] {
            for (label, size) in [("20B", 20), ("1KB", 1024)] {
                probes.append(codec(protocolName, size: size, label: label))
            }
        }
        probes.append(HotPathProbe(name: "route-and-pick", summary: "route match among 50 routes, Maglev pick among 1000 hosts, breaker and token bucket") { injection in
            var path = DecisionPath(policy: .maglev())
            return {
                probeSink(path.decide())
                extraWork(injection.extraWork)
            }
        })
        probes.append(HotPathProbe(name: "core-request", summary: "a request and its answer through the core (10 routes, 100 hosts, least request), null transport") { injection in
            let driver = NullDriver()
            return {
                driver.roundTrip(copyingFrames: injection.copyFrames)
                extraWork(injection.extraWork)
            }
        })
        return probes
    }()

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> HotPathProbe? { all.first { $0.name == name } }

    /// A request frame of `size` payload bytes decoded with the protocol's codec taken as the
    /// proxy takes it (`any MetaCodec`, as its frame reader holds it), given a new request id as
    /// the proxy renumbers it, and encoded back into reusable scratch buffers as the proxy's
    /// runtime encodes it.
    static func codec(_ protocolName: String, size: Int, label: String) -> HotPathProbe {
        HotPathProbe(name: "\(protocolName)-codec-\(label)", summary: "\(protocolName) request of \(label): decode, renumber, encode") { injection in
            guard let type = CodecRegistry.codecTypes.first(where: { $0.protocolName == protocolName }),
                let synthesizer = CodecRegistry.makeSynthesizer(named: protocolName),
                let frame = try? synthesizer.request(id: 7, attributes: OverheadRun.calls(protocolName), payloadSize: size, oneway: false)
            else { preconditionFailure("no codec or frame for \(protocolName)") }
            var codec: any MetaCodec = type.init()
            var check = frame
            precondition((try? codec.decode(&check)) != nil && check.readableBytes == 0, "the \(protocolName) probe frame does not decode")
            var id: UInt64 = 1
            let space = ScratchHolder()
            return {
                var input = injection.copyFrames ? ByteBuffer(bytes: frame.readableBytesView) : frame
                guard var message = try? codec.decode(&input) else { preconditionFailure("decode failed") }
                id &+= 1
                message.requestID = id & 0x7fff_ffff
                probeSink(try? codec.encode(message, mutation: Mutation(), scratch: &space.scratch))
                extraWork(injection.extraWork)
            }
        }
    }

    /// The probe's state, built, and the function that runs one request on it.
    public func prepare(_ injection: Injection = .init()) -> () -> Void { make(injection) }

    /// Runs `warmUp` requests, then `iterations` inside ``measured(_:)``; `between` runs after
    /// the warm-up and `after` after the measured ones (where allocation counters are read).
    public func run(iterations: Int, warmUp: Int, injection: Injection = .init(), between: () -> Void = {}, after: () -> Void = {}) {
        let request = make(injection)
        for _ in 0..<warmUp { request() }
        between()
        measured { for _ in 0..<iterations { request() } }
        after()
    }

    /// The measured region, under a plain symbol name callgrind can be told to collect alone.
    /// An optimized build calls a clone with the closure folded in (closure specialization)
    /// whose mangled name contains this one, so the gate collects `*mplab_gate_measured*`.
    @inline(never) @_silgen_name("mplab_gate_measured")
    public func measured(_ body: () -> Void) { body() }
}

/// Keeps a value alive past the optimizer. Public and not optimized, so that dead-argument
/// elimination cannot see that it ignores its argument and remove the work that made it (it
/// did, in an internal version: the injected extra work cost nothing).
@inline(never) @_optimize(none) public func probeSink<T>(_ value: T) { _ = value }

/// `rounds` steps of arithmetic the optimizer cannot remove: a known number of instructions.
@inline(never) func extraWork(_ rounds: Int) {
    guard rounds > 0 else { return }
    var x: UInt64 = 0x9e37_79b9_7f4a_7c15
    for i in 0..<rounds { x = (x ^ UInt64(truncatingIfNeeded: i)) &* 0xbf58_476d_1ce4_e5b9 }
    probeSink(x)
}

/// The scratch buffers of a codec probe, held as the proxy's runtime holds its own (a class
/// property without the dynamic exclusivity check).
final class ScratchHolder {
    @exclusivity(unchecked) var scratch = ScratchSpace()
}
