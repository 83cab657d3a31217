import Foundation
import NIOCore

/// A `CaptureWriter` on a dedicated background thread, for the proxy's event loops.
///
/// `submit(_:)` never blocks and never drops a record: it always queues (until the writer fails or is
/// closed). It returns false once the queued bytes exceed `highWaterMark`; the caller should then
/// stop reading its sockets, and resume when `onWritable` fires, which it does once the backlog
/// falls to `lowWaterMark`. That is how a slow disk slows the clients down instead of growing memory
/// without bound.
///
/// The background thread writes records in the order they were submitted (so per-connection order
/// is whatever order each connection submitted in), and flushes to the operating system whenever its
/// queue runs empty, so a killed process loses only what was still queued.
///
/// With a `flushInterval`, the thread gathers records for up to that long after the first one of a batch
/// arrives (or until `batchBytes` are queued, or a `flush()` or `close()`), then writes them together:
/// one wake-up of the thread and one `write(2)` per interval instead of per record. Submitters wake the
/// thread only when it sleeps on an empty queue or the batch is full. A process killed with SIGKILL then
/// loses up to one interval of records; `close()` and `flush()` still write everything.
///
/// When a write fails (`ENOSPC`), `onError` is called once, the records still queued are discarded,
/// later submits are rejected (they return false and `failure` says why), `onWritable` is not called
/// again, and what reached the file stays readable. `close()` drains, flushes, closes and throws the
/// first error. Callbacks run on the writer thread and must not block (hop to an event loop).
public final class AsyncCaptureWriter: Sendable {
    private let core: Core
    /// The first segment's staging (see `CaptureWriter.init`'s `publishLater`).
    public let staging: CaptureStaging

    /// Default high-water mark: 32 MiB queued.
    public static let defaultHighWaterMark = 32 << 20

    /// Default batch size that wakes the writer before its `flushInterval` is up: 256 KiB, the
    /// `CaptureWriter`'s write buffer.
    public static let defaultBatchBytes = CaptureWriter.defaultBufferSize

    /// Takes over `writer` (do not use it afterwards) and starts the writer thread.
    ///
    /// - Parameters:
    ///   - highWaterMark: Backlog in bytes above which `submit` returns false.
    ///   - lowWaterMark: Backlog at or below which `onWritable` fires after a `false`; half the high-water
    ///     mark by default.
    ///   - onWritable: Called (on the writer thread) when a paused caller may resume reading.
    ///   - onError: Called once (on the writer thread) with the first write error.
    ///   - flushInterval: Seconds the thread gathers records before writing them (0: write as soon as
    ///     they arrive).
    ///   - batchBytes: Queued bytes that end the gathering early.
    public init(
        writer: sending CaptureWriter, highWaterMark: Int = AsyncCaptureWriter.defaultHighWaterMark,
        lowWaterMark: Int? = nil, onWritable: @escaping @Sendable () -> Void = {},
        onError: @escaping @Sendable (CaptureError) -> Void = { _ in }, flushInterval: Double = 0,
        batchBytes: Int = AsyncCaptureWriter.defaultBatchBytes
    ) {
        staging = writer.staging
        let high = max(1, highWaterMark)
        let low = min(max(0, lowWaterMark ?? high / 2), high)
        core = Core(
            writer: writer, high: high, low: low, onWritable: onWritable, onError: onError,
            flushInterval: max(0, flushInterval), batchBytes: max(1, batchBytes))
        core.start()
    }

    /// Creates the capture file (see `CaptureWriter.init`) and starts the writer thread.
    public convenience init(
        path: String, header: CaptureHeader, rotateBytes: Int? = nil, overwrite: Bool = false,
        storage: any CaptureStorage = FileCaptureStorage(), highWaterMark: Int = AsyncCaptureWriter.defaultHighWaterMark,
        lowWaterMark: Int? = nil, onWritable: @escaping @Sendable () -> Void = {},
        onError: @escaping @Sendable (CaptureError) -> Void = { _ in }, publishLater: Bool = false,
        flushInterval: Double = 0
    ) throws(CaptureError) {
        let writer = try CaptureWriter(
            path: path, header: header, rotateBytes: rotateBytes, overwrite: overwrite, storage: storage,
            publishLater: publishLater)
        self.init(
            writer: writer, highWaterMark: highWaterMark, lowWaterMark: lowWaterMark, onWritable: onWritable,
            onError: onError, flushInterval: flushInterval)
    }

    deinit {
        // Dropped without close(): the thread still drains and closes the file, unobserved.
        core.requestClose()
    }

    /// Queues a record. Returns true while the caller may keep reading; false when the backlog is over
    /// the high-water mark (the record was queued; wait for `onWritable`) or the writer has failed or
    /// been closed (the record was not queued; see `failure`).
    @discardableResult
    public func submit(_ record: CaptureRecord) -> Bool {
        core.submit(record)
    }

