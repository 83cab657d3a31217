import NIOCore

extension KafkaReader {
    /// Reads a nullable array. The count is checked against the bytes that remain before anything is
    /// reserved; a failing element is reported with its index in the error path.
    @inlinable
    public mutating func readArray<T>(
        compact: Bool,
        _ element: (inout KafkaReader) throws(KafkaDecodingError) -> T
    ) throws(KafkaDecodingError) -> [T]? {
        guard let n = try readArrayCount(compact: compact) else { return nil }
        var result = [T]()
        result.reserveCapacity(n)
        for i in 0..<n {
            do {
                result.append(try element(&self))
            } catch {
                throw error.at(index: i)
            }
        }
        return result
    }

    /// An array that must not be null; a null one is `unexpectedNull` at its offset.
    @inlinable
    public mutating func readNonNullArray<T>(
        compact: Bool,
        _ element: (inout KafkaReader) throws(KafkaDecodingError) -> T
    ) throws(KafkaDecodingError) -> [T] {
        let start = offset
        guard let a = try readArray(compact: compact, element) else {
            throw KafkaDecodingError(.unexpectedNull, offset: start)
        }
        return a
    }
}

extension KafkaWriter {
    /// An array: its count (null for nil, compact in flexible versions), then each element through `element`.
    @inlinable
    public mutating func writeArray<T>(_ array: [T]?, compact: Bool, _ element: (inout KafkaWriter, T) -> Void) {
        guard let array else {
            writeArrayCount(nil, compact: compact)
            return
        }
        writeArrayCount(array.count, compact: compact)
        for e in array { element(&self, e) }
    }
}

extension KafkaTaggedFieldWriter {
    /// Writes a section that holds only unknown (passed-through) tagged fields.
    @inlinable
    public static func writeUnknown(_ unknown: [KafkaTaggedField], to writer: inout KafkaWriter) {
        if unknown.isEmpty {
            writer.writeUnsignedVarint(0)
            return
        }
        var w = KafkaTaggedFieldWriter()
        w.write(to: &writer, unknown: unknown)
    }
}
