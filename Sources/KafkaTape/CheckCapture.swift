import KafkaCapture
import KafkaCheck

/// Checks a capture file (every segment) with the invariants `kafkatape check` runs: the report's
/// `isClean`, `findings(_:)` and `failedInvariants` are what a test asserts on.
///
/// - Parameters:
///   - only: run just these invariants (`[InvariantID(3)]`); all by default.
///   - skip: leave these out (`[InvariantID(16)]` for a broker that sends tagged fields at their defaults).
/// - Throws: `CaptureError` when the file cannot be read. A torn tail is a note in the report, not an error.
public func checkCapture(_ path: String, only: [InvariantID]? = nil, skip: [InvariantID] = []) throws(CaptureError) -> CheckReport {
    var configuration = CheckConfiguration()
    if let only { configuration.enabled = Set(only) }
    configuration.enabled.subtract(skip)
    let reader = try CaptureReader(path: path)
    let engine = CheckEngine(configuration: configuration)
    while let record = try reader.next() { engine.process(record) }
    if let torn = reader.tornTail { engine.context.note("the capture has a torn tail (\(torn)); records after it were not checked") }
    return engine.finish()
}

/// Checks records in memory (an `InMemoryCaptureSink`'s, say) the same way.
public func checkRecords(_ records: some Sequence<CaptureRecord>, only: [InvariantID]? = nil, skip: [InvariantID] = []) -> CheckReport {
    var configuration = CheckConfiguration()
    if let only { configuration.enabled = Set(only) }
    configuration.enabled.subtract(skip)
    let engine = CheckEngine(configuration: configuration)
    for record in records { engine.process(record) }
    return engine.finish()
}