    /// Bytes submitted and not yet handed to the file writer.
    public var backlogBytes: Int { core.withLock { core.queuedBytes } }

    /// Bytes of capture written so far (see `CaptureWriter.bytesWritten`), as of the last batch.
    public var bytesWritten: Int64 { core.withLock { core.bytesWritten } }

    /// Whether the last `submit` crossed the high-water mark and `onWritable` has not fired since.
    public var isOverHighWaterMark: Bool { core.withLock { core.paused } }

    /// The first write error, once there is one.
    public var failure: CaptureError? { core.withLock { core.failure } }

    /// Submits refused because the writer had failed or was closed.
    public var rejectedRecords: Int { core.withLock { core.rejected } }

    /// Records accepted by `submit` that did not make it to the file because the writer failed: those
    /// still queued, plus those in the write buffer (`CaptureWriter.lostRecordCount`).
    public var discardedRecords: Int { core.withLock { core.discarded + core.lostInWriter } }

    /// Paths of the segments created so far.
    public var segmentPaths: [String] { core.withLock { core.segmentPaths } }

    /// Blocks until every record submitted before the call has been handed to the operating system.
    /// Not for event-loop threads. Throws the writer's failure, if any.
    public func flush() throws(CaptureError) {
        try core.flush()
    }

    /// Writes everything queued, flushes, syncs and closes the file, and stops the thread; blocks until
    /// done. Throws the first I/O error (the same one `onError` received). Calling it again returns the
    /// same outcome.
    public func close() throws(CaptureError) {
        try core.close()
    }
}

