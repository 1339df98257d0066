import Results

/// What the socket runtime saw beyond the core's own counters: connections and the reasons they
/// were closed. Changed only on the core's event loop.
public struct RuntimeCounters: Sendable, Hashable {
    public var downstreamAccepted = 0
    /// Refused at once because the proxy already held its maximum of client connections.
    public var downstreamRefused = 0
    /// Closed because a client sent a frame its codec refused.
    public var downstreamProtocolErrors = 0
    /// Closed after the downstream idle timeout.
    public var downstreamIdleClosed = 0
    /// Closed because a frame begun was not all in within the frame timeout.
    public var downstreamFrameTimeouts = 0
    /// Times a client connection stopped being read because an upstream connection it wrote
    /// into was full (over its write high watermark).
    public var downstreamReadPauses = 0
    public var downstreamClosed = 0
    /// Upstream connections closed because a host sent a frame the codec refused.
    public var upstreamProtocolErrors = 0
    /// Answers the codec could not write (counted, and answered with a local reply instead
    /// where possible).
    public var encodeFailures = 0
    /// Frames forwarded as they arrived (cut-through).
    public var cutThroughFrames = 0
    /// Frames forwarded as they arrived that could not be finished (a connection closed
    /// mid-frame, or the call was answered without it): the connection holding its head closed.
    public var cutThroughAborted = 0

    public init() {}

    public var downstreamActive: Int { downstreamAccepted - downstreamClosed }
}

extension RuntimeCounters {
    /// The counters by the names results use.
    public var namedCounters: [Counter] {
        [Counter(name: "downstream_accepted", value: downstreamAccepted), Counter(name: "downstream_refused", value: downstreamRefused),
         Counter(name: "downstream_protocol_errors", value: downstreamProtocolErrors), Counter(name: "downstream_idle_closed", value: downstreamIdleClosed),
         Counter(name: "downstream_frame_timeouts", value: downstreamFrameTimeouts),
         Counter(name: "downstream_read_pauses", value: downstreamReadPauses),
         Counter(name: "downstream_closed", value: downstreamClosed), Counter(name: "upstream_protocol_errors", value: upstreamProtocolErrors),
         Counter(name: "encode_failures", value: encodeFailures), Counter(name: "cut_through_frames", value: cutThroughFrames),
         Counter(name: "cut_through_aborted", value: cutThroughAborted)]
    }
}
