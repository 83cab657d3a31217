import ArgumentParser
import KafkaCapture

/// Opens a capture for reading, turning every failure into a one-line usage error (exit 2).
func openCapture(_ path: String) throws -> CaptureReader {
    do {
        return try CaptureReader(path: path)
    } catch {
        throw UsageError(error.description)
    }
}

/// Reads every record, calling `body` for each; reports damage on stderr as it goes on: each skipped
/// corrupt span and a torn tail. Call `failIfDamaged` once the command has done its job.
func forEachRecord(_ reader: CaptureReader, path: String, _ body: (CaptureRecord) throws -> Void) throws {
    var reported = 0
    while true {
        let record: CaptureRecord?
        do {
            record = try reader.next()
        } catch {
            throw UsageError(error.description)
        }
        // Each span as soon as the reader has skipped it, so the line lands next to the output it affects.
        while reported < reader.corruptSpans.count {
            stderr("warning: \(reader.corruptSpans[reported])")
            reported += 1
        }
        guard let record else { break }
        try body(record)
    }
    reportDamage(reader, already: reported)
}

/// Prints the spans not yet printed, a torn tail and an ignored segment, one line each.
func reportDamage(_ reader: CaptureReader, already reported: Int = 0) {
    for span in reader.corruptSpans.dropFirst(reported) { stderr("warning: \(span)") }
    if reader.corruptSpanCount > reader.corruptSpans.count {
        stderr("warning: \(reader.corruptSpanCount - reader.corruptSpans.count) more corrupt spans not listed")
    }
    if let torn = reader.tornTail {
        stderr("warning: \(torn) — every record before it was read")
    }
    if let ignored = reader.ignoredSegment {
        stderr("warning: \(ignored)")
    }
}

/// Exit status 2 (after the output) for a capture that was damaged in the middle, so scripts notice;
/// a torn tail alone (a write cut short, the expected end after `kill -9`) is not a failure.
func failIfDamaged(_ reader: CaptureReader, path: String) throws {
    var bad = reader.corruptSpanCount
    if reader.tornTail?.kind == .corruption { bad += 1 }
    guard bad > 0 else { return }
    var bytes = reader.corruptBytes
    if let torn = reader.tornTail, torn.kind == .corruption { bytes += torn.bytesDiscarded }
    throw UsageError("\(path): damaged: \(bad) corrupt span\(bad == 1 ? "" : "s") (\(bytes) bytes) skipped; every intact record was read")
}
