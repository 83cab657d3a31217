import KafkaProtocol
import NIOCore

/// I20: in a group generation, the leader's SyncGroup assignments cover the subscribed partitions
/// without overlap, and each member receives exactly what the leader assigned it.
///
/// Per (group, generation id): the members' subscriptions from the leader's JoinGroup response, the
/// leader's SyncGroup assignments, and the assignment each member's SyncGroup response delivered.
/// Evaluated at the end (members' answers and the leader's request can be captured in any order),
/// for generations whose leader's SyncGroup is in the capture and was not rejected:
/// - every member's SyncGroup answer equals the bytes the leader assigned it (empty when the leader
///   assigned it nothing), for any protocol type;
/// - for protocol type `consumer` (ConsumerProtocolAssignment/Subscription): no partition assigned to
///   two members, no member given a topic it did not subscribe to, and every partition of the
///   subscribed topics (partition counts from Metadata) assigned, except partitions some member still
///   owns (cooperative rebalancing revokes before it reassigns).
public final class GroupAssignmentsConsistent: Invariant {
    /// `I20` in reports and `--only`/`--skip`: group assignments are consistent.
    public let id = InvariantID(20)

    private struct Key: Hashable, Comparable {
        var group: String
        var generation: Int32
        static func < (a: Key, b: Key) -> Bool { a.group != b.group ? a.group < b.group : a.generation < b.generation }
    }
    private struct Generation {
        var protocolType: String?
        var subscriptions: [String: ByteBuffer] = [:]
        var joinBy: ExchangeReference?
        var assignments: [String: ByteBuffer]?
        var leaderBy: ExchangeReference?
        var leaderRejected = false
        var received: [(member: String, assignment: ByteBuffer, by: ExchangeReference)] = []
    }
    private var generations: [Key: Generation] = [:]
    /// A fresh I20 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I20 (group assignments are consistent).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        switch exchange.apiKey {
        case 11:
            guard let req = exchange.requestBody(JoinGroupRequest.self), let resp = exchange.responseBody(JoinGroupResponse.self),
                resp.errorCode == 0
            else { return [] }
            let key = Key(group: req.groupId, generation: resp.generationId)
            var g = generations[key] ?? Generation()
            g.protocolType = (exchange.apiVersion >= 7 ? resp.protocolType : nil) ?? req.protocolType
            if !resp.members.isEmpty {
                for m in resp.members { g.subscriptions[m.memberId] = m.metadata }
                g.joinBy = exchange.reference
            }
            generations[key] = g
        case 14:
            guard let req = exchange.requestBody(SyncGroupRequest.self) else { return [] }
            let key = Key(group: req.groupId, generation: req.generationId)
            var g = generations[key] ?? Generation()
            if let t = req.protocolType { g.protocolType = t }
            let resp = exchange.responseBody(SyncGroupResponse.self)
            if !req.assignments.isEmpty {
                var map: [String: ByteBuffer] = [:]
                for a in req.assignments { map[a.memberId] = a.assignment }
                g.assignments = map
                g.leaderBy = exchange.reference
                if let resp, resp.errorCode != 0 { g.leaderRejected = true }
            }
            if let resp, resp.errorCode == 0 { g.received.append((req.memberId, resp.assignment, exchange.reference)) }
            generations[key] = g
        default:
            break
        }
        return []
    }

    /// Reports what only the whole capture shows for I20 (group assignments are consistent).
    public func finish(_ context: CheckContext) -> [Finding] {
        var out: [Finding] = []
        for key in generations.keys.sorted() {
            guard let g = generations[key], let assignments = g.assignments, let leaderBy = g.leaderBy, !g.leaderRejected
            else { continue }
            let details = ["group": key.group, "generation": String(key.generation)]
            let isConsumer = g.protocolType == "consumer"
            for r in g.received {
                let expected = assignments[r.member] ?? ByteBuffer()
                guard r.assignment != expected else { continue }
                var d = details
                d["member"] = r.member
                let bytes = Self.firstDifference(r.assignment, expected)
                d["differsAt"] = String(bytes.offset)
                d["receivedBytes"] = bytes.got
                d["assignedBytes"] = bytes.want
                var what = "\(r.assignment.readableBytes) bytes where the leader assigned it \(expected.readableBytes); \(bytes.text)"
                if isConsumer, let got = Self.assignment(r.assignment), let want = Self.assignment(expected) {
                    d["received"] = Self.describe(got)
                    d["assigned"] = Self.describe(want)
                    what = Self.fieldDifferences(got, want, r.assignment, expected).joined(separator: "; ") + "; " + bytes.text
                }
                out.append(
                    Finding(
                        id, "In group \(key.group) generation \(key.generation), member \(r.member) received \(what).",
                        exchanges: [r.by, leaderBy], details: d))
            }
            guard isConsumer else { continue }
            out += consumerChecks(key, g, assignments, leaderBy, details, context)
        }
        return out
    }

    private func consumerChecks(
        _ key: Key, _ g: Generation, _ assignments: [String: ByteBuffer], _ leaderBy: ExchangeReference,
        _ details: [String: String], _ context: CheckContext
    ) -> [Finding] {
        var out: [Finding] = []
        var owner: [TopicPartition: String] = [:]
        var overlaps: [(TopicPartition, String, String)] = []
        var unsubscribed: [(String, String)] = []
        var subscriptions: [String: ConsumerProtocolSubscription] = [:]
        for (member, bytes) in g.subscriptions {
            if let s = Self.subscription(bytes) { subscriptions[member] = s }
        }
        for member in assignments.keys.sorted() {
            guard let bytes = assignments[member], let a = Self.assignment(bytes) else {
                context.note("I20: some consumer assignments did not decode and were not checked")
                continue
            }
            for tp in a.assignedPartitions {
                if let sub = subscriptions[member], !sub.topics.contains(tp.topic) { unsubscribed.append((member, tp.topic)) }
                for p in tp.partitions {
                    let part = TopicPartition(tp.topic, p)
                    if let other = owner[part] { overlaps.append((part, other, member)) } else { owner[part] = member }
                }
            }
        }
        var exchanges = [leaderBy]
        if let j = g.joinBy { exchanges.append(j) }
        if !overlaps.isEmpty {
            var d = details
            d["partitions"] = overlaps.map { $0.0.description }.joined(separator: ",")
            let o = overlaps[0]
            out.append(
                Finding(
                    id,
                    "In group \(key.group) generation \(key.generation), the leader assigned \(o.0) to both \(o.1) and \(o.2)"
                        + (overlaps.count > 1 ? " (\(overlaps.count) partitions assigned twice)." : "."),
                    exchanges: [leaderBy], details: d))
        }
        var seen: Set<[String]> = []
        for (member, topic) in unsubscribed where seen.insert([member, topic]).inserted {
            var d = details
            d["member"] = member
            d["topic"] = topic
            out.append(
                Finding(
                    id,
                    "In group \(key.group) generation \(key.generation), the leader assigned member \(member) partitions of \(topic), which it did not subscribe to.",
                    exchanges: exchanges, details: d))
        }
        guard !subscriptions.isEmpty else { return out }
        var owned: Set<TopicPartition> = []
        var topics: Set<String> = []
        for s in subscriptions.values {
            topics.formUnion(s.topics)
            for tp in s.ownedPartitions { for p in tp.partitions { owned.insert(TopicPartition(tp.topic, p)) } }
        }
        var missing: [TopicPartition] = []
        for topic in topics.sorted() {
            guard let n = context.model.partitionCounts[topic] else { continue }
            for p in 0..<Int32(clamping: n) {
                let tp = TopicPartition(topic, p)
                if owner[tp] == nil && !owned.contains(tp) { missing.append(tp) }
            }
        }
        if !missing.isEmpty {
            var d = details
            d["partitions"] = missing.map(\.description).joined(separator: ",")
            out.append(
                Finding(
                    id,
                    "In group \(key.group) generation \(key.generation), the leader left \(missing.count) subscribed partition\(missing.count == 1 ? "" : "s") unassigned: \(missing.prefix(8).map(\.description).joined(separator: ", "))\(missing.count > 8 ? ", ..." : "").",
                    exchanges: exchanges, details: d))
        }
        return out
    }

    /// A consumer-protocol assignment: INT16 version, then the schema (newer versions decode as the
    /// newest known, as Kafka's consumer does). Empty bytes mean nothing assigned.
    static func assignment(_ bytes: ByteBuffer) -> ConsumerProtocolAssignment? {
        if bytes.readableBytes == 0 { return ConsumerProtocolAssignment() }
        var r = KafkaReader(bytes)
        guard let v = try? r.readInt16(), v >= 0 else { return nil }
        return try? ConsumerProtocolAssignment(from: &r, version: min(v, ConsumerProtocolAssignment.versions.upperBound))
    }

    static func subscription(_ bytes: ByteBuffer) -> ConsumerProtocolSubscription? {
        var r = KafkaReader(bytes)
        guard let v = try? r.readInt16(), v >= 0 else { return nil }
        return try? ConsumerProtocolSubscription(from: &r, version: min(v, ConsumerProtocolSubscription.versions.upperBound))
    }

    /// Which fields of a consumer assignment differ, for people: `partitions t[0] where the leader
    /// assigned t[0, 1]`, `version 0 where the leader wrote 1`, `UserData 3 bytes where ... 0`.
    static func fieldDifferences(
        _ got: ConsumerProtocolAssignment, _ want: ConsumerProtocolAssignment, _ gotBytes: ByteBuffer, _ wantBytes: ByteBuffer
    ) -> [String] {
        var out: [String] = []
        let gv = gotBytes.getInteger(at: gotBytes.readerIndex, endianness: .big, as: Int16.self)
        let wv = wantBytes.getInteger(at: wantBytes.readerIndex, endianness: .big, as: Int16.self)
        if gv != wv { out.append("version \(gv.map(String.init) ?? "none") where the leader wrote \(wv.map(String.init) ?? "none")") }
        if describe(got) != describe(want) {
            out.append("partitions \(describe(got)) where the leader assigned \(describe(want))")
        }
        if got.userData != want.userData {
            func size(_ b: ByteBuffer?) -> String { b.map { "\($0.readableBytes) bytes" } ?? "null" }
            out.append("UserData \(size(got.userData)) where the leader assigned \(size(want.userData))")
        }
        if out.isEmpty { out.append("the same fields, encoded differently") }
        return out
    }

    /// The first byte offset where two blobs differ and up to 8 bytes of each from there, in hex.
    static func firstDifference(_ got: ByteBuffer, _ want: ByteBuffer) -> (offset: Int, got: String, want: String, text: String) {
        let a = Array(got.readableBytesView)
        let b = Array(want.readableBytesView)
        var i = 0
        while i < a.count && i < b.count && a[i] == b[i] { i += 1 }
        func hex(_ bytes: [UInt8]) -> String {
            let slice = bytes.dropFirst(i).prefix(8)
            if slice.isEmpty { return "(end)" }
            return slice.map { v in (v < 16 ? "0" : "") + String(v, radix: 16) }.joined(separator: " ")
        }
        let g = hex(a)
        let w = hex(b)
        return (i, g, w, "first difference at byte \(i): \(g) where the leader's bytes are \(w)")
    }

    static func describe(_ a: ConsumerProtocolAssignment) -> String {
        let parts = a.assignedPartitions.map { "\($0.topic)\($0.partitions.sorted())" }
        return parts.isEmpty ? "nothing" : parts.joined(separator: " ")
    }
}
