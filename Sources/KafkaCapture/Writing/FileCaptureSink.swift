import NIOConcurrencyHelpers

/// `ProxyCaptureSink` over `AsyncCaptureWriter`: records are written on the writer's own thread,
/// never on an event loop; when the backlog passes the high-water mark the proxy stops reading until
/// the writer catches up. After a write error (disk full) forwarding goes on unrecorded, or stops,
/// as `stopForwardingOnError` says.
public final class FileCaptureSink: ProxyCaptureSink {
    public let writer: AsyncCaptureWriter
    private let handler = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)
    private let errorHandler: @Sendable (CaptureError) -> Void

    public init(
        path: String, header: CaptureHeader, rotateBytes: Int? = nil, overwrite: Bool = false,
        highWaterMark: Int = AsyncCaptureWriter.defaultHighWaterMark,
        onError: @escaping @Sendable (CaptureError) -> Void = { _ in }, publishLater: Bool = false
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
            }, publishLater: publishLater)
    }

    /// Moves a capture created with `publishLater` to its path (see `CaptureStaging`).
    public func publish() throws(CaptureError) {
        try writer.staging.publish()
    }

    public func submit(_ record: CaptureRecord) -> Bool {
        writer.submit(record) || writer.failure != nil
    }

    public var isWritable: Bool { writer.failure != nil || !writer.isOverHighWaterMark }

    public func setWritabilityHandler(_ handler: @escaping @Sendable () -> Void) {
        self.handler.withLockedValue { $0 = handler }
    }

    public var bytesWritten: Int { Int(writer.bytesWritten) }

    public var backlogBytes: Int { writer.backlogBytes }

    public var failure: (any Error)? { writer.failure }

    public func close() throws(CaptureError) {
        try writer.close()
    }
}
