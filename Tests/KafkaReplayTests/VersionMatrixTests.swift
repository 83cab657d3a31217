import KafkaCapture
import KafkaProtocol
import Testing

@testable import KafkaReplay

/// The matrix model, without sockets: runs are built sessions diffed against a built recording.
@Suite struct VersionMatrixTests {
    /// Produce two values, fetch them twice; `hwm` is what the second fetch's high watermark says.
    func session(hwm: Int64, values: [String] = ["v0", "v1"], extraMetadata: Bool = false) -> RecordedSession {
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.produceRequest(Messages.batch(["v0", "v1"])), Messages.produceResponse(baseOffset: 0), apiKey: 0, version: 9, correlationId: 2)
        b.exchange(1, Messages.fetchRequest(offset: 0), Messages.fetchResponse(records: Messages.batch(values), highWatermark: hwm), apiKey: 1, version: 12, correlationId: 3)
        b.exchange(1, Messages.fetchRequest(offset: 0), Messages.fetchResponse(records: Messages.batch(values), highWatermark: hwm), apiKey: 1, version: 12, correlationId: 4)
        if extraMetadata {
            b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 5)
        }
        b.close(1)
        return b.session
    }

    func run(_ name: String, _ recording: RecordedSession, _ replayed: RecordedSession, completed: Bool = true) -> VersionMatrix.Run {
        let total = recording.exchangeCount
        let report = ReplayReport(
            totalRequests: total, requestsSent: completed ? total : 1, responsesReceived: completed ? total : 1, connectionsOpened: 1,
            substitutions: [:], learned: [:], elapsedNs: 1, failure: completed ? nil : .connectionLost(connection: 1, outstanding: 1),
            warnings: [])
        return VersionMatrix.Run(name: name, address: "127.0.0.1:1", replay: report, diff: CaptureDiff().compare(recording, replayed))
    }

    @Test func targetsThatAgreeMatch() {
        let recording = session(hwm: 2)
        let a = session(hwm: 2)
        let b = session(hwm: 2)
        let m = VersionMatrix(
            capture: "rec.ktape", recording: recording, runs: [run("a", recording, a), run("b", recording, b)],
            pairDiffs: [(0, 1, CaptureDiff().compare(a, b))])
        #expect(m.allMatch)
        #expect(m.groups.isEmpty)
        #expect(m.apis.map(\.api) == ["ApiVersions", "Produce", "Fetch"])
        #expect(m.apis.allSatisfy { $0.differing == [0, 0] })
        #expect(m.pairs.count == 1 && m.pairs[0].equivalent)
        #expect(m.text().hasSuffix("every target matches the recording"))
    }

    @Test func aDifferingTargetIsNamedWithItsFirstField() throws {
        let recording = session(hwm: 2)
        let good = session(hwm: 2)
        let bad = session(hwm: 0, values: ["v0", ""])
        let m = VersionMatrix(
            capture: "rec.ktape", recording: recording, runs: [run("good", recording, good), run("bad", recording, bad)],
            pairDiffs: [(0, 1, CaptureDiff().compare(good, bad))])
        #expect(!m.allMatch)
        let fetch = try #require(m.apis.first { $0.api == "Fetch" })
        #expect(fetch.exchanges == 2)
        #expect(fetch.differing == [0, 2])
        // Both fetches went wrong the same way: one group of two.
        #expect(m.groups.count == 1)
        let g = try #require(m.groups.first)
        #expect(g.api == "Fetch")
        #expect(g.exchanges.map(\.position) == [3, 4])
        #expect(g.cells[0] == .same)
        guard case .differs(let side, let path, let recorded, let replayed, _) = g.cells[1] else {
            Issue.record("expected a difference, got \(g.cells[1])")
            return
        }
        #expect(side == "response")
        #expect(path.hasSuffix("HighWatermark"))
        #expect(recorded == "2" && replayed == "0")
        #expect(m.pairs.first?.equivalent == false)
        let text = m.text()
        #expect(text.contains("Fetch ×2 (conn 1 #3 and 1 more)"))
        #expect(text.contains("differ from the recording: bad; match: good"))
        let json = m.json()
        #expect(json.contains("\"allMatch\":false"))
        #expect(json.contains("\"differing\":{\"good\":0,\"bad\":2}"))
    }

    @Test func anIncompleteReplayDoesNotMatchEvenWithoutDifferences() {
        let recording = session(hwm: 2)
        let m = VersionMatrix(capture: "r", recording: recording, runs: [run("a", recording, recording, completed: false)], pairDiffs: [])
        #expect(!m.allMatch)
        #expect(m.text().contains("replay stopped"))
    }

    @Test func requestsOnlyOneSideSentAreCounted() {
        let recording = session(hwm: 2)
        let more = session(hwm: 2, extraMetadata: true)
        let m = VersionMatrix(capture: "r", recording: recording, runs: [run("more", recording, more)], pairDiffs: [])
        #expect(m.extraRequests == [1])
        #expect(!m.allMatch)
        #expect(m.text().contains("(not in recording)"))
    }
}
