import Foundation

/// Whether the server that answered at a written member's endpoint is that member of this ensemble.
///
/// An address is not an identity: a stale server, another ensemble's server on a reused address, or anything
/// that answers `srvr` with `Mode: leader` would otherwise be counted as the member written there — and a
/// leader claimed by a stranger hides the real leader. Only what the servers said decides (pure: tested on
/// any facts); a server that gives nothing to check against is never called a stranger.
public enum MemberIdentity {
    /// Why the server at one written endpoint is not counted as that member.
    public struct Doubt: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            /// What it said proves it is not this member (another member list, another client address).
            case stranger
            /// It claims to lead but says nothing of who it is, while the others say who they are.
            case unconfirmed
        }

        public var index: Int
        public var kind: Kind
        public var message: String
    }

    /// The doubts about `facts[i]`, the answer at `written[i]`'s endpoint.
    public static func doubts(written: [EnsembleMember], facts: [ServerFacts]) -> [Doubt] {
        let reference = referenceList(written: written, facts: facts)
        // The quorum addresses the ensemble file gives, where it gives them: a list sharing none of them is
        // not this ensemble's even when it is the only list any server reported.
        let writtenQuorum = written.compactMap { member -> ServerEntry? in
            guard let quorumPort = member.quorumPort, let electionPort = member.electionPort else {
                return nil
            }
            return ServerEntry(
                id: member.id, host: member.host, quorumPort: quorumPort, electionPort: electionPort,
                role: .participant, line: 0)
        }
        var doubts: [Doubt] = []
        for (index, (member, fact)) in zip(written, facts).enumerated() {
            let here = "the server at \(member.endpoint) (written as server \(member.id))"
            // Another member list that shares no quorum address with this ensemble's: another ensemble.
            if let list = fact.membership,
                let other = [reference ?? [], writtenQuorum].first(where: { ours in
                    !ours.isEmpty
                        && !list.contains { entry in ours.contains { sameQuorumAddress($0, entry) } }
                })
            {
                doubts.append(
                    Doubt(
                        index: index, kind: .stranger,
                        message:
                            "\(here) belongs to another ensemble: it lists \(describe(list)), this ensemble \(describe(other))"
                            + (fact.serverID.map { "; it says it is server \($0)" } ?? "")))
                continue
            }
            // The members' config says where this member serves clients; a server that does not say its myid
            // and answers elsewhere is not it.
            let id = fact.serverID ?? member.id
            if fact.serverID == nil, fact.mode.isServing || fact.mode == .notServing,
                let entry = reference?.first(where: { $0.id == id }),
                let port = entry.clientPort, !clientAddress(entry, matches: member)
            {
                let address = (entry.clientAddress ?? "*") + ":" + String(port)
                doubts.append(
                    Doubt(
                        index: index, kind: .stranger,
                        message:
                            "\(here) is not server \(id): the members' config has server \(id) serving clients at \(address), and the server here did not say its myid"
                    ))
                continue
            }
            // A leader that says nothing of who it is, while other servers say who they are.
            if fact.mode == .leader, fact.serverID == nil, fact.membership == nil {
                let known = zip(written, facts).filter { $0.1.serverID != nil }.map { "\($0.1.serverID!)" }
                guard !known.isEmpty else { continue }
                let why = fact.notes.first { $0.hasPrefix("conf:") } ?? "conf gave no serverId"
                doubts.append(
                    Doubt(
                        index: index, kind: .unconfirmed,
                        message:
                            "\(here) says Mode: leader but not which server it is (\(why)), while server(s) \(known.joined(separator: ", ")) say their myid: not counted as the leader (a stale server or another ensemble on a reused address answers like this)"
                    ))
            }
        }
        return doubts
    }

    /// The member list most servers report (ties: the one a leader reports, then the one closest to what
    /// was written); nil when no server reported one.
    static func referenceList(written: [EnsembleMember], facts: [ServerFacts]) -> [ServerEntry]? {
        var groups: [[String]: (list: [ServerEntry], count: Int, leader: Bool)] = [:]
        for fact in facts {
            guard let list = fact.membership else { continue }
            let key = list.map { "\($0.id)=\($0.host):\($0.quorumPort):\($0.electionPort)" }.sorted()
            var group = groups[key] ?? (list, 0, false)
            group.count += 1
            group.leader = group.leader || fact.mode == .leader
            groups[key] = group
        }
        let writtenIDs = Set(written.map(\.id))
        return groups.values.max { a, b in
            if a.count != b.count { return a.count < b.count }
            if a.leader != b.leader { return !a.leader }
            return Set(a.list.map(\.id)).intersection(writtenIDs).count
                < Set(b.list.map(\.id)).intersection(writtenIDs).count
        }?.list
    }

    /// Two entries name the same quorum and election ports on the same host; hosts are compared only when
    /// both are address literals (a name and an address may be one machine).
    static func sameQuorumAddress(_ a: ServerEntry, _ b: ServerEntry) -> Bool {
        guard a.quorumPort == b.quorumPort, a.electionPort == b.electionPort else { return false }
        guard MembershipCheck.isAddressLiteral(a.host), MembershipCheck.isAddressLiteral(b.host) else {
            return true
        }
        return a.host == b.host
    }

    /// The written endpoint is where the entry says the member serves clients: the same port, and the same
    /// address unless either is a name or the entry's is a wildcard.
    static func clientAddress(_ entry: ServerEntry, matches member: EnsembleMember) -> Bool {
        guard entry.clientPort == member.clientPort else { return false }
        guard let address = entry.clientAddress,
            !["0.0.0.0", "::", "0:0:0:0:0:0:0:0"].contains(address),
            MembershipCheck.isAddressLiteral(address), MembershipCheck.isAddressLiteral(member.host)
        else { return true }
        return address == member.host
    }

    static func describe(_ list: [ServerEntry]) -> String {
        list.sorted { $0.id < $1.id }.map {
            "\($0.id) at \($0.host):\($0.quorumPort):\($0.electionPort)"
        }.joined(separator: ", ")
    }
}
