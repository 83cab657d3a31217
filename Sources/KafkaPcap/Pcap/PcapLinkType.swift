import CPcap

/// A libpcap link-layer header type (a `DLT_` value as libpcap reports it for the open file or
/// interface). The importer decodes the ones `isSupported` lists; the exporter writes Ethernet.
public struct PcapLinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    public static let null = PcapLinkType(rawValue: 0)
    /// Ethernet II, optionally with 802.1Q / 802.1ad VLAN tags.
    public static let ethernet = PcapLinkType(rawValue: 1)
    /// Raw IP (IPv4 or IPv6 by the version nibble); `DLT_RAW` is 12 on most systems, 14 on OpenBSD.
    public static let raw = PcapLinkType(rawValue: 12)
    /// Raw IP as OpenBSD numbers it.
    public static let rawOpenBSD = PcapLinkType(rawValue: 14)
    /// `LINKTYPE_RAW`, the value pcap files carry for raw IP (libpcap maps it to `DLT_RAW`).
    public static let linktypeRaw = PcapLinkType(rawValue: 101)
    /// OpenBSD loopback: like `null` but the family is in network byte order.
    public static let loop = PcapLinkType(rawValue: 108)
    /// Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10).
    public static let linuxSLL = PcapLinkType(rawValue: 113)
    /// Raw IPv4 only.
    public static let ipv4 = PcapLinkType(rawValue: 228)
    /// Raw IPv6 only.
    public static let ipv6 = PcapLinkType(rawValue: 229)
    /// Linux cooked capture v2 (`tcpdump -i any` with libpcap 1.10+).
    public static let linuxSLL2 = PcapLinkType(rawValue: 276)

    /// Whether the packet decoder understands this link type.
    public var isSupported: Bool {
        switch self {
        case .null, .ethernet, .raw, .rawOpenBSD, .linktypeRaw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2: return true
        default: return false
        }
    }

    /// The supported types, for error messages.
    public static let supportedDescription = "EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP"

    /// libpcap's name for the type (`EN10MB`) and its number.
    public var description: String {
        var name = "DLT \(rawValue)"
        if let c = pcap_datalink_val_to_name(rawValue) {
            name = String(cString: c)
        }
        return "\(name) (\(rawValue))"
    }
}
