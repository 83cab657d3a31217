import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

/// A thread-safe log of callback invocations.
final class CallbackLog: @unchecked Sendable {
    private let condition = NSCondition()
    private(set) var writable = 0
    private(set) var errors: [CaptureError] = []

    func noteWritable() {
        condition.lock()
        writable += 1
        condition.broadcast()
        condition.unlock()
    }

    func noteError(_ e: CaptureError) {
        condition.lock()
        errors.append(e)
        condition.broadcast()
        condition.unlock()
    }

    func snapshot() -> (writable: Int, errors: [CaptureError]) {
        condition.lock()
        defer { condition.unlock() }
        return (writable, errors)
    }

    /// Waits (up to 10 s) for `predicate`.
    func wait(until predicate: (Int, [CaptureError]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(writable, errors) {
            if !condition.wait(until: deadline) { return predicate(writable, errors) }
        }
        return true
    }
}

/// Files that stop accepting bytes after `limit` (as a full disk does): a real file system with ENOSPC.
final class LimitedFileStorage: CaptureStorage, @unchecked Sendable {
    let files = FileCaptureStorage()
    let lock = NSLock()
    var remaining: Int
    /// Blocks every write until opened, to hold the writer thread and build a backlog.
    let gate = NSCondition()
    var gateOpen = true
    var waitingAtGate = 0

    init(limit: Int) { remaining = limit }

    func createSegment(path: String, overwrite: Bool) throws(CaptureError) -> any CaptureSegmentSink {
        Sink(inner: try files.createSegment(path: path, overwrite: overwrite), storage: self, path: path)
    }

    func openSegment(path: String) throws(CaptureError) -> (any CaptureSegmentSource)? {
        try files.openSegment(path: path)
    }

    /// Waits (up to 10 s) until a write is blocked at the closed gate.
    func waitForBlockedWrite() -> Bool {
        let deadline = Date().addingTimeInterval(10)
        gate.lock()
        defer { gate.unlock() }
        while waitingAtGate == 0 {
            if !gate.wait(until: deadline) { return waitingAtGate > 0 }
        }
        return true
    }

    /// Writes waiting at the closed gate now.
    func blockedWrites() -> Int {
        gate.lock()
        defer { gate.unlock() }
        return waitingAtGate
    }

    func setGate(open: Bool) {
        gate.lock()
        gateOpen = open
        gate.broadcast()
        gate.unlock()
    }

    final class Sink: CaptureSegmentSink {
        let inner: any CaptureSegmentSink
        let storage: LimitedFileStorage
        let path: String

        init(inner: any CaptureSegmentSink, storage: LimitedFileStorage, path: String) {
            self.inner = inner
            self.storage = storage
            self.path = path
        }

        func write(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
            storage.gate.lock()
            if !storage.gateOpen {
                storage.waitingAtGate += 1
                storage.gate.broadcast()
                while !storage.gateOpen { storage.gate.wait() }
                storage.waitingAtGate -= 1
            }
            storage.gate.unlock()
            let n = storage.lock.withLock {
                let n = min(storage.remaining, bytes.count)
                storage.remaining -= n
                return n
            }
            try inner.write(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
            if n < bytes.count { throw CaptureError(.io(operation: "write", errno: ENOSPC), path: path) }
        }

        func synchronize() throws(CaptureError) { try inner.synchronize() }
        func close() throws(CaptureError) { try inner.close() }
    }
}

@Suite struct AsyncCaptureWriterTests {
    @Test func concurrentSubmittersKeepEveryRecordAndPerConnectionOrder() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let writer = try AsyncCaptureWriter(path: path, header: testHeader(), rotateBytes: 256 * 1024)
            let threads = 8
            let perThread = 2_000
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for i in 0..<perThread {
                    var payload = ByteBuffer()
                    payload.writeInteger(UInt32(i))
                    payload.writeRepeatingByte(UInt8(t), count: i % 300)
                    writer.submit(frame(UInt64(t), .request, payload, at: UInt64(i)))
                }
            }
            try writer.close()
            #expect(writer.backlogBytes == 0)
            #expect(writer.failure == nil)
            #expect(writer.segmentPaths.count > 1)

