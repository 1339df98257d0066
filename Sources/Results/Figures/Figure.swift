/// A figure that is neither a count nor a latency distribution: an added latency with its
/// interval, a ratio, a cost per request.
public struct Figure: Codable, Sendable, Hashable {
    public var name: String
    public var value: Double
    /// `ms`, `µs`, `ratio`, `CPU s per 1000 requests`, `bytes`, ….
    public var unit: String
    /// A 95 % interval around ``value``, when it has one.
    public var low: Double?
    public var high: Double?
    /// How it was measured, and from how many samples.
    public var note: String

    public init(name: String, value: Double, unit: String, low: Double? = nil, high: Double? = nil, note: String = "") {
        self.name = name
        self.value = value
        self.unit = unit
        self.low = low
        self.high = high
        self.note = note
    }
}
