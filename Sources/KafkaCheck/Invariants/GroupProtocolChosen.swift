import KafkaProtocol

/// I33: JoinGroup picks a protocol every member supports, the one the members prefer.
///
/// Each member's JoinGroup request lists the protocols (assignors) it supports, most preferred first.
/// The coordinator (Kafka's `ClassicGroup.selectProtocol`) takes the protocols every member supports,
/// lets each member vote for the first of those in its own list, and picks the one with most votes;
/// a group whose members share no protocol is rejected with INCONSISTENT_GROUP_PROTOCOL. So per
/// (group, generation), judged at the end: the protocol named in the JoinGroup answers must be in
/// every member's list (members whose request the capture saw), and when the capture saw every
/// member the leader's answer lists, it must be the vote winner (when the vote has one winner; Kafka
/// breaks ties arbitrarily).
public final class GroupProtocolChosen: Invariant {
    /// `I33` in reports and `--only`/`--skip`: JoinGroup picks a protocol every member supports.
    public let id = InvariantID(33)
    private struct Key: Hashable, Comparable {
        var group: String
        var generation: Int32
        static func < (a: Key, b: Key) -> Bool { a.group != b.group ? a.group < b.group : a.generation < b.generation }
    }
    private struct Generation {
        var chosen: String?
        var chosenBy: ExchangeReference?
        var offered: [String: (protocols: [String], by: ExchangeReference)] = [:]
        var members: [String]?
    }
    private var generations: [Key: Generation] = [:]
    /// A fresh I33 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I33 (JoinGroup picks a protocol every member supports).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.apiKey == 11, let req = exchange.requestBody(JoinGroupRequest.self),
            let resp = exchange.responseBody(JoinGroupResponse.self), resp.errorCode == 0
        else { return [] }
        let key = Key(group: req.groupId, generation: resp.generationId)
        var g = generations[key] ?? Generation()
        if let name = resp.protocolName, !name.isEmpty, g.chosen == nil {
            g.chosen = name
            g.chosenBy = exchange.reference
        }
        let protocols = req.protocols.map(\.name)
        if !protocols.isEmpty { g.offered[resp.memberId] = (protocols, exchange.reference) }
        if !resp.members.isEmpty { g.members = resp.members.map(\.memberId) }
        generations[key] = g
        return []
    }

    /// Reports what only the whole capture shows for I33 (JoinGroup picks a protocol every member supports).
    public func finish(_ context: CheckContext) -> [Finding] {
        var out: [Finding] = []
        for key in generations.keys.sorted() {
            guard let g = generations[key], let chosen = g.chosen, let chosenBy = g.chosenBy else { continue }
            let details = ["group": key.group, "generation": String(key.generation), "protocol": chosen]
            var unsupported = false
            for member in g.offered.keys.sorted() {
                guard let offer = g.offered[member], !offer.protocols.contains(chosen) else { continue }
                unsupported = true
                var d = details
                d["member"] = member
                out.append(
                    Finding(
                        id,
                        "In group \(key.group) generation \(key.generation) the coordinator chose protocol \(chosen), which member \(member) does not support (it offered \(offer.protocols.joined(separator: ", "))).",
                        exchanges: [chosenBy, offer.by], details: d,
                        summary: "The coordinator chose a protocol that a member of the group does not support."))
            }
            guard !unsupported, let members = g.members, members.allSatisfy({ g.offered[$0] != nil }) else { continue }
            let lists = members.compactMap { g.offered[$0]?.protocols }
            guard var candidates = lists.first.map(Set.init) else { continue }
            for l in lists.dropFirst() { candidates.formIntersection(l) }
            var votes: [String: Int] = [:]
            for l in lists {
                if let vote = l.first(where: { candidates.contains($0) }) { votes[vote, default: 0] += 1 }
            }
            guard let top = votes.values.max(), votes.values.filter({ $0 == top }).count == 1,
                let winner = votes.first(where: { $0.value == top })?.key, winner != chosen
            else { continue }
            var d = details
            d["preferred"] = winner
            d["votes"] = votes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            out.append(
                Finding(
                    id,
                    "In group \(key.group) generation \(key.generation) the coordinator chose protocol \(chosen), but the members' order of preference picks \(winner) (votes: \(d["votes"] ?? "")).",
                    exchanges: [chosenBy], details: d))
        }
        return out
    }
}
