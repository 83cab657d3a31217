import Foundation
import KafkaTape

/// A capture that lives in memory: give it to `withRecordingProxy(upstream:sink:)` (or a `Replayer`)
/// and read the records, the paired session, or a check report back, with no file involved.
public final class InMemoryCaptureSink: ProxyCaptureSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [CaptureRecord] = []
    private var size = 0

    /// An empty capture.
    public init() {}

    /// Always accepts (memory is the only limit): there is no backlog to wait for.
    public func submit(_ record: CaptureRecord) -> Bool {
        lock.withLock {
            stored.append(record)
            size += record.encodedSize
        }
        return true
    }

    /// Always true: memory never pushes back, so the proxy never pauses its reads for this sink.
    public var isWritable: Bool { true }
    /// Never called: the sink is always writable, so there is no change of writability to report.
    public func setWritabilityHandler(_ handler: @escaping @Sendable () -> Void) {}
    /// The size the records would have in a capture file.
    public var bytesWritten: Int { lock.withLock { size } }
    /// Always nil: appending to an array cannot fail the way a disk write can.
    public var failure: (any Error)? { nil }

    /// Every record so far, in order.
    public var records: [CaptureRecord] { lock.withLock { stored } }

    /// The records as a session: connections with their paired exchanges (what diff and serve use).
    public var session: RecordedSession { RecordedSession(records: records) }

    /// Writes the records to a capture file (to keep a failing test's traffic, say).
    public func write(to path: String, overwrite: Bool = false) throws {
        let writer = try CaptureWriter(
            path: path, header: CaptureHeader.recording(upstream: "memory"), overwrite: overwrite)
        for r in records { try writer.append(r) }
        try writer.close()
    }
}
