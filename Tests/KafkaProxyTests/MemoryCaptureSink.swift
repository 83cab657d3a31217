import KafkaCapture
import KafkaProxy
import NIOConcurrencyHelpers

/// Collects capture records in memory, for assertions.
final class MemoryCaptureSink: ProxyCaptureSink {
    let records = NIOLockedValueBox<[CaptureRecord]>([])

    func submit(_ record: CaptureRecord) -> Bool {
        records.withLockedValue { $0.append(record) }
        return true
    }

    var isWritable: Bool { true }
    func setWritabilityHandler(_ handler: @escaping @Sendable () -> Void) {}
    var bytesWritten: Int { 0 }
    var backlogBytes: Int { 0 }
    var failure: (any Error)? { nil }

    var all: [CaptureRecord] { records.withLockedValue { $0 } }

    var frames: [FrameRecord] {
        all.compactMap { if case .frame(let f) = $0 { return f } else { return nil } }
    }

    var events: [EventRecord] {
        all.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
    }

    var mappings: [AddressMappingRecord] {
        all.compactMap { if case .addressMapping(let m) = $0 { return m } else { return nil } }
    }

    var closes: [ConnectionClosedRecord] {
        all.compactMap { if case .connectionClosed(let c) = $0 { return c } else { return nil } }
    }

    /// Waits until `condition` holds (the proxy records on its event loops).
    func waitUntil(timeout: Double = 30, _ condition: (MemoryCaptureSink) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }
}
