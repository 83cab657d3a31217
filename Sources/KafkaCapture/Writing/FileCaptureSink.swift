import NIOConcurrencyHelpers

/// `ProxyCaptureSink` over `AsyncCaptureWriter`: records are written on the writer's own thread,
/// never on an event loop; when the backlog passes the high-water mark the proxy stops reading until
/// the writer catches up. After a write error (disk full) forwarding goes on unrecorded, or stops,
/// as `stopForwardingOnError` says.
public final class FileCaptureSink: ProxyCaptureSink {
    /// The writer behind the sink, for its segment paths and statistics.
    public let writer: AsyncCaptureWriter
    private let handler = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)
    private let errorHandler: @Sendable (CaptureError) -> Void

    /// Seconds the writer gathers records before writing them, unless told otherwise: 5 ms. Measured side
    /// by side with writing at once (BENCHMARKS.md, proxy section); a SIGKILL loses about this much.
    public static let defaultFlushInterval = 0.005

    /// Creates the capture at `path` (see `AsyncCaptureWriter` for rotation, overwriting, the high-water
    /// mark and the flush interval); `onError` hears about a write error once, on the writer's thread;
    /// with `publishLater` the file stays staged until `publish()`.
    public init(
        path: String, header: CaptureHeader, rotateBytes: Int? = nil, overwrite: Bool = false,
        highWaterMark: Int = AsyncCaptureWriter.defaultHighWaterMark,
        onError: @escaping @Sendable (CaptureError) -> Void = { _ in }, publishLater: Bool = false,
        flushInterval: Double = FileCaptureSink.defaultFlushInterval
    ) throws(CaptureError) {
        let box = handler
        errorHandler = onError
        writer = try AsyncCaptureWriter(
            path: path, header: header, rotateBytes: rotateBytes, overwrite: overwrite, highWaterMark: highWaterMark,
            onWritable: { box.withLockedValue { $0 }?() },
            onError: { error in
                onError(error)
                // Readers paused on the backlog must not wait for a writer that will never drain.
                box.withLockedValue { $0 }?()
            }, publishLater: publishLater, flushInterval: flushInterval)
    }

    /// Moves a capture created with `publishLater` to its path (see `CaptureStaging`).
    public func publish() throws(CaptureError) {
        try writer.staging.publish()
    }

    /// Queues `record`; false when the backlog is over the high-water mark. After a write error it accepts
    /// and discards, so forwarding is not paused for a writer that will never drain.
    public func submit(_ record: CaptureRecord) -> Bool {
        writer.submit(record) || writer.failure != nil
    }

    /// False while the backlog is over the high-water mark (true again after a write error: nothing will drain).
    public var isWritable: Bool { writer.failure != nil || !writer.isOverHighWaterMark }

    /// Remembers the one handler to call when the backlog drains (or the writer fails).
    public func setWritabilityHandler(_ handler: @escaping @Sendable () -> Void) {
        self.handler.withLockedValue { $0 = handler }
    }

    /// Bytes written to the capture so far, across segments.
    public var bytesWritten: Int { Int(writer.bytesWritten) }

    /// Bytes submitted and not yet written.
    public var backlogBytes: Int { writer.backlogBytes }

    /// The write error that stopped the capture, if any.
    public var failure: (any Error)? { writer.failure }

    /// Writes the backlog, closes the capture and releases its lock.
    public func close() throws(CaptureError) {
        try writer.close()
    }
}
