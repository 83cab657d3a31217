import CPcap

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a pcap or pcapng file packet by packet through libpcap, with nanosecond timestamps.
/// Memory stays at libpcap's buffer whatever the file size.
public final class PcapFileReader {
    /// The file being read.
    public let path: String
    /// The link-layer type of the file (of its first interface, for pcapng).
    public let linkType: PcapLinkType
    /// The file's size in bytes, when it is a regular file.
    public let fileSize: Int64?
    /// Packets returned so far.
    public private(set) var packetCount = 0
    private var handle: OpaquePointer?

    /// Opens `path`. Throws `.open` for a file that cannot be opened (missing: "no such file or
    /// directory", unreadable: "permission denied"), `.notAPcap` (with libpcap's reason) for a file
    /// that is not pcap or pcapng.
    public init(path: String) throws(PcapError) {
        self.path = path
        // libpcap reports every open failure as a format problem; find out first whether the file
        // can be read at all, so an unreadable pcap is not called "not a pcap file".
        let probe = open(path, O_RDONLY | O_CLOEXEC)
        guard probe >= 0 else { throw PcapError(.open(message: describeErrno(errno)), source: path) }
        var probeStat = stat()
        let isDirectory = fstat(probe, &probeStat) == 0 && (probeStat.st_mode & S_IFMT) == S_IFDIR
        closeDescriptor(probe)
        if isDirectory { throw PcapError(.open(message: "is a directory"), source: path) }
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let opened = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
        guard let opened else {
            throw PcapError(.notAPcap(message: cString(errbuf)), source: path)
        }
        handle = opened
        linkType = PcapLinkType(rawValue: pcap_datalink(opened))
        var st = stat()
        fileSize = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : nil
    }

    deinit {
        if let handle { pcap_close(handle) }
    }

    /// The next packet, or nil at the end of the file. Throws `.damaged` at a truncated or corrupt
    /// record: the packets before it were all returned.
    public func next() throws(PcapError) -> PcapPacket? {
        guard let handle else { return nil }
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let rc = pcap_next_ex(handle, &header, &data)
        switch rc {
        case 1:
            guard let header, let data else { return nil }
            packetCount += 1
            let h = header.pointee
            let ns = Int64(h.ts.tv_sec) &* 1_000_000_000 &+ Int64(h.ts.tv_usec)
            return PcapPacket(
                timestampNs: ns, originalLength: Int(h.len),
                data: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)))
        case PCAP_ERROR_BREAK:
            return nil
        default:
            let message = String(cString: pcap_geterr(handle))
            let offset = bytesRead
            throw PcapError(.damaged(message: message, packetIndex: packetCount, offset: offset), source: path)
        }
    }

    /// How far into the file libpcap has read (for progress), when known.
    public var bytesRead: Int64? {
        guard let handle, let file = pcap_file(handle) else { return nil }
        let position = ftello(file)
        return position >= 0 ? Int64(position) : nil
    }

    /// Releases the file; `next()` then returns nil.
    public func close() {
        if let handle { pcap_close(handle) }
        handle = nil
    }
}

/// A NUL-terminated C buffer as a Swift string.
func cString(_ buffer: [CChar]) -> String {
    let end = buffer.firstIndex(of: 0) ?? buffer.count
    return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
