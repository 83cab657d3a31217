import KafkaCapture
import KafkaPcap
import NIOCore
import Testing

/// Frame splitting, resynchronisation and gaps on reassembled streams.
@Suite struct KafkaStreamSplitterTests {
    /// Real request and response frames (size prefix included) from kafka-python and librdkafka.
    static let golden: [(requests: [[UInt8]], responses: [[UInt8]], correlationIds: [Int32])] = {
        ["kafka-python-produce-consume", "librdkafka-zstd", "kafka-python-group"].compactMap { name in
            guard let frames = try? goldenSession(name) else { return nil }
            let first = frames.first?.connection
            let own = frames.filter { $0.connection == first }
            func framed(_ p: [UInt8]) -> [UInt8] {
                var f: [UInt8] = []
                f.appendInteger(Int32(p.count))
                return f + p
            }
            let requests = own.filter { $0.direction == .request }.map { framed($0.payload) }
            let ids = own.filter { $0.direction == .request }.map { p -> Int32 in
                Int32(p.payload[4]) << 24 | Int32(p.payload[5]) << 16 | Int32(p.payload[6]) << 8 | Int32(p.payload[7])
            }
            return (requests, own.filter { $0.direction == .response }.map { framed($0.payload) }, ids)
        }
    }()

    struct Result {
        var frames: [[UInt8]] = []
        var truncated: [[UInt8]] = []
        var skipped: [(offset: Int64, bytes: Int, found: Bool)] = []
        var gaps: [(truncatedFrame: Bool, inSync: Bool)] = []
        var implausible = 0
        var incomplete = 0
    }

    func collect(_ s: inout KafkaStreamSplitter, into r: inout Result) {
        for e in s.takeEvents() {
            switch e {
            case .frame(let payload, let wire, let truncated, _):
                var f: [UInt8] = []
                f.appendInteger(Int32(bitPattern: wire))
                if truncated { r.truncated.append(f + Array(payload.readableBytesView)) } else { r.frames.append(f + Array(payload.readableBytesView)) }
            case .skipped(let offset, let bytes, _, let found, _): r.skipped.append((offset, bytes, found))
            case .gap(_, _, _, let t, let inSync, _): r.gaps.append((t, inSync))
            case .implausibleSize: r.implausible += 1
            case .incompleteFrame: r.incomplete += 1
            }
        }
    }

    func feed(_ bytes: [UInt8], into s: inout KafkaStreamSplitter, chunks: [Int], result: inout Result) {
        var i = 0
        var k = 0
        while i < bytes.count {
            let n = min(chunks[k % chunks.count], bytes.count - i)
            Array(bytes[i..<(i + n)]).withUnsafeBytes { s.streamBytes($0, timestampNs: Int64(i)) }
            collect(&s, into: &result)
            i += n
            k += 1
        }
    }

    @Test(arguments: [[1], [3], [7, 1, 1460], [65536]])
    func framesSplitAnywhereComeOutWhole(chunks: [Int]) {
        for session in Self.golden {
            var s = KafkaStreamSplitter(role: .requests, synchronized: true)
            var r = Result()
            feed(session.requests.flatMap { $0 }, into: &s, chunks: chunks, result: &r)
            s.finish(timestampNs: 0)
            collect(&s, into: &r)
            #expect(digest(r.frames) == digest(session.requests))
            #expect(r.skipped.isEmpty && r.gaps.isEmpty && r.incomplete == 0)
        }
    }

    /// Joining a request stream at every offset inside its first frame finds the second frame and
    /// reports exactly the bytes before it as skipped.
    @Test func requestStreamJoinedMidFrameResynchronisesOnTheNextFrame() {
        for session in Self.golden where session.requests.count >= 3 {
            let first = session.requests[0]
            let rest = Array(session.requests[1...])
            for cut in 1..<first.count {
                var s = KafkaStreamSplitter(role: .requests, synchronized: false)
                var r = Result()
                feed(Array(first[cut...]) + rest.flatMap { $0 }, into: &s, chunks: [1460], result: &r)
                s.finish(timestampNs: 0)
                collect(&s, into: &r)
                #expect(digest(r.frames) == digest(rest), "cut at \(cut) of \(first.count)")
                #expect(r.skipped.map(\.bytes) == [first.count - cut], "cut at \(cut)")
                #expect(r.skipped.first?.found == true)
            }
        }
    }

    @Test func requestStreamJoinedAtABoundarySkipsNothing() {
        guard let session = Self.golden.first else { return }
        var s = KafkaStreamSplitter(role: .requests, synchronized: false)
        var r = Result()
        feed(session.requests.flatMap { $0 }, into: &s, chunks: [1460], result: &r)
        #expect(digest(r.frames) == digest(session.requests))
        #expect(r.skipped.map(\.bytes) == [0])
    }

