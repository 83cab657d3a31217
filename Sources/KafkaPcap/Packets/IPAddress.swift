#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, held as integers so flow tables hash it cheaply.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// IPv4, as a big-endian-ordered integer (`127.0.0.1` is `0x7F000001`).
    case v4(UInt32)
    /// High and low 64 bits, network order.
    case v6(UInt64, UInt64)

    /// `127.0.0.1`.
    public static let loopbackV4 = IPAddress.v4(0x7F00_0001)
    /// `::1`.
    public static let loopbackV6 = IPAddress.v6(0, 1)

    /// Parses dotted-quad IPv4 or any textual IPv6 form (`inet_pton`); nil for anything else
    /// (host names are not resolved).
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            self = .v6(Self.load64(bytes, 0), Self.load64(bytes, 8))
            return
        }
        return nil
    }

    /// Reads 4 (IPv4) or 16 (IPv6) bytes at `offset`; the caller checks the bounds.
    static func read(v4 bytes: UnsafeRawBufferPointer, at offset: Int) -> IPAddress {
        .v4(bytes.loadBigEndianUInt32(at: offset))
    }

    static func read(v6 bytes: UnsafeRawBufferPointer, at offset: Int) -> IPAddress {
        .v6(bytes.loadBigEndianUInt64(at: offset), bytes.loadBigEndianUInt64(at: offset + 8))
    }

    /// Whether this is an IPv6 address.
    public var isIPv6: Bool {
        if case .v6 = self { return true }
        return false
    }

    /// `0.0.0.0` or `::`.
    public var isUnspecified: Bool {
        switch self {
        case .v4(let a): return a == 0
        case .v6(let h, let l): return h == 0 && l == 0
        }
    }

    /// The address in network byte order (4 or 16 bytes).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): return withUnsafeBytes(of: a.bigEndian) { Array($0) }
        case .v6(let h, let l): return withUnsafeBytes(of: h.bigEndian) { Array($0) } + withUnsafeBytes(of: l.bigEndian) { Array($0) }
        }
    }

    /// `192.0.2.1`, or the canonical IPv6 text (`inet_ntop`).
    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\((a >> 16) & 0xFF).\((a >> 8) & 0xFF).\(a & 0xFF)"
        case .v6:
            var raw = in6_addr()
            let b = bytes
            withUnsafeMutableBytes(of: &raw) { dst in
                for i in 0..<16 { dst[i] = b[i] }
            }
            var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            guard inet_ntop(AF_INET6, &raw, &out, socklen_t(out.count)) != nil else { return "?" }
            return cString(out)
        }
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): return x < y
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case (.v6(let xh, let xl), .v6(let yh, let yl)): return (xh, xl) < (yh, yl)
        }
    }

    private static func load64(_ b: [UInt8], _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(b[at + i]) }
        return v
    }
}

/// One end of a TCP connection.
public struct TcpEndpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The IP address.
    public var address: IPAddress
    /// The TCP port.
    public var port: UInt16

    /// An endpoint from its address and port.
    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `IP:PORT` or `[IPv6]:PORT` (the form KafkaTape records); nil for host names and
    /// anything else.
    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText), let address = IPAddress(String(host)) else { return nil }
        self.init(address: address, port: port)
    }

    /// `IP:PORT`, with brackets around IPv6 addresses.
    public var description: String {
        address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    public static func < (a: TcpEndpoint, b: TcpEndpoint) -> Bool {
        a.address != b.address ? a.address < b.address : a.port < b.port
    }
}

extension UnsafeRawBufferPointer {
    func loadBigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    func loadBigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func loadBigEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
