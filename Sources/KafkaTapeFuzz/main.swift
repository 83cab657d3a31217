// Fuzz targets for libFuzzer (see tools/fuzz and docs/fuzzing.md). Built with
// `-sanitize=fuzzer,address -DFUZZING`; without FUZZING this binary only prints its usage.
//
// Every target feeds untrusted bytes to a public entry point. A thrown typed error is the expected
// outcome for garbage; a trap (overflow, out-of-bounds, force unwrap, precondition) or an ASan report
// is a finding. `messages` and `records` also check that what decodes re-encodes consistently.

import Foundation
import KafkaCapture
import KafkaPcap
import KafkaProtocol
import NIOCore

enum FuzzTarget: String, CaseIterable {
    case frame, messages, records, capture, pcap

    var summary: String {
        switch self {
        case .frame: return "KafkaFramer over a byte stream, then decodeRequest and decodeResponse of every frame"
        case .messages: return "every generated request/response decoder, with a byte-exact re-encode check"
        case .records: return "KafkaRecords.decode, each codec's decompressor, and a re-encode round trip"
        case .capture: return "CaptureReader over the bytes as a capture in MemoryCaptureStorage"
        case .pcap: return "PcapImport.run over the bytes as a pcap/pcapng file, then reading the capture back"
        }
    }

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .frame: FuzzFrame.run(bytes)
        case .messages: FuzzMessages.run(bytes)
        case .records: FuzzRecords.run(bytes)
        case .capture: FuzzCapture.run(bytes)
        case .pcap: FuzzPcap.run(bytes)
        }
    }
}

/// Reads the first bytes of an input as selector fields; missing bytes read as zero.
struct InputPrefix {
    let bytes: UnsafeRawBufferPointer

    func uint16(at i: Int) -> UInt16 {
        let hi = i < bytes.count ? UInt16(bytes[i]) : 0
        let lo = i + 1 < bytes.count ? UInt16(bytes[i + 1]) : 0
        return hi << 8 | lo
    }

    func rest(from i: Int) -> ByteBuffer {
        guard i < bytes.count else { return ByteBuffer() }
        return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[i...]))
    }
}

/// A descriptor and a version inside its range, chosen by two selector words.
func pickAPI(keyWord: UInt16, versionWord: UInt16) -> (KafkaAPIDescriptor, Int16) {
    let api = KafkaAPIs.all[Int(keyWord) % KafkaAPIs.all.count]
    let count = Int(api.versions.upperBound) - Int(api.versions.lowerBound) + 1
    let version = api.versions.lowerBound + Int16(Int(versionWord) % count)
    return (api, version)
}

func finding(_ message: String) -> Never {
    fatalError("fuzz finding: \(message)")
}

// MARK: frame

enum FuzzFrame {
    /// Bytes 0-1 pick the API and 2-3 the version used to decode every frame as a response; the rest
    /// is a stream of size-prefixed frames.
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let prefix = InputPrefix(bytes: bytes)
        let (api, version) = pickAPI(keyWord: prefix.uint16(at: 0), versionWord: prefix.uint16(at: 2))
        var stream = prefix.rest(from: 4)
        let framer = KafkaFramer(maxFrameBytes: 1 << 20)
        while true {
            let frame: ByteBuffer?
            do { frame = try framer.next(from: &stream) } catch { return }
            guard let frame else { return }
            _ = try? KafkaFrameCodec.decodeRequest(frame)
            _ = try? KafkaFrameCodec.decodeResponse(frame, apiKey: api.apiKey, apiVersion: version)
            _ = KafkaFrameCodec.responseCorrelationId(frame)
        }
    }
}

// MARK: messages