    /// A response stream joined mid-frame resynchronises on a response whose correlation id matches
    /// a request seen on the connection.
    @Test func responseStreamResynchronisesOnAKnownCorrelationId() {
        for session in Self.golden where session.responses.count >= 3 {
            let first = session.responses[0]
            let rest = Array(session.responses[1...])
            for cut in stride(from: 1, to: first.count, by: max(1, first.count / 50)) {
                var s = KafkaStreamSplitter(role: .responses, synchronized: false)
                for id in session.correlationIds.dropFirst() { s.expectResponse(correlationId: id) }
                var r = Result()
                feed(Array(first[cut...]) + rest.flatMap { $0 }, into: &s, chunks: [512], result: &r)
                s.finish(timestampNs: 0)
                collect(&s, into: &r)
                #expect(digest(r.frames) == digest(rest), "cut at \(cut)")
                #expect(r.skipped.map(\.bytes) == [first.count - cut])
            }
        }
    }

    @Test func responsesWithUnknownCorrelationIdsAreNotMistakenForABoundary() {
        var s = KafkaStreamSplitter(role: .responses, synchronized: false)
        var r = Result()
        let bytes = responseFrame(correlationId: 7) + responseFrame(correlationId: 8)
        feed(bytes, into: &s, chunks: [100], result: &r)
        s.finish(timestampNs: 0)
        collect(&s, into: &r)
        #expect(r.frames.isEmpty)
        #expect(r.skipped.map(\.bytes) == [bytes.count])
        #expect(r.skipped.first?.found == false)
    }

    @Test func gapInsideAFrameKeepsItsHeaderAndTheFollowingBoundaries() {
        let frames = (1...4).map { requestFrame(correlationId: $0, body: Array(repeating: UInt8($0), count: 300)) }
        var s = KafkaStreamSplitter(role: .requests, synchronized: true)
        var r = Result()
        feed(frames[0] + Array(frames[1][0..<50]), into: &s, chunks: [1000], result: &r)
        s.streamGap(100, timestampNs: 0, reason: .acknowledgedNotCaptured)  // inside frame 2
        feed(Array(frames[1][150...]) + frames[2] + frames[3], into: &s, chunks: [1000], result: &r)
        collect(&s, into: &r)
        #expect(digest(r.frames) == digest([frames[0], frames[2], frames[3]]))
        #expect(digest(r.truncated) == digest([Array(frames[1][0..<50])]))
        #expect(r.gaps.count == 1 && r.gaps[0].truncatedFrame && r.gaps[0].inSync)
        #expect(r.skipped.isEmpty)
    }

    @Test func gapAcrossAFrameBoundaryResynchronises() {
        let frames = (1...5).map { requestFrame(correlationId: $0, body: Array(repeating: 0x11, count: 200)) }
        var s = KafkaStreamSplitter(role: .requests, synchronized: true)
        var r = Result()
        feed(frames[0] + Array(frames[1][0..<30]), into: &s, chunks: [1000], result: &r)
        // The rest of frame 2 and the first 20 bytes of frame 3 are lost.
        s.streamGap(frames[1].count - 30 + 20, timestampNs: 0, reason: .acknowledgedNotCaptured)
        feed(Array(frames[2][20...]) + frames[3] + frames[4], into: &s, chunks: [1000], result: &r)
        collect(&s, into: &r)
        #expect(digest(r.frames) == digest([frames[0], frames[3], frames[4]]))
        #expect(digest(r.truncated) == digest([Array(frames[1][0..<30])]))
        #expect(r.gaps.count == 1 && !r.gaps[0].inSync)
        #expect(r.skipped.map(\.bytes) == [frames[2].count - 20])
    }

    @Test func implausibleSizeLosesSyncAndFindsTheNextFrame() {
        let frames = (1...3).map { requestFrame(correlationId: $0) }
        var s = KafkaStreamSplitter(role: .requests, synchronized: true, configuration: .init(maxFrameBytes: 1000))
        var r = Result()
        feed(frames[0] + [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3] + frames[1] + frames[2], into: &s, chunks: [4096], result: &r)
        collect(&s, into: &r)
        #expect(digest(r.frames) == digest(frames))
        #expect(r.implausible == 1)
        #expect(r.skipped.map(\.bytes) == [7])
    }

    @Test func streamEndingInsideAFrameKeepsWhatArrived() {
        let frame = requestFrame(correlationId: 9, body: Array(repeating: 1, count: 100))
        var s = KafkaStreamSplitter(role: .requests, synchronized: true)
        var r = Result()
        feed(Array(frame[0..<60]), into: &s, chunks: [60], result: &r)
        s.finish(timestampNs: 0)
        collect(&s, into: &r)
        #expect(r.frames.isEmpty)
        #expect(digest(r.truncated) == digest([Array(frame[0..<60])]))
        #expect(r.incomplete == 1)
    }
}
