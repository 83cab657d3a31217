import NIOCore

/// Parses the records of a v2 batch straight from memory: the hot loop of decoding a fetch response.
///
/// Reading each varint byte through `ByteBuffer` costs a storage access (and an exclusivity check) per
/// byte; here the whole records region is walked through one raw pointer, and only keys, values and
/// header values become `ByteBuffer` slices (no copies). Offsets in errors count from `startOffset`.
struct RecordParser {
    let bytes: UnsafeRawBufferPointer
    let startOffset: Int
    var index = 0

    init(_ bytes: UnsafeRawBufferPointer, startOffset: Int) {
        self.bytes = bytes
        self.startOffset = startOffset
    }

    /// Parses exactly `count` records from `data`'s readable bytes, which must be all of them.
    static func records(
        in data: ByteBuffer, count: Int, startOffset: Int, baseOffset: Int64, baseTimestamp: Int64, path: String
    ) throws(KafkaDecodingError) -> [KafkaRecord] {
        let result: Result<[KafkaRecord], KafkaDecodingError> = data.withUnsafeReadableBytes { raw in
            var parser = RecordParser(raw, startOffset: startOffset)
            var records: [KafkaRecord] = []
            records.reserveCapacity(count)
            for i in 0..<count {
                do throws(KafkaDecodingError) {
                    records.append(
                        try parser.record(slicing: data, baseOffset: baseOffset, baseTimestamp: baseTimestamp))
                } catch {
                    return .failure(error.at(index: i).at(path))
                }
            }
            guard parser.index == raw.count else {
                return .failure(
                    parser.error(
                        .invalidRecords(
                            "\(raw.count - parser.index) bytes follow the \(count) records the batch declares"),
                        at: parser.index
                    ).at(path))
            }
            return .success(records)
        }
        return try result.get()
    }

    func error(_ kind: KafkaDecodingError.Kind, at position: Int) -> KafkaDecodingError {
        KafkaDecodingError(kind, offset: startOffset + position)
    }

    var remaining: Int { bytes.count - index }

    @inline(__always)
    mutating func readByte() throws(KafkaDecodingError) -> UInt8 {
        guard index < bytes.count else { throw error(.truncated(needed: 1, available: 0), at: index) }
        let b = bytes[index]
        index += 1
        return b
    }