enum FuzzMessages {
    /// Bytes 0-1 pick an entry of `KafkaAPIs.all` and request or response, bytes 2-3 the version, the
    /// rest is the body.
    ///
    /// Byte-exactness: the codec promises `encode(decode(b)) == b` for canonical input. The decoder
    /// also accepts spellings Kafka's Java code accepts but never writes, and those re-encode to the
    /// canonical form:
    /// - a BOOLEAN byte other than 0 or 1 (read as true, written as 1), and the INT8 presence marker of
    ///   a nullable struct other than 1 or -1 (read as present when >= 0 and null when < 0, as Kafka's
    ///   generated Java does; written as 1 or -1): same length, the differing byte is 0x01 in the
    ///   output, or 0xff where the input byte was negative;
    /// - a varint with redundant continuation bytes (`0x80 0x00` for 0), and a tagged field present
    ///   with its default value (the encoder omits it): the output is shorter.
    /// So a mismatch is a finding when the output is longer, or the same length with a difference that
    /// is not such a byte normalisation, or the output is not a fixed point (does not decode, or decodes
    /// and re-encodes to different bytes).
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let prefix = InputPrefix(bytes: bytes)
        let selector = Int(prefix.uint16(at: 0)) % (KafkaAPIs.all.count * 2)
        let api = KafkaAPIs.all[selector / 2]
        let type = selector % 2 == 0 ? api.request : api.response
        let count = Int(api.versions.upperBound) - Int(api.versions.lowerBound) + 1
        let version = api.versions.lowerBound + Int16(Int(prefix.uint16(at: 2)) % count)
        let body = prefix.rest(from: 4)
        guard let message = try? type.decode(body, version: version) else { return }
        let encoded = message.encoded(version: version)
        if encoded == body { return }
        let what = "\(type.schemaName) v\(version)"
        let input = Array(body.readableBytesView)
        let output = Array(encoded.readableBytesView)
        if output.count > input.count {
            finding("\(what): re-encoded \(output.count) bytes from \(input.count): \(hex(input)) -> \(hex(output))")
        }
        if output.count == input.count {
            for (a, b) in zip(input, output) where a != b && !isNormalisedByte(input: a, output: b) {
                finding("\(what): re-encoded bytes differ beyond bool/presence normalisation: \(hex(input)) -> \(hex(output))")
            }
        }
        let again: any KafkaMessage
        do {
            again = try type.decode(encoded, version: version)
        } catch {
            finding("\(what): re-encoded bytes do not decode (\(error)): \(hex(output))")
        }
        if again.encoded(version: version) != encoded {
            finding("\(what): re-encoding is not a fixed point: \(hex(output))")
        }
    }
}

/// A BOOLEAN or nullable-struct presence byte written back in its canonical form (1, or -1 for null).
func isNormalisedByte(input: UInt8, output: UInt8) -> Bool {
    output == 0x01 || (output == 0xff && input >= 0x80)
}

func hex(_ bytes: [UInt8]) -> String {
    let shown = bytes.prefix(256).map { String(format: "%02x", $0) }.joined()
    return bytes.count > 256 ? shown + "..." : shown
}

// MARK: records

enum FuzzRecords {
    static let limit = 1 << 20

    /// The input as a `records` field; then for each codec, the input (after one count byte) as the
    /// compressed payload of a v2 batch and of a magic-1 wrapper message, so every decompressor sees
    /// arbitrary bytes. Whatever decodes is re-encoded and must decode to the same records.
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let whole = ByteBuffer(bytes: bytes)
        check(whole)
        let prefix = InputPrefix(bytes: bytes)
        let count = bytes.isEmpty ? 0 : Int32(bytes[0])
        let payload = prefix.rest(from: 1)
        for codec in KafkaCompression.allCases {
            check(v2Batch(codec: codec, count: count, payload: payload))
            if codec != .zstd && codec != .none {
                check(legacyWrapper(codec: codec, payload: payload))
            }
        }
    }

    static func check(_ buffer: ByteBuffer) {
        guard let set = try? KafkaRecords.decode(buffer, verifyCRC: true, maxDecompressedBytes: limit) else { return }
        for batch in set.batches {
            roundTrip(batch)
        }
    }

    static func roundTrip(_ batch: KafkaRecordBatch) {
        if batch.magic == 2 {
            // Offsets beyond Int32 of baseOffset (wrapped on decode) cannot be re-encoded: a typed error.
            guard let encoded = try? KafkaRecords.encodeBatch(batch, compression: batch.compression) else { return }
            let decoded: KafkaRecordSet
            do {
                decoded = try KafkaRecords.decode(encoded, verifyCRC: true, maxDecompressedBytes: Int(UInt32.max))
            } catch {
                finding("re-encoded v2 batch does not decode: \(error)")
            }
            guard decoded.batches.count == 1, let again = decoded.batches.first else {
                finding("re-encoded v2 batch decodes to \(decoded.batches.count) batches")
            }
            guard again.records == batch.records else { finding("v2 records changed in a round trip") }
            guard again.crcValid else { finding("re-encoded v2 batch has a bad CRC") }
        } else {
            guard
                let encoded = try? KafkaRecords.encodeLegacy(
                    batch.records, magic: batch.magic, compression: batch.compression, baseOffset: batch.baseOffset)
            else { return }
            let decoded: KafkaRecordSet
            do {
                decoded = try KafkaRecords.decode(encoded, verifyCRC: true, maxDecompressedBytes: Int(UInt32.max))
            } catch {
                finding("re-encoded legacy messages do not decode: \(error)")
            }
            // Offsets are reassigned and timestamps may be overridden by a wrapper; keys and values must survive.
            let before = batch.records.map { [$0.key, $0.value] }
            let after = decoded.records.map { [$0.key, $0.value] }
            guard before == after else { finding("legacy keys/values changed in a round trip") }
        }
    }

    /// A v2 batch header (correct length and CRC-32C) in front of `payload`, with `codec` in the attributes.
    static func v2Batch(codec: KafkaCompression, count: Int32, payload: ByteBuffer) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(Int64(0))
        b.writeInteger(Int32(49 + payload.readableBytes))
        b.writeInteger(Int32(-1))
        b.writeInteger(Int8(2))
        let crcAt = b.writerIndex
        b.writeInteger(UInt32(0))
        let attributesAt = b.writerIndex
        b.writeInteger(Int16(codec.rawValue))
        b.writeInteger(max(0, count - 1))  // lastOffsetDelta
        b.writeInteger(Int64(0))  // baseTimestamp
        b.writeInteger(Int64(0))  // maxTimestamp
        b.writeInteger(Int64(-1))
        b.writeInteger(Int16(-1))
        b.writeInteger(Int32(-1))
        b.writeInteger(count)
        b.writeImmutableBuffer(payload)
        let crc = b.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[attributesAt...])) }
        b.setInteger(crc, at: crcAt)
        return b
    }

    /// A magic-1 wrapper message whose value is `payload` (CRC left 0: decoding does not verify it strictly).
    static func legacyWrapper(codec: KafkaCompression, payload: ByteBuffer) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(Int64(0))
        b.writeInteger(Int32(4 + 1 + 1 + 8 + 4 + 4 + payload.readableBytes))
        b.writeInteger(UInt32(0))
        b.writeInteger(Int8(1))
        b.writeInteger(Int8(codec.rawValue))
        b.writeInteger(Int64(0))
        b.writeInteger(Int32(-1))
        b.writeInteger(Int32(payload.readableBytes))
        b.writeImmutableBuffer(payload)
        return b
    }
}

