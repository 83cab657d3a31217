import ArgumentParser
import KafkaCapture

/// Opens a capture for reading, turning every failure into a one-line usage error (exit 2).
func openCapture(_ path: String) throws -> CaptureReader {
    do {
        return try CaptureReader(path: path)
    } catch {
        throw UsageError("\(path): \(error)")
    }
}

/// Reads every record, calling `body` for each; reports a torn tail on stderr (not an error: the
/// records before it are all there).
func forEachRecord(_ reader: CaptureReader, path: String, _ body: (CaptureRecord) throws -> Void) throws {
    while true {
        let record: CaptureRecord?
        do {
            record = try reader.next()
        } catch {
            throw UsageError("\(path): \(error)")
        }
        guard let record else { break }
        try body(record)
    }
    if let torn = reader.tornTail {
        stderr("warning: \(torn) — every record before it was read")
    }
    if let ignored = reader.ignoredSegment {
        stderr("warning: \(ignored)")
    }
}
