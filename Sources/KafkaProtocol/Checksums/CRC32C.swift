import CKafkaCRC
import NIOCore

/// CRC-32C (Castagnoli), as record batch v2 uses (KIP-98) and KafkaTape's capture records.
/// Hardware-accelerated (SSE4.2, three interleaved streams) where the CPU allows, slicing-by-8 otherwise.
public enum CRC32C {
    /// Continues `crc` over `bytes` (start from 0).
    @inlinable
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return kafkatape_crc32c(crc, base, bytes.count)
    }

    /// The CRC-32C of `bytes`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// CRC of a buffer's readable bytes.
    @inlinable
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { update(0, $0) }
    }

    /// The CRC-32C of a byte collection (copied once when it has no contiguous storage).
    @inlinable
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ update(0, UnsafeRawBufferPointer($0)) }) { return r }
        return Array(bytes).withUnsafeBytes { update(0, $0) }
    }

    /// The portable implementation, for comparison in tests and benchmarks.
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return kafkatape_crc32c_sw(0, base, bytes.count)
    }

    /// Whether this CPU has SSE4.2's `crc32` instruction, which `update` then uses (benchmarks report it).
    public static var isHardwareAccelerated: Bool { kafkatape_crc32c_hw_available() != 0 }
}
