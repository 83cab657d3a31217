import Foundation
import KafkaCapture
import KafkaProtocol
import NIOCore

// kafkatape-bench: throughput figures for the codec and the capture writer (not tests: run it in
// release mode through tools/bench-codec). Every figure is measured in this process, side by side.
//
//   kafkatape-bench codec     framing MB/s, FetchResponse (with record batches) decode MB/s, CRC-32C hw vs sw
//   kafkatape-bench capture   capture write MB/s (1 KB frames)
//   kafkatape-bench capture-cpu   CPU time per MB of capture written: copied or writev, preallocated or not, dropped behind or not
//   kafkatape-bench relay LISTEN UPSTREAM [--tee FILE]   the proxy benchmark's floor (Relay.swift)

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Runs `body` repeatedly for about `seconds`, returning (iterations, elapsed).
func measure(seconds: Double = 2, _ body: () throws -> Void) rethrows -> (Int, Double) {
    try body()  // warm up
    let start = now()
    var n = 0
    while now() - start < seconds {
        try body()
        n += 1
    }
    return (n, now() - start)
}

func fetchResponseFrame(partitions: Int, recordsPerBatch: Int, valueBytes: Int, compression: KafkaCompression) throws -> ByteBuffer {
    var response = FetchResponse()
    var topic = FetchResponse.FetchableTopicResponse()
    topic.topic = "bench"
    topic.topicId = KafkaUUID(high: 1, low: 2)
    for p in 0..<partitions {
        var records: [KafkaRecord] = []
        for i in 0..<recordsPerBatch {
            let value = ByteBuffer(bytes: (0..<valueBytes).map { UInt8(truncatingIfNeeded: ($0 &* 7) &+ i) })
            records.append(KafkaRecord(offset: Int64(i), timestamp: 1_700_000_000_000 + Int64(i), key: ByteBuffer(string: "key-\(i)"), value: value, headers: [KafkaRecordHeader(key: "h", value: ByteBuffer(string: "v"))]))
        }
        let batch = KafkaRecordBatch(baseOffset: 0, records: records)
        var part = FetchResponse.PartitionData()
        part.partitionIndex = Int32(p)
        part.highWatermark = Int64(recordsPerBatch)
        part.records = try KafkaRecords.encodeBatch(batch, compression: compression)
        topic.partitions.append(part)
    }
    response.responses = [topic]
    var header = ResponseHeader()
    header.correlationId = 7
    return KafkaFrameCodec.encodeResponse(header: header, body: response, apiKey: 1, apiVersion: 16)
}

