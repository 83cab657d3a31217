import CPcap
import Foundation

/// Live capture on a network interface through libpcap: immediate delivery, nanosecond timestamps
/// where the interface supports them, an optional BPF filter. The handle is non-blocking and
/// `next()` waits with `poll(2)` for at most the read timeout, so a deadline or `stop()` (from any
/// thread) takes effect within it.
public final class LiveCapture: @unchecked Sendable {
    /// What `next()` found.
    public enum Result {
        /// A packet (valid until the next call).
        case packet(PcapPacket)
        /// The read timeout passed without a packet (check your deadline and call again).
        case timeout
        /// `stop()` was called.
        case stopped
    }

    /// Counters from the kernel (`pcap_stats`).
    public struct Statistics: Hashable, Sendable {
        /// Packets that passed the filter.
        public var received: UInt32
        /// Packets dropped because the capture buffer was full.
        public var dropped: UInt32
        /// Packets the interface or driver dropped.
        public var interfaceDropped: UInt32
    }

    /// The interface captured on (`lo`, `eth0`, `any`).
    public let interface: String
    /// The interface's link-layer header type.
    public let linkType: PcapLinkType
    /// The filter installed, if any.
    public let filter: String?
    /// A warning from `pcap_activate` (e.g. promiscuous mode not supported), if any.
    public let activationWarning: String?
    /// Whether timestamps have nanosecond precision (else microseconds, scaled to nanoseconds).
    public let nanosecondTimestamps: Bool

    private let lock = NSLock()
    private var handle: OpaquePointer?
    private var stopRequested = false
    private let readTimeoutMs: Int
    private let selectableDescriptor: Int32

    /// Opens and activates `interface`. Throws `.permissionDenied` without capture privileges,
    /// `.noSuchInterface`, `.filter` for a bad BPF expression, `.unsupportedLinkType` when the
    /// interface's link type cannot be decoded.
    ///
    /// - Parameters:
    ///   - snapshotLength: Bytes kept of each packet (the default keeps whole packets, even with TSO).
    ///   - bufferBytes: The kernel capture buffer; a larger one drops fewer packets in bursts.
    ///   - readTimeoutMs: How long `next()` waits before returning `.timeout`.
    public init(
        interface: String, filter: String?, snapshotLength: Int = 262_144, bufferBytes: Int = 32 << 20,
        readTimeoutMs: Int = 100
    ) throws(PcapError) {
        self.interface = interface
        self.filter = filter
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let p = pcap_create(interface, &errbuf) else {
            throw PcapError(.capture(message: cString(errbuf)), source: interface)
        }
        _ = pcap_set_snaplen(p, Int32(clamping: snapshotLength))
        _ = pcap_set_promisc(p, 0)
        _ = pcap_set_timeout(p, Int32(clamping: readTimeoutMs))
        _ = pcap_set_immediate_mode(p, 1)
        _ = pcap_set_buffer_size(p, Int32(clamping: bufferBytes))
        let nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0
        let rc = pcap_activate(p)
        if rc < 0 {
            let detail = String(cString: pcap_geterr(p))
            let status = String(cString: pcap_statustostr(rc))
            let message = detail.isEmpty || detail == status ? status : "\(status): \(detail)"
            pcap_close(p)
            switch rc {
            case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
                throw PcapError(.permissionDenied(message: message), source: interface)
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw PcapError(.noSuchInterface(message: message), source: interface)
            default:
                throw PcapError(.capture(message: message), source: interface)
            }
        }
        activationWarning = rc > 0 ? String(cString: pcap_statustostr(rc)) : nil
        nanosecondTimestamps = nano && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO
        linkType = PcapLinkType(rawValue: pcap_datalink(p))
        guard linkType.isSupported else {
            pcap_close(p)
            throw PcapError(.unsupportedLinkType(linkType), source: interface)
        }
        if let filter {
            var program = bpf_program()
            guard pcap_compile(p, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
                let message = String(cString: pcap_geterr(p))
                pcap_close(p)
                throw PcapError(.filter(expression: filter, message: message), source: interface)
            }
            let set = pcap_setfilter(p, &program)
            pcap_freecode(&program)
            guard set == 0 else {
                let message = String(cString: pcap_geterr(p))
                pcap_close(p)
                throw PcapError(.filter(expression: filter, message: message), source: interface)
            }
        }
        var errbuf2 = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let fd = pcap_get_selectable_fd(p)
        guard fd >= 0, pcap_setnonblock(p, 1, &errbuf2) == 0 else {
            pcap_close(p)
            throw PcapError(.capture(message: "cannot wait for packets on this interface: \(cString(errbuf2))"), source: interface)
        }
        selectableDescriptor = fd
        self.readTimeoutMs = readTimeoutMs
        handle = p
    }

    deinit {
        if let handle { pcap_close(handle) }
    }

    /// Waits for the next packet, up to the read timeout. The packet's bytes are valid until the next call.
    /// After `stop()`, returns the packets the kernel already holds (without waiting), then `.stopped`.
    public func next() throws(PcapError) -> Result {
        let (p, stopping): (OpaquePointer?, Bool) = lock.withLock { (handle, stopRequested) }
        guard let p else { return .stopped }
        if let packet = try read(p) { return .packet(packet) }
        if stopping { return .stopped }
        // Nothing queued: wait on the capture's descriptor ourselves. libpcap's own read timeout is
        // not honoured on Linux while no packet arrives, which would make --duration and stop() wait
        // for the next packet.
        var fds = pollfd(fd: selectableDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&fds, 1, Int32(clamping: readTimeoutMs))
        if let packet = try read(p) { return .packet(packet) }
        return lock.withLock { stopRequested } ? .stopped : .timeout
    }

    /// One packet if the kernel has one ready (the handle is non-blocking), else nil.
    private func read(_ p: OpaquePointer) throws(PcapError) -> PcapPacket? {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(p, &header, &data) {
        case 1:
            guard let header, let data else { return nil }
            let h = header.pointee
            let fraction = Int64(h.ts.tv_usec) &* (nanosecondTimestamps ? 1 : 1000)
            let ns = Int64(h.ts.tv_sec) &* 1_000_000_000 &+ fraction
            return PcapPacket(timestampNs: ns, originalLength: Int(h.len), data: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)))
        case 0, PCAP_ERROR_BREAK:
            return nil
        default:
            throw PcapError(.capture(message: String(cString: pcap_geterr(p))), source: interface)
        }
    }

    /// Makes `next()` return within the read timeout: first the packets already captured, then
    /// `.stopped`. Safe from any thread (a signal handler's queue, a timer).
    public func stop() {
        lock.withLock { stopRequested = true }
    }

    /// Kernel counters, when the platform provides them.
    public func statistics() -> Statistics? {
        lock.withLock { () -> Statistics? in
            guard let handle else { return nil }
            var s = pcap_stat()
            guard pcap_stats(handle, &s) == 0 else { return nil }
            return Statistics(received: s.ps_recv, dropped: s.ps_drop, interfaceDropped: s.ps_ifdrop)
        }
    }

    /// Closes the interface. Further `next()` calls return `.stopped`.
    public func close() {
        lock.withLock {
            if let handle { pcap_close(handle) }
            handle = nil
            stopRequested = true
        }
    }
}
