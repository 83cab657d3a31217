import NIOCore

extension KafkaRecords {
    /// Rewrites producer id / epoch (and optionally base sequence) of every v2 batch in `buffer` in place
    /// and recomputes each CRC, without touching the compressed payload. Used by replay, where a captured
    /// idempotent or transactional produce must carry the id the broker just handed out (KIP-98).
    ///
    /// Every v2 batch is rewritten, including non-idempotent ones (producer id -1): the caller decides
    /// whether the records need an id. A CRC that was already wrong is replaced by a correct one. Legacy
    /// messages (which have no producer fields) and a truncated tail are copied unchanged; a length field
    /// too small for any batch throws, as in `decode`.
    public static func rewriteProducer(
        _ buffer: ByteBuffer, producerId: Int64, producerEpoch: Int16, baseSequence: Int32? = nil
    ) throws(KafkaDecodingError) -> ByteBuffer {
        var out = buffer
        var reader = KafkaReader(buffer)
        var index = 0
        while reader.remaining > 0 {
            let entryOffset = reader.offset
            let length: Int32
            do {
                guard let l = try nextEntryLength(reader) else { break }
                length = l
            } catch {
                throw error.at(index: index)
            }
            let start = out.readerIndex + entryOffset
            let magic = out.getInteger(at: start + magicOffset, as: Int8.self) ?? -1
            if magic == 2 {
                guard length >= v2HeaderLength else {
                    throw KafkaDecodingError(
                        .invalidRecords("v2 batch length \(length) is shorter than its \(v2HeaderLength)-byte header"),
                        offset: entryOffset + V2.lengthAt
                    ).at("batchLength").at(index: index)
                }
                out.setInteger(producerId, at: start + V2.producerIdAt, endianness: .big)
                out.setInteger(producerEpoch, at: start + V2.producerEpochAt, endianness: .big)
                if let baseSequence {
                    out.setInteger(baseSequence, at: start + V2.baseSequenceAt, endianness: .big)
                }
                let from = entryOffset + V2.attributesAt
                let to = entryOffset + logOverhead + Int(length)
                let crc = out.withUnsafeReadableBytes {
                    CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[from..<to]))
                }
                out.setInteger(crc, at: start + V2.crcAt, endianness: .big)
            }
            do {
                _ = try reader.readSlice(length: logOverhead + Int(length))
            } catch {
                throw error.at(index: index)
            }
            index += 1
        }
        return out
    }
}
