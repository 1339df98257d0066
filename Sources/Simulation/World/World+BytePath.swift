import MetaProtocol
import NIOCore
import TrafficModel

/// The codecs of a run on the byte path, one per connection end as on real sockets (a codec
/// remembers what it learned from earlier frames, such as Thrift's transport).
final class ByteCodecs {
    let path: BytePath
    /// Each proxy's codec per client (reading calls), per upstream connection (reading answers),
    /// and one for writing (encoding keeps no state).
    @exclusivity(unchecked) var proxyDownstream: [[any MetaCodec]]
    @exclusivity(unchecked) var proxyUpstream: [IDMap<any MetaCodec>]
    let proxyEncoder: any MetaCodec
    @exclusivity(unchecked) var hosts: [any MetaCodec] = []
    @exclusivity(unchecked) var clients: [any MetaCodec]
    /// Frames in flight, by the slot of the message or job carrying them, and calls as hosts
    /// decoded them, by job slot.
    @exclusivity(unchecked) var messageFrames: [Int32: ByteBuffer] = [:]
    @exclusivity(unchecked) var jobFrames: [Int32: ByteBuffer] = [:]
    @exclusivity(unchecked) var jobRequests: [Int32: Message] = [:]

    init(_ path: BytePath, proxies: Int, clients: Int) {
        self.path = path
        proxyDownstream = (0..<proxies).map { _ in (0..<clients).map { _ in path.makeCodec() } }
        proxyUpstream = (0..<proxies).map { _ in IDMap() }
        proxyEncoder = path.makeCodec()
        self.clients = (0..<clients).map { _ in path.makeCodec() }
    }
}

/// Decodes one whole frame with `codec`.
private func decodeFrame(_ frame: ByteBuffer, with codec: inout any MetaCodec) throws(CodecError) -> Message? {
    var buffer = frame
    let message = try codec.decode(&buffer)
    return buffer.readableBytes == 0 ? message : nil
}

extension World {
    /// A client's call as a frame.
    func synthesizeCall(_ message: Message, template: CallTemplate) -> ByteBuffer? {
        guard let codecs = byteCodecs else { return nil }
        do {
            return try codecs.path.synthesizer.request(id: message.requestID, attributes: template.attributes, payloadSize: message.bodySize,
                                                      oneway: message.type == .oneway)
        } catch {
            violations.append("t=\(Double(now) / 1e9)s byte path: cannot write a call: \(error)")
            return nil
        }
    }

    // MARK: frames by slot

    func storeFrame(_ frame: ByteBuffer?, message m: Int32) {
        if let frame { byteCodecs!.messageFrames[m] = frame }
    }

    func takeFrame(message m: Int32) -> ByteBuffer? {
        byteCodecs == nil ? nil : byteCodecs!.messageFrames.removeValue(forKey: m)
    }

    func storeFrame(_ frame: ByteBuffer?, job j: Int32) {
        if let frame { byteCodecs!.jobFrames[j] = frame }
    }

    func takeFrame(job j: Int32) -> ByteBuffer? {
        byteCodecs == nil ? nil : byteCodecs!.jobFrames.removeValue(forKey: j)
    }

    /// The call a host decoded for job `j`, taken out of the table.
    func takeRequest(job j: Int32) -> Message? {
        byteCodecs == nil ? nil : byteCodecs!.jobRequests.removeValue(forKey: j)
    }

    /// Forgets whatever the byte path holds for a job that is dropped.
    func forgetBytes(job j: Int32) {
        guard byteCodecs != nil else { return }
        byteCodecs!.jobFrames.removeValue(forKey: j)
        byteCodecs!.jobRequests.removeValue(forKey: j)
    }

    // MARK: hops

    /// A proxy reads a client's call.
    func proxyDecodesCall(_ wire: WireMessage, frame: ByteBuffer) -> Message? {
        do {
            guard let message = try decodeFrame(frame, with: &byteCodecs!.proxyDownstream[Int(wire.proxy)][Int(wire.client)]) else {
                violations.append("t=\(Double(now) / 1e9)s byte path: proxy \(wire.proxy) could not read a whole call from client \(wire.client)")
                return nil
            }
            return message
        } catch {
            violations.append("t=\(Double(now) / 1e9)s byte path: proxy \(wire.proxy) refused a call: \(error)")
            return nil
        }
    }

