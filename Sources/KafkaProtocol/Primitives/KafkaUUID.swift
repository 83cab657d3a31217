/// A 128-bit Kafka UUID (topic ids, directory ids). Rendered like Kafka's `Uuid.toString()`:
/// URL-safe base64 without padding.
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    public var high: UInt64
    /// The last 8 bytes, big-endian.
    public var low: UInt64

    /// A UUID from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The all-zero UUID, Kafka's `Uuid.ZERO_UUID`: "no topic id" in requests by name.
    public static let zero = KafkaUUID(high: 0, low: 0)

    /// Parses Kafka's base64url form (22 characters, no padding).
    public init?(_ string: String) {
        guard let bytes = Base64.decode(string, urlSafe: true), bytes.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        self.init(high: h, low: l)
    }

    /// The 16 bytes as on the wire.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return out
    }

    /// Kafka's `Uuid.toString()` form: base64url without padding, 22 characters.
    public var description: String { Base64.encode(bytes, urlSafe: true, padded: false) }
}
