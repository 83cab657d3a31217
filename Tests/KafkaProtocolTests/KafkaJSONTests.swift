import Foundation
@testable import KafkaProtocol
import NIOCore
import Testing

/// The JSON writer behind `dump --json` and `diff`: escaping, bytes, integers; output that any JSON
/// parser reads back to the same values.
struct KafkaJSONTests {
    @Test func stringsAreEscapedAndReadBack() throws {
        let cases = ["", "plain", "quote\"back\\slash", "tab\tnew\nline\rcr", "\u{0}\u{1}\u{1f}", "é ü 日本 🎉", "a\u{7f}b", String(repeating: "x\"", count: 300)]
        for s in cases {
            let json = KafkaJSON.render(.string(s))
            let back = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) as? String
            #expect(back == s, "\(json)")
        }
        #expect(KafkaJSON.render(.string("a\"b\\c\n\u{1}")) == #""a\"b\\c\n\u0001""#)
    }

    @Test func randomStringsRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let scalars = (0..<Int.random(in: 0..<40, using: &rng)).compactMap { _ -> Unicode.Scalar? in
                Unicode.Scalar(UInt32.random(in: 0..<(Bool.random(using: &rng) ? 0x80 : 0x2_0000), using: &rng))
            }
            let s = String(String.UnicodeScalarView(scalars))
            let json = KafkaJSON.render(.array([.string(s)]))
            let back = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String]
            #expect(back == [s], "\(json)")
        }
    }

    @Test(arguments: [false, true])
    func bytesRenderAsUtf8OrBase64LikeTheirValueForm(_ pretty: Bool) {
        let samples: [[UInt8]] = [
            [], Array("hello \"world\"\n".utf8), Array("é".utf8), [0x00, 0x01, 0xff], [0x7f], Array("tab\there".utf8), [0xc2, 0x80],
            Array(repeating: 0x41, count: 1000),
        ]
        for bytes in samples {
            let b = ByteBuffer(bytes: bytes)
            let direct = KafkaJSON.render(.object(KafkaObject([("v", .bytes(b))])), pretty: pretty)
            let viaValue = KafkaJSON.render(.object(KafkaObject([("v", KafkaJSON.bytesValue(b))])), pretty: pretty)
            #expect(direct == viaValue)
        }
        #expect(KafkaJSON.render(.bytes(ByteBuffer(bytes: Array("hi".utf8)))) == #"{"utf8":"hi"}"#)
        #expect(KafkaJSON.render(.bytes(ByteBuffer(bytes: [0, 1, 2]))) == #"{"base64":"AAEC"}"#)
        #expect(KafkaJSON.render(.bytes(ByteBuffer(bytes: [0xc2, 0x80]))) == #"{"base64":"woA="}"#)  // U+0080, a C1 control
    }

    @Test func integers() {
        let values: [Int64] = [0, 1, -1, 9, 10, 1234567890, -987654321, .max, .min]
        let json = KafkaJSON.render(.array(values.map { .int($0) }))
        #expect(json == "[" + values.map(String.init).joined(separator: ",") + "]")
    }
}

/// The eight-bytes-at-once tests against byte-by-byte answers, over every byte value in every lane.
struct SWARTests {
    @Test func matchesByteByByte() {
        var rng = SystemRandomNumberGenerator()
        for lane in 0..<8 {
            for b in 0...255 {
                // A background of random printable ASCII with one chosen byte in one lane.
                var bytes = (0..<8).map { _ in UInt8.random(in: 0x23...0x5b, using: &rng) }
                bytes[lane] = UInt8(b)
                let w = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(SWAR.hasByteBelow(w, 0x20) == bytes.contains { $0 < 0x20 })
                #expect(SWAR.hasByte(w, 0x22) == bytes.contains(0x22))
                #expect(SWAR.hasByte(w, 0x7f) == bytes.contains(0x7f))
                #expect(SWAR.hasHighBit(w) == bytes.contains { $0 >= 0x80 })
            }
        }
    }
}

/// Record sets go to JSON straight from one event description (`KafkaRecords.render`); the tree the
/// same description builds renders to the same bytes, compact and pretty, at any nesting depth.
struct RecordsJSONTests {
    static func sets() throws -> [(String, ByteBuffer)] {
        let records = [
            KafkaRecord(offset: 10, timestamp: 1_700_000_000_000, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v \"quoted\"\n"),
                        headers: [KafkaRecordHeader(key: "h", value: ByteBuffer(bytes: [0, 1, 2])), KafkaRecordHeader(key: "n", value: nil)]),
            KafkaRecord(offset: 11, timestamp: 1_700_000_000_001, key: nil, value: nil),
            KafkaRecord(offset: 12, timestamp: 1_700_000_000_002, key: ByteBuffer(), value: ByteBuffer(bytes: [0xff, 0xfe])),
        ]
        var out: [(String, ByteBuffer)] = []
        for codec in KafkaCompression.allCases {
            out.append(("\(codec)", try KafkaRecords.encodeBatch(KafkaRecordBatch(baseOffset: 10, records: records), compression: codec)))
        }
        var twoBatches = try KafkaRecords.encodeBatch(KafkaRecordBatch(baseOffset: 10, records: records), compression: .none)
        var second = try KafkaRecords.encodeBatch(KafkaRecordBatch(baseOffset: 13, records: [KafkaRecord(offset: 13, value: ByteBuffer(string: "x"))]), compression: .lz4)
        twoBatches.writeBuffer(&second)
        out.append(("two batches", twoBatches))
        out.append(("truncated tail", twoBatches.getSlice(at: 0, length: twoBatches.readableBytes - 7)!))
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeInteger(Int16(0))  // ABORT
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(Int32(3))
        out.append(("control", try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 40, attributes: 0x30, producerId: 9, producerEpoch: 1, records: [KafkaRecord(offset: 40, timestamp: 1, key: key, value: value)]),
            compression: .none)))
        out.append(("garbage", ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 9, 9, 9, 9, 9])))
        out.append(("empty", ByteBuffer()))
        return out
    }

    @Test(arguments: [false, true])
    func streamedJSONEqualsTheTreesJSON(_ pretty: Bool) throws {
        for (name, set) in try Self.sets() {
            for wrap in [{ (v: KafkaValue) in v }, { v in .object(KafkaObject([("a", .array([.int(1), v]))])) }] {
                let streamed = KafkaJSON.render(wrap(.records(set)), pretty: pretty)
                let viaTree = KafkaJSON.render(wrap(KafkaRecords.kafkaValue(set)), pretty: pretty)
                #expect(streamed == viaTree, "\(name)")
                #expect((try? JSONSerialization.jsonObject(with: Data(streamed.utf8))) != nil, "\(name): \(streamed)")
            }
        }
        let control = try #require(try Self.sets().first { $0.0 == "control" }?.1)
        #expect(KafkaJSON.render(.records(control)).contains(#""control":{"version":0,"type":"abort","coordinatorEpoch":3}"#))
    }
}
