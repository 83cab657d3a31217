import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// Captures are untrusted: absurd offsets, clocks and bytes give findings, never a crash.
@Suite struct HostileInputTests {
    @Test func extremeOffsetsAndClocks() {
        let b = CaptureBuilder()
        b.produce([Rec("a", "1"), Rec("b", "2"), Rec("c", "3")], base: .max - 1)
        b.fetch(at: .min, hw: .max, records: Msg.batch([Rec("a", "1")], base: .max))
        b.fetch(at: .max, hw: .min)
        b.fetch(at: -5, hw: 3, records: Msg.batch([Rec("x", "y")], base: .min))
        b.listOffsets(.max, answer: .min)
        b.produce([Rec("d", "4")], base: .min)
        b.add(.frame(FrameRecord(time: CaptureTimestamp(monotonicNs: 0, wallNs: .min), connectionId: 9, direction: .request, payload: ByteBuffer(bytes: [0, 1, 0, 12, 0, 0, 0, 1]))))
        b.add(.frame(FrameRecord(time: CaptureTimestamp(monotonicNs: .max, wallNs: .max), connectionId: 9, direction: .response, payload: ByteBuffer(bytes: [0, 0, 0, 1, 9]))))
        let report = b.check(CheckConfiguration(fetchMarginMs: .max, fetchPromptMs: .max, maxFindingsPerInvariant: 0))
        #expect(!report.isClean)
        _ = report.text(capturePath: "x")
        _ = report.json(capturePath: "x")
    }

    @Test func randomFramesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let b = CaptureBuilder()
        for i in 0..<400 {
            var payload = ByteBuffer()
            // Real request prefixes with garbage bodies, so decoders of every API see junk.
            if i % 2 == 0 {
                payload.writeInteger(Int16.random(in: 0...80, using: &rng))
                payload.writeInteger(Int16.random(in: 0...14, using: &rng))
                payload.writeInteger(Int32(i / 2))
            } else {
                payload.writeInteger(Int32(i / 2))
            }
            for _ in 0..<Int.random(in: 0...64, using: &rng) { payload.writeInteger(UInt8.random(in: 0...255, using: &rng)) }
            b.add(.frame(FrameRecord(time: b.ts(), connectionId: 5, direction: i % 2 == 0 ? .request : .response, payload: payload)))
            b.advance(1)
        }
        _ = b.check().text(capturePath: "x")
    }

    @Test func faultAndGapEventsAreNoted() {
        let b = CaptureBuilder()
        b.add(.event(EventRecord(time: b.ts(), connectionId: 2, kind: .fault, message: "stale-fetch", attributes: [.init("fault", "stale-fetch")])))
        b.add(.event(EventRecord(time: b.ts(), kind: .gap, message: "lost 3 packets")))
        let report = b.check()
        #expect(report.isClean)
        #expect(report.notes.contains { $0.contains("staged faults") && $0.contains("stale-fetch ×1") })
        #expect(report.notes.contains { $0.contains("1 gap event") })
    }
}
