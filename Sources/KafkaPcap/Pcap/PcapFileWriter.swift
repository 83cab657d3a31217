import CPcap

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a pcap file (nanosecond timestamps) through libpcap's dumper. The file is created with
/// mode 0600 (it holds whatever the clients sent) and never replaces an existing file unless
/// `overwrite` is set.
public final class PcapFileWriter {
    /// The file being written.
    public let path: String
    /// The link-layer header type of every packet in the file.
    public let linkType: PcapLinkType
    /// Packets written so far.
    public private(set) var packetCount = 0
    /// Captured bytes written so far (packet data, without pcap record headers).
    public private(set) var byteCount: Int64 = 0
    private var dead: OpaquePointer?
    private var dumper: OpaquePointer?
    private let snapshotLength: Int

    /// Creates `path` and writes the pcap file header.
    public init(
        path: String, linkType: PcapLinkType = .ethernet, snapshotLength: Int = 262_144, overwrite: Bool = false
    ) throws(PcapError) {
        self.path = path
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        guard let dead = pcap_open_dead_with_tstamp_precision(linkType.rawValue, Int32(clamping: snapshotLength), UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
            throw PcapError(.write(message: "libpcap could not create a handle for link type \(linkType)"), source: path)
        }
        self.dead = dead
        let flags = O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else {
            let e = errno
            pcap_close(dead)
            self.dead = nil
            let reason = e == EEXIST ? "file exists (use --overwrite to replace it)" : describeErrno(e)
            throw PcapError(.write(message: reason), source: path)
        }
        guard let file = fdopen(fd, "wb") else {
            let e = errno
            closeDescriptor(fd)
            pcap_close(dead)
            self.dead = nil
            throw PcapError(.write(message: describeErrno(e)), source: path)
        }
        guard let dumper = pcap_dump_fopen(dead, file) else {
            let message = String(cString: pcap_geterr(dead))
            fclose(file)
            pcap_close(dead)
            self.dead = nil
            throw PcapError(.write(message: message), source: path)
        }
        self.dumper = dumper
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
        if let dead { pcap_close(dead) }
    }

    /// Appends one packet. `originalLength` defaults to the captured length; bytes beyond the
    /// snapshot length are cut (and `originalLength` keeps the full size).
    public func write(timestampNs: Int64, bytes: UnsafeRawBufferPointer, originalLength: Int? = nil) {
        guard let dumper, let base = bytes.baseAddress else { return }
        let ns = max(0, timestampNs)
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(ns / 1_000_000_000)
        header.ts.tv_usec = Int(ns % 1_000_000_000)
        let captured = min(bytes.count, snapshotLength)
        header.caplen = UInt32(captured)
        header.len = UInt32(clamping: max(originalLength ?? bytes.count, captured))
        let user = UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self)
        pcap_dump(user, &header, base.assumingMemoryBound(to: UInt8.self))
        packetCount += 1
        byteCount += Int64(captured)
    }

    /// Appends one packet from an array.
    public func write(timestampNs: Int64, bytes: [UInt8], originalLength: Int? = nil) {
        bytes.withUnsafeBytes { write(timestampNs: timestampNs, bytes: $0, originalLength: originalLength) }
    }

    /// Flushes and closes the file; throws when a write failed (a full disk). Closing again does nothing.
    public func close() throws(PcapError) {
        guard let dumper else { return }
        let flushed = pcap_dump_flush(dumper)
        let file = pcap_dump_file(dumper)
        let failed = flushed != 0 || (file.map { ferror($0) != 0 } ?? false)
        let e = errno
        pcap_dump_close(dumper)
        self.dumper = nil
        if let dead { pcap_close(dead) }
        dead = nil
        if failed {
            throw PcapError(.write(message: describeErrno(e)), source: path)
        }
    }
}

/// `close(2)`, out of reach of methods named `close`.
func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}

/// An errno in the words people search for ("permission denied"), lower case like the rest of a
/// one-line message.
func describeErrno(_ code: Int32) -> String {
    switch code {
    case EACCES, EPERM: return "permission denied"
    case ENOENT: return "no such file or directory"
    case EISDIR: return "is a directory"
    default: return String(cString: strerror(code)).lowercased()
    }
}
