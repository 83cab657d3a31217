/// A failure to open, read, write or capture packets. `description` is one line naming the file or
/// interface, suitable for a CLI's stderr.
public struct PcapError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Hashable, Sendable {
        /// The file could not be opened as pcap or pcapng (`message` is libpcap's reason).
        case notAPcap(message: String)
        /// The file or interface uses a link-layer type the importer does not decode.
        case unsupportedLinkType(PcapLinkType)
        /// Reading stopped at a damaged or truncated record; everything before it was read.
        case damaged(message: String, packetIndex: Int, offset: Int64?)
        /// The output could not be created or written.
        case write(message: String)
        /// The input file could not be opened at all (missing, permission denied, a directory): it was
        /// never looked at, so nothing is known about whether it is a pcap.
        case open(message: String)
        /// Live capture needs privileges this process does not have.
        case permissionDenied(message: String)
        /// The interface does not exist.
        case noSuchInterface(message: String)
        /// The BPF filter did not compile or could not be installed.
        case filter(expression: String, message: String)
        /// Any other libpcap failure during live capture.
        case capture(message: String)
    }

    /// What went wrong.
    public var kind: Kind
    /// The file or interface concerned.
    public var source: String

    /// An error about `source` (a file path or an interface name).
    public init(_ kind: Kind, source: String) {
        self.kind = kind
        self.source = source
    }

    /// The message without the source.
    public var message: String {
        switch kind {
        case .notAPcap(let m): return "not a pcap or pcapng file (\(m))"
        case .unsupportedLinkType(let t):
            return "unsupported link type \(t) (supported: \(PcapLinkType.supportedDescription))"
        case .damaged(let m, let index, let offset):
            var s = "damaged or truncated at packet \(index + 1)"
            if let offset { s += " (byte offset \(offset))" }
            return s + ": \(m)"
        case .write(let m): return "cannot write: \(m)"
        case .open(let m): return m
        case .permissionDenied(let m):
            return "no permission to capture (run as root, or grant CAP_NET_RAW and CAP_NET_ADMIN, "
                + "e.g. `sudo setcap cap_net_raw,cap_net_admin=eip kafkatape`): \(m)"
        case .noSuchInterface(let m): return "no such interface (see `ip link` or `tcpdump -D`): \(m)"
        case .filter(let e, let m): return "capture filter '\(e)' rejected: \(m)"
        case .capture(let m): return "capture failed: \(m)"
        }
    }

    public var description: String { "\(source): \(message)" }
}