            let (records, reader) = try readCapture(path)
            #expect(reader.tornTail == nil)
            #expect(records.count == threads * perThread)
            var next = [UInt64: UInt32]()
            for r in records {
                guard case .frame(let f) = r else {
                    Issue.record("unexpected record \(r)")
                    continue
                }
                let seq = f.payload.getInteger(at: f.payload.readerIndex, as: UInt32.self)
                #expect(seq == next[f.connectionId, default: 0], "connection \(f.connectionId)")
                next[f.connectionId] = (seq ?? 0) + 1
            }
            #expect(next.count == threads && next.values.allSatisfy { $0 == UInt32(perThread) })
            let total = try reader.segmentPaths.reduce(Int64(0)) { $0 + Int64(try fileBytes($1).count) }
            #expect(total == writer.bytesWritten)
        }
    }

    @Test func backpressureIsSignalledAndLifted() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let storage = LimitedFileStorage(limit: .max)
            let log = CallbackLog()
            let writer = try AsyncCaptureWriter(
                path: path, header: testHeader(), storage: storage, highWaterMark: 1000, lowWaterMark: 200,
                onWritable: { log.noteWritable() }, onError: { log.noteError($0) })
            storage.setGate(open: false)  // the "disk" stalls
            let record = frame(1, .request, ByteBuffer(repeating: 1, count: 100))  // 139 bytes
            // The first record reaches the file writer, whose flush then blocks; the rest queue up.
            #expect(writer.submit(record))
            #expect(storage.waitForBlockedWrite())
            var accepted = 1
            var sawFalse = false
            for _ in 0..<50 {
                if writer.submit(record) {
                    accepted += 1
                } else {
                    sawFalse = true
                    break
                }
            }
            #expect(sawFalse)
            #expect(accepted == 1000 / record.encodedSize + 1)
            #expect(writer.isOverHighWaterMark)
            #expect(writer.backlogBytes > 1000 - record.encodedSize)
            // Still never drops: a submit over the mark is queued too.
            #expect(!writer.submit(record))
            #expect(log.snapshot().writable == 0)

            storage.setGate(open: true)
            #expect(log.wait { writable, _ in writable >= 1 })
            #expect(!writer.isOverHighWaterMark)
            #expect(writer.submit(record))
            try writer.close()
            #expect(log.snapshot().writable == 1)
            #expect(log.snapshot().errors.isEmpty)
            let (records, _) = try readCapture(path)
            #expect(records.count == accepted + 3)
        }
    }

    @Test func writeErrorRejectsLaterSubmitsAndKeepsEarlierDataReadable() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let headerSize = testHeader().encodedFileHeader().readableBytes
            let record = frame(1, .request, ByteBuffer(repeating: 1, count: 100), at: 1)
            // Room for the header, ten records and part of the eleventh.
            let storage = LimitedFileStorage(limit: headerSize + 10 * record.encodedSize + 50)
            let log = CallbackLog()
            let writer = try AsyncCaptureWriter(
                path: path, header: testHeader(), storage: storage, onError: { log.noteError($0) })
            for _ in 0..<10 { #expect(writer.submit(record)) }
            try writer.flush()
            for _ in 0..<10 { writer.submit(record) }
            #expect(throws: CaptureError.self) { try writer.flush() }
            #expect(log.wait { _, errors in !errors.isEmpty })
            let failure = try #require(writer.failure)
            #expect(failure.errno == ENOSPC)
            #expect(log.snapshot().errors == [failure])
            // How many of the second ten were written into the failing buffer, and how many were still
            // queued or submitted after the failure, depends on timing; together they are all of them.
            #expect(!writer.submit(record))
            #expect(writer.rejectedRecords >= 1)
            #expect(writer.rejectedRecords + writer.discardedRecords == 11)
            #expect(throws: failure) { try writer.close() }
            #expect(throws: failure) { try writer.close() }
            #expect(log.snapshot().errors.count == 1)

            let (records, reader) = try readCapture(path)
            #expect(records == Array(repeating: record, count: 10))
            let tail = try #require(reader.tornTail)
            #expect(tail.kind == .interruptedWrite)
            #expect(tail.bytesDiscarded == 50)
        }
    }

    @Test func flushMakesSubmittedRecordsReadable() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let writer = try AsyncCaptureWriter(path: path, header: testHeader())
            for r in sampleRecords() { writer.submit(r) }
            try writer.flush()
            let (records, reader) = try readCapture(path)
            #expect(records == sampleRecords())
            #expect(reader.tornTail == nil)
            try writer.close()
            #expect(!writer.submit(sampleRecords()[0]))
        }
    }

    @Test func droppingTheWriterStillClosesTheFile() throws {
        let storage = MemoryCaptureStorage()
        do {
            let writer = try AsyncCaptureWriter(path: "m", header: testHeader(), storage: storage)
            for r in sampleRecords() { writer.submit(r) }
        }
        let deadline = Date().addingTimeInterval(10)
        var records: [CaptureRecord] = []
        while Date() < deadline {
            records = (try? readCapture("m", storage: storage).0) ?? []
            if records.count == sampleRecords().count { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(records == sampleRecords())
    }

    /// A frame record of `bytes` bytes of payload on connection 1.
    static func numbered(_ i: Int, bytes: Int = 100) -> CaptureRecord {
        var payload = ByteBuffer()
        payload.writeInteger(Int32(i))
        payload.writeRepeatingByte(UInt8(i & 0xFF), count: bytes - 4)
        return frame(1, i % 2 == 0 ? .request : .response, payload, at: UInt64(i))
    }

    /// Records on disk, header excluded, without flushing (what a reader of the live file sees).
    static func recordsOnDisk(_ path: String) -> Int {
        (try? readCapture(path).0.count) ?? -1
    }

    @Test func withAFlushIntervalRecordsWaitForItThenGoOutInOneWrite() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let storage = CountingStorage()
            let writer = try AsyncCaptureWriter(
                writer: try CaptureWriter(path: path, header: testHeader(), storage: storage), flushInterval: 0.5)
            let start = Date()
            for i in 0..<20 { writer.submit(Self.numbered(i)) }
            // Before the interval is up nothing has been written (the header is the first write).
            usleep(100_000)
            if Date().timeIntervalSince(start) < 0.45 {
                #expect(storage.writes == 1, "records written before the interval was up")
                #expect(Self.recordsOnDisk(path) == 0)
            }
            // After it, all twenty are on disk without a flush, in one write.
            let deadline = Date().addingTimeInterval(10)
            while Self.recordsOnDisk(path) < 20 && Date() < deadline { usleep(20_000) }
            #expect(Self.recordsOnDisk(path) == 20)
            #expect(storage.writes == 2, "one write for the batch, got \(storage.writes - 1)")
            #expect(Date().timeIntervalSince(start) >= 0.5, "written before the interval")
            try writer.close()
        }
    }

    @Test func aFullBatchOrAFlushOrACloseDoesNotWaitForTheInterval() throws {
        try withTemporaryDirectory { dir in
            // An interval no test waits for: anything on disk got there by another way.
            let path = dir + "/cap.ktape"
            let writer = try AsyncCaptureWriter(
                writer: try CaptureWriter(path: path, header: testHeader()), flushInterval: 3_600, batchBytes: 10_000)
            // A batch: 120 records of about 130 bytes pass 10,000 bytes.
            for i in 0..<120 { writer.submit(Self.numbered(i)) }
            let deadline = Date().addingTimeInterval(10)
            while Self.recordsOnDisk(path) < 70 && Date() < deadline { usleep(20_000) }
            #expect(Self.recordsOnDisk(path) >= 70, "a full batch is written at once")
            // A flush writes what is pending at once.
            try writer.flush()
            #expect(Self.recordsOnDisk(path) == 120)
            writer.submit(Self.numbered(120))
            let before = Date()
            try writer.close()
            #expect(Date().timeIntervalSince(before) < 10, "close waited for the interval")
            #expect(Self.recordsOnDisk(path) == 121)
        }
    }

    /// Records that arrive while a batch is being written wait for their own interval, but the batch
    /// itself reaches the file in full at once: every record is either on disk or still queued, none
    /// is left in the write buffer behind them.
    @Test func aBatchIsFlushedWholeThoughMoreArrivedWhileItWasWritten() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let storage = LimitedFileStorage(limit: 1 << 30)
            let writer = try AsyncCaptureWriter(
                writer: try CaptureWriter(path: path, header: testHeader(), bufferSize: 4096, storage: storage),
                flushInterval: 3_600, batchBytes: 8_192)
            let size = Self.numbered(0).encodedSize
            storage.setGate(open: false)
            // Records until the writer has taken a full batch (at least 8 KiB: `perBatch` records or more)
            // and its first 4 KiB write waits at the gate; then ten more. What is queued after the batch is
            // less than a batch (the submitting stops at 100), so it waits for the interval.
            let perBatch = (8_192 + size - 1) / size
            var submitted = 0
            while storage.blockedWrites() == 0 && submitted < 100 {
                writer.submit(Self.numbered(submitted))
                submitted += 1
                if submitted > 70 { usleep(1_000) }
            }
            #expect(storage.waitForBlockedWrite())
            for _ in 0..<10 {
                writer.submit(Self.numbered(submitted))
                submitted += 1
            }
            storage.setGate(open: true)
            var accounted = 0
            let deadline = Date().addingTimeInterval(10)
            repeat {
                usleep(20_000)
                accounted = Self.recordsOnDisk(path) + writer.backlogBytes / size
            } while accounted != submitted && Date() < deadline
            #expect(accounted == submitted, "records neither on disk nor queued: \(submitted - accounted)")
            #expect(Self.recordsOnDisk(path) >= perBatch)
            #expect(Self.recordsOnDisk(path) < submitted, "the last ten did not wait for their interval")
            try writer.close()
            #expect(Self.recordsOnDisk(path) == submitted)
        }
    }

    @Test func aFlushIntervalKeepsOrderAndEveryRecordFromManySubmitters() throws {
        let storage = MemoryCaptureStorage()
        let writer = try AsyncCaptureWriter(
            writer: try CaptureWriter(path: "m", header: testHeader(), storage: storage), flushInterval: 0.002, batchBytes: 4096)
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for i in 0..<2_000 {
                var payload = ByteBuffer()
                payload.writeInteger(Int32(i))
                writer.submit(frame(UInt64(t), .request, payload, at: UInt64(i)))
                if i % 500 == 0 { usleep(3_000) }
            }
        }
        try writer.close()
        let (records, _) = try readCapture("m", storage: storage)
        #expect(records.count == 8_000)
        var next = [UInt64: Int32]()
        for case .frame(let f) in records {
            var p = f.payload
            let i = p.readInteger(as: Int32.self) ?? -1
            #expect(i == next[f.connectionId, default: 0], "connection \(f.connectionId) out of order")
            next[f.connectionId] = i + 1
        }
    }
}

/// Files, counting the writes that reach them.
final class CountingStorage: CaptureStorage, @unchecked Sendable {
    let files = FileCaptureStorage()
    let lock = NSLock()
    private var count = 0
    var writes: Int { lock.withLock { count } }

    func createSegment(path: String, overwrite: Bool) throws(CaptureError) -> any CaptureSegmentSink {
        Sink(inner: try files.createSegment(path: path, overwrite: overwrite), storage: self)
    }

    func openSegment(path: String) throws(CaptureError) -> (any CaptureSegmentSource)? {
        try files.openSegment(path: path)
    }

    final class Sink: CaptureSegmentSink {
        let inner: any CaptureSegmentSink
        let storage: CountingStorage
        init(inner: any CaptureSegmentSink, storage: CountingStorage) {
            self.inner = inner
            self.storage = storage
        }

        func write(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
            storage.lock.withLock { storage.count += 1 }
            try inner.write(bytes)
        }

        func synchronize() throws(CaptureError) { try inner.synchronize() }
        func close() throws(CaptureError) { try inner.close() }
    }
}
