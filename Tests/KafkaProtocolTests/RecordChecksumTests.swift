import CCompression
import NIOCore
import Testing

@testable import KafkaProtocol

@Suite("Record checksums: CRC-32C, CRC-32, XXH32")
struct RecordChecksumTests {
    @Test func crc32cKnownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(UInt8(0)..<32)) == 0x46DD_794E)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum(ByteBuffer(string: "123456789")) == 0xE306_9283)
    }

    @Test func crc32cHardwareAndSoftwareAgree() {
        let data = Array(buffer: RecordSamples.noise(70_000, seed: 42))
        data.withUnsafeBytes { all in
            for alignment in 0..<16 {
                var length = 0
                while alignment + length <= all.count {
                    let slice = UnsafeRawBufferPointer(rebasing: all[alignment..<(alignment + length)])
                    let software = CRC32C.softwareChecksum(slice)
                    #expect(CRC32C.checksum(slice) == software, "alignment \(alignment) length \(length)")
                    length = length < 300 ? length + 1 : length * 2 + 7
                }
            }
            // Continuing a CRC over a split equals one pass.
            for split in [0, 1, 7, 8, 63, 4096, 69_999] {
                let a = UnsafeRawBufferPointer(rebasing: all[..<split])
                let b = UnsafeRawBufferPointer(rebasing: all[split...])
                #expect(CRC32C.update(CRC32C.checksum(a), b) == CRC32C.checksum(all))
            }
        }
    }

    @Test func legacyCRC32KnownVector() {
        #expect(Array("123456789".utf8).withUnsafeBytes { KafkaRecords.crc32($0) } == 0xCBF4_3926)
    }

    @Test func xxHash32() throws {
        #expect(XXHash32.hash([UInt8]()) == 0x02CC_5D05)
        #expect(XXHash32.hash(Array("abc".utf8)) == 0x32D1_53FF)
        // liblz4's content checksum is XXH32 of the content: compare on inputs of many lengths.
        for length in [1, 3, 4, 15, 16, 17, 31, 32, 33, 100, 1000, 4099] {
            let content = Array(buffer: RecordSamples.noise(length, seed: UInt64(length)))
            var prefs = LZ4F_preferences_t()
            prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
            let bound = LZ4F_compressFrameBound(content.count, &prefs)
            var frame = [UInt8](repeating: 0, count: bound)
            let size = content.withUnsafeBytes { src in
                frame.withUnsafeMutableBytes { dst in
                    LZ4F_compressFrame(dst.baseAddress, dst.count, src.baseAddress, src.count, &prefs)
                }
            }
            #expect(LZ4F_isError(size) == 0)
            let t = size - 4
            let stored =
                UInt32(frame[t]) | UInt32(frame[t + 1]) << 8 | UInt32(frame[t + 2]) << 16 | UInt32(frame[t + 3]) << 24
            #expect(XXHash32.hash(content) == stored, "length \(length)")
            // And the header checksum byte is XXH32 of the descriptor.
            #expect(UInt8(truncatingIfNeeded: XXHash32.hash(frame[4..<6]) >> 8) == frame[6])
        }
    }
}