func codecBench() throws {
    print("== codec (release build, one core)")
    // Framing: a stream of 1 KB frames.
    var stream = ByteBuffer()
    let payload = ByteBuffer(bytes: [UInt8](repeating: 0x5a, count: 1024))
    for _ in 0..<16_384 {
        stream.writeInteger(Int32(payload.readableBytes))
        stream.writeImmutableBuffer(payload)
    }
    let framer = KafkaFramer()
    var frames = 0
    let (n1, t1) = try measure {
        var s = stream
        while let f = try framer.next(from: &s) { frames &+= f.readableBytes }
    }
    // Frames are zero-copy slices: this is the cost of checking sizes and slicing, per frame.
    print(String(format: "framing 1 KB frames (zero-copy):     %8.0f MB/s, %6.1f M frames/s", Double(stream.readableBytes * n1) / t1 / 1e6, Double(16_384 * n1) / t1 / 1e6))

    for (codec, label) in [(KafkaCompression.none, "none"), (.lz4, "lz4"), (.zstd, "zstd"), (.gzip, "gzip"), (.snappy, "snappy")] {
        let frame = try fetchResponseFrame(partitions: 8, recordsPerBatch: 200, valueBytes: 512, compression: codec)
        var decodedRecords = 0
        // Full decoding: header + body + every record batch (decompressed) + every record.
        let (n, t) = try measure {
            let r = try KafkaFrameCodec.decodeResponse(frame, apiKey: 1, apiVersion: 16)
            guard let f = r.body as? FetchResponse else { return }
            for topic in f.responses {
                for p in topic.partitions {
                    if let b = p.records { decodedRecords &+= try KafkaRecords.decode(b).records.count }
                }
            }
        }
        print(String(format: "FetchResponse full decode (%-6@):  %8.0f MB/s of frame, %8.0f records/s (frame %d KB)",
                     label as NSString, Double(frame.readableBytes * n) / t / 1e6, Double(8 * 200 * n) / t, frame.readableBytes / 1024))
    }
    let frame = try fetchResponseFrame(partitions: 8, recordsPerBatch: 200, valueBytes: 512, compression: .none)
    let (n2, t2) = try measure {
        _ = try KafkaFrameCodec.decodeResponse(frame, apiKey: 1, apiVersion: 16)
    }
    print(String(format: "FetchResponse message only (records left as byte slices): %8.0f MB/s, %8.0f responses/s", Double(frame.readableBytes * n2) / t2 / 1e6, Double(n2) / t2))

    // CRC-32C, hardware vs the portable slicing-by-8, on the same 1 MiB buffer.
    let data = [UInt8]((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
    var sink: UInt32 = 0
    let (nh, th) = measure(seconds: 1) { data.withUnsafeBytes { sink ^= CRC32C.checksum($0) } }
    let (ns, ts) = measure(seconds: 1) { data.withUnsafeBytes { sink ^= CRC32C.softwareChecksum($0) } }
    let hw = Double(data.count * nh) / th / 1e6
    let sw = Double(data.count * ns) / ts / 1e6
    print(String(format: "CRC-32C hardware (%@):              %8.0f MB/s", CRC32C.isHardwareAccelerated ? "sse4.2" : "none", hw))
    print(String(format: "CRC-32C slicing-by-8:                %8.0f MB/s  (hardware/software = %.1fx)", sw, hw / sw))
    if sink == 0x1234_5678 { print("") }
}

func captureBench() throws {
    print("== capture writer (release build)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-bench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    for (count, size) in [(200_000, 256), (200_000, 1024), (50_000, 4096), (20_000, 16_384), (8_000, 65_536), (2_000, 1 << 20)] {
        let path = dir.appendingPathComponent("w-\(size).ktape").path
        // Side by side, alternating, best of three: each payload copied into the write buffer, then
        // written in place with writev.
        // The payloads either one hot buffer, or spread over 256 MiB of distinct ones (cold, like a
        // proxy's: fresh from sockets).
        for (label, distinct) in [("hot ", 0), ("cold", 256 << 20)] {
            var copy = 0.0
            var vectored = 0.0
            for _ in 0..<3 {
                let c = try CaptureWriter.benchmarkWrite(
                    records: count, payloadBytes: size, path: path, vectoredMinPayload: nil, distinctPayloadBytes: distinct)
                copy = max(copy, Double(c.bytes) / c.seconds / 1e6)
                let v = try CaptureWriter.benchmarkWrite(
                    records: count, payloadBytes: size, path: path, vectoredMinPayload: 1, distinctPayloadBytes: distinct)
                vectored = max(vectored, Double(v.bytes) / v.seconds / 1e6)
            }
            print(
                String(
                    format: "write %6d x %7d B frames, %@ payloads: copy %6.0f MB/s, writev %6.0f MB/s (%.2fx; fsync included)",
                    count, size, label, copy, vectored, vectored / copy))
        }
        let rr = try CaptureReader.benchmarkRead(path: path)
        print(String(format: "read  %6d x %7d B frames: %8.0f MB/s", rr.records, size, Double(rr.bytes) / rr.seconds / 1e6))
    }
}

/// This process's CPU time (user + system), in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The capture writer's CPU cost per MB written, for the choices that change it: payloads copied into
/// the write buffer or written in place (writev), blocks preallocated or not. CPU time, not wall time,
/// so that a loaded machine changes the figures less; split at the moment every record was handed to
/// the kernel (`write`) and after the final `fsync` (which, in this process, includes the writeback
/// that a proxy leaves to the kernel's flusher threads). Variants rotate; median of the rounds.
func captureCPUBench(rounds: Int = 5) throws {
    print("== capture writer CPU per MB written (release build; median of \(rounds) rotated rounds, cold payloads)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-bench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let variants: [(String, Int?, Bool, Bool)] = [
        ("copy", nil, false, false), ("copy + prealloc", nil, true, false), ("writev + prealloc", 1, true, false),
        ("writev", 1, false, false), ("copy+prealloc+drop", nil, true, true),
    ]
    for (count, size, roundsHere, only) in [
        (131_072, 1024, rounds, nil), (2048, 65_536, rounds, nil), (128, 1 << 20, rounds, nil),
        // A long capture, where the page cache grows by what is written: the case drop-behind is for.
        (524_288, 2048, 3, Set([1, 4])),
    ] as [(Int, Int, Int, Set<Int>?)] {
        // Each run writes a new file and the files stay until the group is done, as a capture that
        // grows does: truncating one file over and over would hand its freed pages to the next run.
        defer {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
                try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
            }
        }
        var write = [[Double]](repeating: [], count: variants.count)
        var total = [[Double]](repeating: [], count: variants.count)
        var mb = 0.0
        for round in 0..<roundsHere {
            for k in 0..<variants.count {
                let i = (k + round) % variants.count
                if let only, !only.contains(i) { continue }
                let path = dir.appendingPathComponent("c-\(size)-\(round)-\(i).ktape").path
                let (_, vectored, prealloc, drop) = variants[i]
                // The payloads are built (and their pages touched) outside the measured part.
                let pool = (0..<max(1, min(count, (256 << 20) / size))).map { _ in
                    ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
                }
                let header = CaptureHeader(
                    toolVersion: "kafkatape-bench", startTime: CaptureTimestamp(monotonicNs: 0, wallNs: 0),
                    listenAddress: "bench", upstreamAddress: "bench", hostname: "bench")
                let start = processCPUSeconds()
                let writer = try CaptureWriter(
                    path: path, header: header, overwrite: true, storage: FileCaptureStorage(preallocate: prealloc, dropBehind: drop),
                    vectoredMinPayload: vectored)
                for n in 0..<count {
                    let frame = FrameRecord(
                        time: CaptureTimestamp(monotonicNs: UInt64(n) &* 1000, wallNs: Int64(n) &* 1000),
                        connectionId: UInt64(n % 16), direction: n % 2 == 0 ? .request : .response, payload: pool[n % pool.count])
                    try writer.append(.frame(frame))
                }
                try writer.flush()
                let atWrite = processCPUSeconds()
                try writer.close()
                let end = processCPUSeconds()
                mb = Double(writer.bytesWritten) / 1e6
                write[i].append((atWrite - start) / mb * 1e6)
                total[i].append((end - start) / mb * 1e6)
            }
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        for (i, v) in variants.enumerated() where only?.contains(i) ?? true {
            let base = only?.min() ?? 0
            print(
                String(
                    format: "%4d MB of %7d B frames, %@: %6.0f us CPU/MB to write(2), %6.0f us/MB with fsync (%.2fx / %.2fx of the first)",
                    Int(mb), size, v.0.padding(toLength: 18, withPad: " ", startingAt: 0), median(write[i]), median(total[i]),
                    median(write[i]) / median(write[base]), median(total[i]) / median(total[base])))
        }
    }
}

let args = CommandLine.arguments.dropFirst()
do {
    switch args.first {
    case "codec": try codecBench()
    case "capture": try captureBench()
    case "capture-cpu": try captureCPUBench()
    case "relay":
        let a = Array(args)
        let tee = a.count == 5 && a[3] == "--tee" ? a[4] : nil
        guard a.count == 3 || tee != nil, let listen = Int(a[1]), let upstream = Int(a[2]) else {
            FileHandle.standardError.write(Data("usage: kafkatape-bench relay LISTEN_PORT UPSTREAM_PORT [--tee FILE]\n".utf8))
            exit(2)
        }
        try Relay.run(listenPort: listen, upstreamPort: upstream, teePath: tee)
    case nil:
        try codecBench()
        try captureBench()
    default:
        FileHandle.standardError.write(Data("usage: kafkatape-bench [codec|capture|capture-cpu|relay LISTEN_PORT UPSTREAM_PORT [--tee FILE]]\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("kafkatape-bench: \(error)\n".utf8))
    exit(1)
}