    @inline(__always)
    mutating func readVarint() throws(KafkaDecodingError) -> Int32 {
        // One-byte fast path: most lengths, deltas and counts are below 64.
        if index < bytes.count, bytes[index] & 0x80 == 0 {
            let u = UInt32(bytes[index])
            index += 1
            return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        }
        let start = index
        var u: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard index < bytes.count else { throw error(.truncated(needed: 1, available: 0), at: start) }
            let b = bytes[index]
            index += 1
            if shift == 28 && b > 0x0f { throw error(.invalidVarint, at: start) }
            u |= UInt32(b & 0x7f) << shift
            if b & 0x80 == 0 { return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1))) }
            shift += 7
        }
    }

    @inline(__always)
    mutating func readVarlong() throws(KafkaDecodingError) -> Int64 {
        let start = index
        var u: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.count else { throw error(.truncated(needed: 1, available: 0), at: start) }
            let b = bytes[index]
            index += 1
            if shift == 63 && b > 0x01 { throw error(.invalidVarint, at: start) }
            u |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1))) }
            shift += 7
        }
    }

    /// A VARINT length and the bytes it prefixes, as a range of `bytes`; nil for -1.
    @inline(__always)
    mutating func readLengthPrefixed(nullable: Bool = true) throws(KafkaDecodingError) -> Range<Int>? {
        let start = index
        let n = try readVarint()
        if n == -1 && nullable { return nil }
        guard n >= 0 else {
            throw error(n == -1 ? .unexpectedNull : .negativeLength(Int64(n)), at: start)
        }
        guard Int(n) <= remaining else { throw error(.lengthTooLarge(Int64(n), limit: remaining), at: start) }
        let range = index..<(index + Int(n))
        index = range.upperBound
        return range
    }

    @inline(__always)
    func slice(_ range: Range<Int>?, of data: ByteBuffer) throws(KafkaDecodingError) -> ByteBuffer? {
        guard let range else { return nil }
        guard let s = data.getSlice(at: data.readerIndex + range.lowerBound, length: range.count) else {
            throw error(
                .truncated(needed: range.count, available: bytes.count - range.lowerBound), at: range.lowerBound)
        }
        return s
    }

    /// Header keys are UTF-8 and must stay byte-exact, so invalid sequences are an error, not repaired.
    func string(_ range: Range<Int>) throws(KafkaDecodingError) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
        let s = String(decoding: raw, as: UTF8.self)
        // Decoding repairs invalid UTF-8; it round-trips exactly when there was nothing to repair.
        guard raw.allSatisfy({ $0 < 0x80 }) || s.utf8.elementsEqual(raw) else {
            throw error(.invalidUTF8, at: range.lowerBound)
        }
        return s
    }

    /// One record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint, key, value,
    /// headers.
    mutating func record(slicing data: ByteBuffer, baseOffset: Int64, baseTimestamp: Int64)
        throws(KafkaDecodingError) -> KafkaRecord
    {
        let start = index
        let length: Int32
        do { length = try readVarint() } catch { throw error.at("length") }
        guard length >= 0 else { throw error(.negativeLength(Int64(length)), at: start).at("length") }
        guard Int(length) <= remaining else {
            throw error(.lengthTooLarge(Int64(length), limit: remaining), at: start).at("length")
        }
        let end = index + Int(length)
        let attributes = Int8(bitPattern: try readByte())
        let timestampDelta: Int64
        do { timestampDelta = try readVarlong() } catch { throw error.at("timestampDelta") }
        let offsetDelta: Int32
        do { offsetDelta = try readVarint() } catch { throw error.at("offsetDelta") }
        let key: ByteBuffer?
        do { key = try slice(try readLengthPrefixed(), of: data) } catch { throw error.at("key") }
        let value: ByteBuffer?
        do { value = try slice(try readLengthPrefixed(), of: data) } catch { throw error.at("value") }

        let countAt = index
        let headerCount: Int32
        do { headerCount = try readVarint() } catch { throw error.at("headers") }
        guard headerCount >= 0 else { throw error(.negativeLength(Int64(headerCount)), at: countAt).at("headers") }
        // A header takes at least two bytes (two length varints).
        let room = max(0, end - index) / 2
        guard Int(headerCount) <= room else {
            throw error(.lengthTooLarge(Int64(headerCount), limit: room), at: countAt).at("headers")
        }
        var headers: [KafkaRecordHeader] = []
        if headerCount > 0 {
            headers.reserveCapacity(Int(headerCount))
            for i in 0..<Int(headerCount) {
                do throws(KafkaDecodingError) {
                    let headerKey: String
                    do throws(KafkaDecodingError) {
                        guard let range = try readLengthPrefixed(nullable: false) else {
                            throw error(.unexpectedNull, at: index)
                        }
                        headerKey = try string(range)
                    } catch {
                        throw error.at("key")
                    }
                    let headerValue: ByteBuffer?
                    do { headerValue = try slice(try readLengthPrefixed(), of: data) } catch { throw error.at("value") }
                    headers.append(KafkaRecordHeader(key: headerKey, value: headerValue))
                } catch {
                    throw error.at(index: i).at("headers")
                }
            }
        }
        guard index == end else {
            throw error(
                .invalidRecords("record length \(length) does not match its fields (\(index - end) bytes off)"),
                at: start
            ).at("length")
        }
        return KafkaRecord(
            offset: baseOffset &+ Int64(offsetDelta), timestamp: baseTimestamp &+ timestampDelta, key: key,
            value: value, headers: headers, attributes: attributes)
    }
}