// MARK: capture

enum FuzzCapture {
    /// The bytes as the only segment of a capture in memory: read every record, pair exchanges and
    /// decode every frame the way `dump` does.
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let storage = MemoryCaptureStorage()
        storage.setContents(ByteBuffer(bytes: bytes), of: "fuzz.ktape")
        readAll(path: "fuzz.ktape", storage: storage)
    }

    static func readAll(path: String, storage: any CaptureStorage) {
        guard let reader = try? CaptureReader(path: path, storage: storage, chunkSize: 4096) else { return }
        defer { reader.close() }
        var tracker = ExchangeTracker()
        while true {
            let record: CaptureRecord?
            do { record = try reader.next() } catch { return }
            guard let record else { break }
            if case .frame(let frame) = record, frame.direction == .request {
                _ = try? KafkaFrameCodec.decodeRequest(frame.payload)
            }
            _ = tracker.process(record)
        }
        _ = tracker.finish()
    }
}

// MARK: pcap

enum FuzzPcap {
    /// Per-process paths so parallel fuzzing jobs (`-jobs`) do not share files: under
    /// `KAFKATAPE_FUZZ_TMP` (tools/fuzz sets it to its temp dir and removes it), else /dev/shm.
    static let directory: String = {
        let env = ProcessInfo.processInfo.environment
        let shm = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(env["KAFKATAPE_FUZZ_TMP"] ?? shm)/kafkatape-fuzz-\(getpid())"
    }()

    /// The bytes as a pcap or pcapng file, imported into a capture, which is then read back.
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let input = "\(directory)/input.pcap"
        let output = "\(directory)/output.ktape"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: input, contents: Data(bytes)) else { return }
        let options = PcapImportOptions(maxFrameBytes: 1 << 20, overwrite: true)
        guard (try? PcapImport.run(input: input, output: output, options: options)) != nil else { return }
        FuzzCapture.readAll(path: output, storage: FileCaptureStorage())
    }
}

// MARK: main

func usage() -> String {
    var s = "usage: KafkaTapeFuzz TARGET [libFuzzer options] [CORPUS_DIR...]\n"
    s += "Build and run with tools/fuzz (swift build -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING).\n"
    s += "targets:\n"
    for t in FuzzTarget.allCases { s += "  \(t.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(t.summary)\n" }
    return s
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ cb: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

let arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
    FileHandle.standardError.write(Data(usage().utf8))
    exit(2)
}
FuzzTarget.selected = target
// libFuzzer sees argv[0] followed by everything after the target name.
var driverArgc = CommandLine.argc - 1
let argv = CommandLine.unsafeArgv
argv[1] = argv[0]
var driverArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv + 1
let status = LLVMFuzzerRunDriver(&driverArgc, &driverArgv) { data, size in
    fuzzOneInput(data, size)
}
exit(status)
#else
print(usage(), terminator: "")
#endif