extension AsyncCaptureWriter {
    /// The state shared with the writer thread. Every `var` is guarded by `condition`, except
    /// `writer`, which only the writer thread touches.
    fileprivate final class Core: @unchecked Sendable {
        let condition = NSCondition()
        let high: Int
        let low: Int
        let onWritable: @Sendable () -> Void
        let onError: @Sendable (CaptureError) -> Void
        let flushInterval: Double
        let batchBytes: Int
        private let writer: CaptureWriter

        var pending: [CaptureRecord] = []
        /// Bytes in `pending` (`queuedBytes` also counts the batch being written).
        var pendingBytes = 0
        /// The writer thread sleeps on an empty queue and must be woken by the next submit.
        var idle = false
        /// The writer thread is gathering a batch and must be woken when it is full.
        var gathering = false
        /// When the oldest record in `pending` arrived (kept only with a flush interval).
        var firstPendingAt = Date.distantPast
        var queuedBytes = 0
        var paused = false
        var closing = false
        var finished = false
        var failure: CaptureError?
        var bytesWritten: Int64
        var segmentPaths: [String]
        var rejected = 0
        var discarded = 0
        var lostInWriter = 0
        var flushRequested: UInt64 = 0
        var flushCompleted: UInt64 = 0

        /// Update the shared backlog after about this many bytes written.
        private static let progressInterval = 1 << 20

        init(
            writer: CaptureWriter, high: Int, low: Int, onWritable: @escaping @Sendable () -> Void,
            onError: @escaping @Sendable (CaptureError) -> Void, flushInterval: Double, batchBytes: Int
        ) {
            self.writer = writer
            self.flushInterval = flushInterval
            self.batchBytes = batchBytes
            self.high = high
            self.low = low
            self.onWritable = onWritable
            self.onError = onError
            self.bytesWritten = writer.bytesWritten
            self.segmentPaths = writer.segmentPaths
            self.failure = writer.failure
        }

        func withLock<T>(_ body: () -> T) -> T {
            condition.lock()
            defer { condition.unlock() }
            return body()
        }

        func start() {
            let thread = Thread { [self] in run() }
            thread.name = "kafkatape-capture-writer"
            thread.start()
        }

        func submit(_ record: CaptureRecord) -> Bool {
            let size = record.encodedSize
            condition.lock()
            defer { condition.unlock() }
            if failure != nil || closing {
                rejected += 1
                return false
            }
            if pending.isEmpty && flushInterval > 0 { firstPendingAt = Date() }
            pending.append(record)
            pendingBytes += size
            queuedBytes += size
            // Wake the writer thread only when it sleeps on an empty queue, or gathers a batch that is now
            // full. Broadcast, not signal: flush() and close() callers wait on the same condition and must
            // not swallow the wake-up.
            if idle {
                idle = false
                condition.broadcast()
            } else if gathering && pendingBytes >= batchBytes {
                gathering = false
                condition.broadcast()
            }
            if queuedBytes > high {
                paused = true
                return false
            }
            return true
        }

        func requestClose() {
            condition.lock()
            closing = true
            condition.broadcast()
            condition.unlock()
        }

        func close() throws(CaptureError) {
            condition.lock()
            closing = true
            condition.broadcast()
            while !finished { condition.wait() }
            let failure = self.failure
            condition.unlock()
            if let failure { throw failure }
        }

        func flush() throws(CaptureError) {
            condition.lock()
            flushRequested += 1
            let ticket = flushRequested
            condition.broadcast()
            while flushCompleted < ticket && !finished { condition.wait() }
            let failure = self.failure
            condition.unlock()
            if let failure { throw failure }
        }

        // MARK: Writer thread

        private func run() {
            condition.lock()
            while true {
                while pending.isEmpty && !closing && flushCompleted == flushRequested {
                    idle = true
                    condition.wait()
                }
                idle = false
                gatherBatch()
                if pending.isEmpty {
                    // A flush request, or closing with nothing left to write.
                    let ticket = flushRequested
                    condition.unlock()
                    let error = flushWriter()
                    condition.lock()
                    lostInWriter = writer.lostRecordCount
                    let report = fail(error)
                    flushCompleted = ticket
                    condition.broadcast()
                    if let report {
                        condition.unlock()
                        onError(report)
                        condition.lock()
                    }
                    if closing && pending.isEmpty { break }
                    continue
                }
                var batch: [CaptureRecord] = []
                swap(&batch, &pending)
                pendingBytes = 0
                let failedAlready = failure != nil
                condition.unlock()
                writeBatch(batch, failed: failedAlready)
                condition.lock()
                // The backlog is drained, or a batch was gathered for its interval: hand the bytes to the OS
                // so a killed process loses nothing written. (Without the second, a batch followed by
                // records that arrived while it was written would stay in the write buffer for the next
                // interval, and the next, as long as traffic kept coming.)
                if (pending.isEmpty || flushInterval > 0) && failure == nil {
                    condition.unlock()
                    let error = flushWriter()
                    condition.lock()
                    lostInWriter = writer.lostRecordCount
                    if let report = fail(error) {
                        condition.unlock()
                        onError(report)
                        condition.lock()
                    }
                }
            }
            condition.unlock()

            var closeError: CaptureError?
            do {
                try writer.close()
            } catch {
                closeError = error
            }
            condition.lock()
            let report = fail(closeError)
            bytesWritten = writer.bytesWritten
            lostInWriter = writer.lostRecordCount
            finished = true
            condition.broadcast()
            condition.unlock()
            if let report { onError(report) }
        }

        /// With a flush interval, waits (lock held, released while waiting) until the oldest pending
        /// record has waited the interval, the pending records fill a batch, or a flush or close is asked for.
        private func gatherBatch() {
            guard flushInterval > 0, !pending.isEmpty else { return }
            let deadline = firstPendingAt.addingTimeInterval(flushInterval)
            while !closing && flushCompleted == flushRequested && failure == nil && pendingBytes < batchBytes {
                gathering = true
                if !condition.wait(until: deadline) { break }
            }
            gathering = false
        }

        /// Records `error` as the failure if it is the first; returns it when `onError` should hear of it.
        /// Call with the lock held.
        private func fail(_ error: CaptureError?) -> CaptureError? {
            guard let error, failure == nil else { return nil }
            failure = error
            paused = false
            return error
        }

        private func flushWriter() -> CaptureError? {
            guard writer.failure == nil else { return nil }
            do {
                try writer.flush()
                return nil
            } catch {
                return error
            }
        }

        /// Appends `batch`, updating the shared backlog every `progressInterval` bytes.
        private func writeBatch(_ batch: [CaptureRecord], failed: Bool) {
            var failed = failed
            var done = 0
            var dropped = 0
            for record in batch {
                let size = record.encodedSize
                if !failed {
                    do {
                        try writer.append(record)
                    } catch {
                        // An I/O error, or a record over the format's size limit: either way the capture
                        // cannot stay complete, so stop rather than silently miss a record.
                        report(error)
                        failed = true
                        dropped += 1
                    }
                } else {
                    dropped += 1
                }
                done += size
                if done >= Self.progressInterval {
                    progress(bytes: done, dropped: dropped)
                    done = 0
                    dropped = 0
                }
            }
            progress(bytes: done, dropped: dropped)
        }

        private func report(_ error: CaptureError) {
            condition.lock()
            let first = fail(error)
            condition.unlock()
            if let first { onError(first) }
        }

        private func progress(bytes: Int, dropped: Int) {
            condition.lock()
            queuedBytes -= bytes
            discarded += dropped
            lostInWriter = writer.lostRecordCount
            bytesWritten = writer.bytesWritten
            segmentPaths = writer.segmentPaths
            var resume = false
            if paused && queuedBytes <= low && failure == nil {
                paused = false
                resume = true
            }
            condition.unlock()
            if resume { onWritable() }
        }
    }
}