    /// What a proxy puts on the wire for `message` with `mutation`; nil off the byte path.
    func proxyEncodes(_ message: Message, mutation: Mutation) -> ByteBuffer? {
        guard let codecs = byteCodecs else { return nil }
        do {
            return try codecs.proxyEncoder.encode(message, mutation: mutation).collapsed()
        } catch {
            violations.append("t=\(Double(now) / 1e9)s byte path: cannot encode \(message.type) \(message.requestID): \(error)")
            return nil
        }
    }

    /// A proxy's protocol-native local reply to `request`.
    func proxyEncodesLocalReply(_ error: LocalReplyError, to request: Message) -> ByteBuffer? {
        guard let codecs = byteCodecs else { return nil }
        do {
            return try codecs.proxyEncoder.encodeLocalReply(error, to: request)
        } catch {
            violations.append("t=\(Double(now) / 1e9)s byte path: cannot write a local reply: \(error)")
            return nil
        }
    }

    /// A host reads the call in `job`; false if it cannot (the call is then lost, and counted).
    func hostDecodesCall(_ j: Int32) -> Bool {
        guard byteCodecs != nil, let job = jobs[j], let frame = takeFrame(job: j) else { return true }
        let h = Int(job.host)
        while byteCodecs!.hosts.count <= h { byteCodecs!.hosts.append(byteCodecs!.path.makeCodec()) }
        do {
            guard let request = try decodeFrame(frame, with: &byteCodecs!.hosts[h]), request.requestID == job.requestID else {
                violations.append("t=\(Double(now) / 1e9)s byte path: host \(hosts[h].address) read a call other than the one sent")
                return false
            }
            byteCodecs!.jobRequests[j] = request
            return true
        } catch {
            violations.append("t=\(Double(now) / 1e9)s byte path: host \(hosts[h].address) refused a call: \(error)")
            return false
        }
    }

    /// A host's answer to `request` as a frame (nil for a oneway call or a direct one).
    func synthesizeAnswer(_ answer: SyntheticHost.Answer, to request: Message?) -> ByteBuffer? {
        guard let codecs = byteCodecs, let request, request.type != .oneway else { return nil }
        do {
            return try codecs.path.synthesizer.response(to: request, status: answer.status, payload: answer.payload)
        } catch {
            violations.append("t=\(Double(now) / 1e9)s byte path: cannot write an answer: \(error)")
            return nil
        }
    }

    /// A proxy reads a host's answer on connection `connection`.
    func proxyDecodesAnswer(_ frame: ByteBuffer, proxy: Int32, connection: UInt64) -> Message? {
        if byteCodecs!.proxyUpstream[Int(proxy)][connection] == nil { byteCodecs!.proxyUpstream[Int(proxy)].set(connection, byteCodecs!.path.makeCodec()) }
        var result: Result<Message?, CodecError> = .success(nil)
        byteCodecs!.proxyUpstream[Int(proxy)].withValue(connection) { codec in
            do throws(CodecError) { result = .success(try decodeFrame(frame, with: &codec)) } catch { result = .failure(error) }
        }
        switch result {
        case .success(let m?): return m
        case .success(nil): violations.append("t=\(Double(now) / 1e9)s byte path: proxy \(proxy) could not read a whole answer")
        case .failure(let e): violations.append("t=\(Double(now) / 1e9)s byte path: proxy \(proxy) refused an answer: \(e)")
        }
        return nil
    }

    /// A proxy forgets the codec of a closed upstream connection.
    func forgetUpstreamCodec(proxy: Int32, connection: UInt64) {
        byteCodecs?.proxyUpstream[Int(proxy)].remove(connection)
    }

    /// A client reads its answer.
    func clientDecodesAnswer(_ wire: WireMessage, frame: ByteBuffer) -> Message? {
        do {
            if let m = try decodeFrame(frame, with: &byteCodecs!.clients[Int(wire.client)]) { return m }
            violations.append("t=\(Double(now) / 1e9)s byte path: client \(wire.client) could not read a whole answer")
        } catch {
            violations.append("t=\(Double(now) / 1e9)s byte path: client \(wire.client) refused an answer: \(error)")
        }
        return nil
    }
}
