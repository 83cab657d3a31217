/// Where the proxy sends capture records. Implementations must never block the caller (an event
/// loop) and never drop a record: `submit` always accepts, and returns false when the backlog is
/// over its high-water mark, which makes every connection stop reading until `onWritable` runs.
public protocol ProxyCaptureSink: AnyObject, Sendable {
    /// Queues `record` without blocking; false asks the proxy to stop reading until the writability handler runs.
    func submit(_ record: CaptureRecord) -> Bool
    /// Whether the backlog is below its high-water mark (a connection resumes reading only then).
    var isWritable: Bool { get }
    /// Called (on any thread) when the backlog fell back below the low-water mark.
    func setWritabilityHandler(_ handler: @escaping @Sendable () -> Void)
    /// Bytes written to storage so far.
    var bytesWritten: Int { get }
    /// Bytes submitted but not yet written.
    var backlogBytes: Int { get }
    /// The first write error, once recording has failed.
    var failure: (any Error)? { get }
}

extension ProxyCaptureSink {
    /// Sinks that write synchronously have no backlog.
    public var backlogBytes: Int { 0 }
}
