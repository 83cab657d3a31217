import KafkaCapture
import KafkaProtocol
import Testing

@testable import KafkaReplay

@Suite struct ServeMatcherTests {
    /// conn 1 (bootstrap): ApiVersions, Metadata. conn 2 (node 1): ApiVersions, FindCoordinator, Fetch(0), Fetch(2).
    /// conn 3 (node 1): ApiVersions, Heartbeat.
    func script() -> ServeScript {
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        b.open(2, node: 1)
        b.exchange(2, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        var fc = FindCoordinatorRequest()
        fc.key = "g"
        b.exchange(2, fc, FindCoordinatorResponse(), apiKey: 10, version: 3, correlationId: 2)
        b.exchange(2, Messages.fetchRequest(offset: 0), Messages.fetchResponse(records: Messages.batch(["a", "b"]), highWatermark: 2), apiKey: 1, version: 12, correlationId: 3)
        b.exchange(2, Messages.fetchRequest(offset: 2, sessionId: 0, epoch: 1), Messages.fetchResponse(records: .init(), highWatermark: 2), apiKey: 1, version: 12, correlationId: 4)
        b.open(3, node: 1)
        b.exchange(3, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = "m-1"
        b.exchange(3, hb, HeartbeatResponse(), apiKey: 12, version: 4, correlationId: 2)
        return ServeScript(session: b.session, rules: .standard())
    }

    func key(_ body: any KafkaMessage, _ apiKey: Int16, _ version: Int16, script: ServeScript) -> (Int32, KafkaValue) {
        let payload = SessionBuilder.requestPayload(body, apiKey: apiKey, version: version, correlationId: 99, clientId: "other-client")
        let api = KafkaAPIs.descriptor(apiKey: apiKey)?.name ?? "?"
        return (ServeScript.signature(apiKey, version), ComparableExchange.normalizedRequest(payload, api: api, normalizer: script.normalizer))
    }

    @Test func followsRecordedConnectionsAndSwitchesWhenTheFirstGuessWasWrong() throws {
        let s = script()
        var m = ServeMatcher(script: s)
        m.connectionOpened(10, node: 1)
        m.connectionOpened(11, node: 1)
        // Connection 11 is the heartbeat connection, but sends ApiVersions first: it follows conn 2 for now.
        let (av, avv) = key(ApiVersionsRequest(), 18, 3, script: s)
        #expect(m.match(11, signature: av, normalized: avv) == ServeMatcher.Match(connection: 1, entry: 0))
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = "m-1"
        let (h, hv) = key(hb, 12, 4, script: s)
        // Heartbeat is only on conn 3: 11 moves there and gives conn 2's ApiVersions back.
        #expect(m.match(11, signature: h, normalized: hv) == ServeMatcher.Match(connection: 2, entry: 1))
        #expect(m.match(10, signature: av, normalized: avv) == ServeMatcher.Match(connection: 1, entry: 0))
        // A second heartbeat repeats the recorded one.
        #expect(m.match(11, signature: h, normalized: hv) == ServeMatcher.Match(connection: 2, entry: 1))
        // Fetch with another session epoch (noise) matches the recorded fetch at that offset.
        let (f, fv) = key(Messages.fetchRequest(offset: 2, sessionId: 0, epoch: 7), 1, 12, script: s)
        #expect(m.match(10, signature: f, normalized: fv) == ServeMatcher.Match(connection: 1, entry: 3))
        let (f0, f0v) = key(Messages.fetchRequest(offset: 0), 1, 12, script: s)
        #expect(m.match(10, signature: f0, normalized: f0v) == ServeMatcher.Match(connection: 1, entry: 2))
        #expect(!m.playedThrough)
    }

    @Test func missesFindTheNearestCandidate() throws {
        let s = script()
        var m = ServeMatcher(script: s)
        m.connectionOpened(10, node: 1)
        let (f, fv) = key(Messages.fetchRequest(offset: 5), 1, 12, script: s)
        #expect(m.match(10, signature: f, normalized: fv) == nil)
        let (near, diffs) = try #require(m.nearest(10, signature: f, normalized: fv))
        #expect(near.connection == 1)
        #expect(diffs.map(\.path.description) == ["Topics[Topic=orders].Partitions[Partition=0].FetchOffset"])
        let (md, mdv) = key(Messages.metadataRequest([]), 3, 9, script: s)
        #expect(m.nearest(10, signature: md, normalized: mdv) == nil)
    }

    @Test func playedThroughOnceEveryAnswerWasGivenAndClientsLeft() {
        let s = script()
        var m = ServeMatcher(script: s)
        var id: UInt64 = 0
        for (c, conn) in s.connections.enumerated() {
            id += 1
            m.connectionOpened(id, node: conn.nodeId)
            for e in conn.entries {
                #expect(m.match(id, signature: e.signature, normalized: e.normalized)?.connection == c)
            }
        }
        #expect(!m.playedThrough)
        for i in 1...id { m.connectionClosed(i) }
        #expect(m.playedThrough)
        m.restart()
        #expect(!m.playedThrough)
        #expect(m.rounds == 1)
    }
}
