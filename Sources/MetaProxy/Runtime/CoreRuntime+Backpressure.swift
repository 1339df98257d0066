import NIOCore

/// Backpressure from upstream to downstream. A client connection is not read while its own
/// answers back up (NIO's `BackPressureHandler` on its pipeline); this is the other direction.
/// Calls into a stalled host pile up in its connection's write buffer, and nothing else bounds
/// them for oneway calls, which take no breaker slot and get no answer: so when a client's
/// frame takes an upstream connection over its write high watermark, that client is not read
/// until the connection drains below its low one (or closes). Only the clients that wrote into
/// it wait; the others, and other hosts, go on.
extension CoreRuntime {
    /// Stops reading `client` when `target` is an upstream connection now over its high watermark.
    @inline(__always)
    func pauseIfFull(_ target: ConnectionSession, readingFrom client: DownstreamSession) {
        guard let channel = target.channel, !channel.isWritable, let upstream = target as? UpstreamSession else { return }
        pause(client, behind: upstream)
    }

    private func pause(_ client: DownstreamSession, behind upstream: UpstreamSession) {
        guard !upstream.pausedReaders.contains(where: { $0 === client }) else { return }
        upstream.pausedReaders.append(client)
        client.pausedBehind += 1
        if client.pausedBehind == 1 {
            counters.downstreamReadPauses += 1
            try? client.clientChannel.syncOptions?.setOption(.autoRead, value: false)
        }
    }

    /// `upstream` drained below its low watermark, or ended: the clients it held are read again
    /// (those no other full connection holds).
    func resumeReaders(of upstream: UpstreamSession) {
        guard !upstream.pausedReaders.isEmpty else { return }
        let readers = upstream.pausedReaders
        upstream.pausedReaders = []
        for client in readers {
            client.pausedBehind -= 1
            if client.pausedBehind == 0, client.clientChannel.isActive {
                // Turning autoRead back on issues a read.
                try? client.clientChannel.syncOptions?.setOption(.autoRead, value: true)
            }
        }
    }
}
