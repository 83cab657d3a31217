/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
/// big-endian words, an odd last byte padded with zero. Used for IPv4 headers and TCP segments.
public struct InternetChecksum: Sendable {
    private var sum: UInt64 = 0
    /// Whether an odd byte is pending (the next byte is the low half of a word).
    private var odd = false

    /// An empty sum.
    public init() {}

    /// Adds bytes to the sum, continuing any odd byte from the previous call.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        if odd && n > 0 {
            sum &+= UInt64(bytes[0])
            i = 1
            odd = false
        }
        while i + 1 < n {
            sum &+= UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < n {
            sum &+= UInt64(bytes[i]) << 8
            odd = true
        }
    }

    /// Adds the bytes of an array (see `add(_:)` for pointers).
    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { add($0) }
    }

    /// Adds a 16-bit word (must not be called with an odd byte pending).
    public mutating func add(word: UInt16) {
        sum &+= UInt64(word)
    }

    /// The checksum to put in the header.
    public var value: UInt16 {
        var s = sum
        while s >> 16 != 0 { s = (s & 0xFFFF) &+ (s >> 16) }
        return ~UInt16(truncatingIfNeeded: s)
    }
}
