import NIOCore

extension CaptureWriter {
    /// Writes `records` frame records of `payloadBytes` each to a new capture at `path` (replacing
    /// it), closes it (including the final `fsync`) and returns the capture's size and the time taken.
    /// `vectoredMinPayload` as in `init` (nil: copy every payload into the write buffer).
    /// For `kafkatape bench`; not a test.
    /// `beforeClose` runs once every record was handed to the operating system, before the final `fsync`.
    /// `distinctPayloadBytes`: spread the payloads over this many bytes of distinct buffers (as a
    /// proxy's payloads are, fresh from sockets, mostly out of the CPU caches) instead of one buffer.
    package static func benchmarkWrite(
        records: Int, payloadBytes: Int, path: String, vectoredMinPayload: Int? = CaptureWriter.defaultVectoredMinPayload,
        distinctPayloadBytes: Int = 0, storage: any CaptureStorage = FileCaptureStorage(),
        beforeClose: () -> Void = {}
    ) throws -> (bytes: Int, seconds: Double) {
        var payload = ByteBufferAllocator().buffer(capacity: payloadBytes)
        for i in 0..<payloadBytes { payload.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ 7)) }
        let pool = (0..<max(1, min(records, distinctPayloadBytes / max(1, payloadBytes)))).map { _ in
            ByteBuffer(bytes: payload.readableBytesView)
        }
        let header = CaptureHeader(
            toolVersion: "kafkatape-bench", startTime: CaptureTimestamp(monotonicNs: 0, wallNs: 0),
            listenAddress: "bench", upstreamAddress: "bench", hostname: "bench")
        let clock = ContinuousClock()
        let start = clock.now
        let writer = try CaptureWriter(
            path: path, header: header, overwrite: true, storage: storage, vectoredMinPayload: vectoredMinPayload)
        for i in 0..<records {
            let frame = FrameRecord(
                time: CaptureTimestamp(monotonicNs: UInt64(i) &* 1000, wallNs: Int64(i) &* 1000),
                connectionId: UInt64(i % 16), direction: i % 2 == 0 ? .request : .response, payload: pool[i % pool.count])
            try writer.append(.frame(frame))
        }
        try writer.flush()
        beforeClose()
        try writer.close()
        let elapsed = start.duration(to: clock.now)
        return (Int(writer.bytesWritten), seconds(elapsed))
    }
}

extension CaptureReader {
    /// Reads every record of the capture at `path` and returns how many, the bytes read and the time
    /// taken. For `kafkatape bench`; not a test.
    package static func benchmarkRead(path: String) throws -> (records: Int, bytes: Int, seconds: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let reader = try CaptureReader(path: path)
        var bytes = 0
        while let record = try reader.next() { bytes += record.encodedSize }
        let elapsed = start.duration(to: clock.now)
        return (reader.recordCount, bytes, seconds(elapsed))
    }
}

private func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
}
