#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The header of a capture segment: who wrote it, when, between which addresses, and which capture
/// and segment it is. Every segment of a capture carries the same header except `segmentIndex`.
public struct CaptureHeader: Hashable, Sendable {
    /// The writing tool and its version, e.g. `kafkatape 0.1.0`.
    public var toolVersion: String
    /// When the capture started.
    public var startTime: CaptureTimestamp
    /// The address the proxy listened on (`0.0.0.0:9092`), or the source for other kinds of capture.
    public var listenAddress: String
    /// The bootstrap upstream (`broker:9092`).
    public var upstreamAddress: String
    /// The host that recorded the capture.
    public var hostname: String
    /// 0 for the first file of a capture, N for `PATH.N`. The writer sets it; readers check it.
    public var segmentIndex: UInt32
    /// Shared by all segments of one capture.
    public var captureId: CaptureID

    /// A header; `hostname` defaults to this machine's and `captureId` to a fresh random id.
    public init(
        toolVersion: String,
        startTime: CaptureTimestamp,
        listenAddress: String,
        upstreamAddress: String,
        hostname: String = CaptureHeader.currentHostname(),
        segmentIndex: UInt32 = 0,
        captureId: CaptureID = .random()
    ) {
        self.toolVersion = toolVersion
        self.startTime = startTime
        self.listenAddress = listenAddress
        self.upstreamAddress = upstreamAddress
        self.hostname = hostname
        self.segmentIndex = segmentIndex
        self.captureId = captureId
    }

    /// This machine's host name (`gethostname(2)`), or an empty string when it cannot be read.
    public static func currentHostname() -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        let rc = buf.withUnsafeMutableBufferPointer { p -> Int32 in
            guard let base = p.baseAddress else { return -1 }
            return base.withMemoryRebound(to: CChar.self, capacity: p.count) { gethostname($0, p.count - 1) }
        }
        guard rc == 0 else { return "" }
        let end = buf.firstIndex(of: 0) ?? buf.count
        return String(decoding: buf[..<end], as: UTF8.self)
    }
}
