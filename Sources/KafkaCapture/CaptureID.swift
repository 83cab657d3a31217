/// The random 128-bit id shared by every segment of one capture. A reader only follows a segment
/// whose header carries the same id, so a stale `cap.ktape.1` left over from another capture is not
/// mistaken for a continuation.
public struct CaptureID: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    public var high: UInt64
    /// The last 8 bytes, big-endian.
    public var low: UInt64

    /// An id from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A fresh id from the system's secure random source.
    public static func random() -> CaptureID {
        var g = SystemRandomNumberGenerator()
        return random(using: &g)
    }

    /// A fresh id from `generator` (inject a seeded generator for deterministic tests).
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> CaptureID {
        CaptureID(high: generator.next(), low: generator.next())
    }

    /// The 16 bytes as stored in the file header, big-endian.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        for word in [high, low] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return out
    }

    /// 32 lowercase hex digits.
    public var description: String {
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(high) + hex(low)
    }
}
