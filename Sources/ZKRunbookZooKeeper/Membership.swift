import Foundation

/// One way in which the members the user wrote differ from the members the servers report.
public struct MembershipFinding: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable {
        /// The servers list a member the file (or `--server` list) does not.
        case missingMember = "missing-member"
        /// The file lists a member no server reports.
        case extraMember = "extra-member"
        /// Observer in one, participant in the other.
        case roleDiffers = "role-differs"
        /// The server at a written endpoint says it is another server id.
        case idDiffers = "id-differs"
        /// The file's host for a member is not the address the servers use for it.
        case hostDiffers = "host-differs"
        /// Two written ids share one client endpoint: one server would be counted twice.
        case duplicateEndpoint = "duplicate-endpoint"
        /// Servers report different member lists: a split-brain risk, and no list to trust.
        case serversDisagree = "servers-disagree"
        /// A listed server follows a leader that is not in the list.
        case missingLeader = "missing-leader"
        /// No server reported its membership (conf refused, no AdminServer, or none answered).
        case unknown
    }

    public var kind: Kind
    public var ids: [Int]
    public var message: String

    public init(_ kind: Kind, ids: [Int], _ message: String) {
        (self.kind, self.ids, self.message) = (kind, ids, message)
    }
}

/// How much of the ensemble a view covers.
public enum ViewScope: String, Sendable, Codable {
    /// Every member the servers report was probed.
    case whole
    /// Some members were not probed: the view judges only what it saw.
    case partial
    /// The servers did not say who the members are: judged as written, not confirmed.
    case unconfirmed
}

/// The members as the servers report them, and what differs from what the user wrote.
public struct MembershipReport: Sendable, Codable {
    /// The member list the servers report (the leader's, when it answered), or nil when none did.
    public var reported: [ServerEntry]?
    /// Which server and channel the list came from ("server 3, 4lw conf").
    public var source: String?
    public var findings: [MembershipFinding]
    public var scope: ViewScope

    /// True only when the servers told who the members are and that is exactly what was written.
    public var matches: Bool { reported != nil && findings.isEmpty }

    /// Voters and observers to do the quorum maths with: the reported ones when known.
    public func roles(written: [EnsembleMember]) -> (voters: [Int], observers: [Int]) {
        if let reported {
            return (reported.filter { $0.role == .participant }.map(\.id), reported.filter { $0.role == .observer }.map(\.id))
        }
        return (written.filter { $0.role == .participant }.map(\.id), written.filter { $0.role == .observer }.map(\.id))
    }
}

/// Compares what the user wrote with what the servers say (pure: tested on any facts).
public enum MembershipCheck {
    public static let fix =
        "add conf to 4lw.commands.whitelist in zoo.cfg (e.g. 4lw.commands.whitelist=srvr,ruok,mntr,conf), or give each node's adminPort"

    /// `facts[i]` is what `written[i]` answered.
    public static func compare(written: [EnsembleMember], facts: [ServerFacts]) -> MembershipReport {
        var findings: [MembershipFinding] = []
        var byEndpoint: [String: [Int]] = [:]
        for member in written { byEndpoint["\(member.host.lowercased()):\(member.clientPort)", default: []].append(member.id) }
        for (endpoint, ids) in byEndpoint.sorted(by: { $0.key < $1.key }) where ids.count > 1 {
            findings.append(
                MembershipFinding(
                    .duplicateEndpoint, ids: ids,
                    "servers \(ids.map(String.init).joined(separator: " and ")) are both written as \(endpoint): one server would be counted as \(ids.count)"))
        }
        for (member, fact) in zip(written, facts) {
            if let said = fact.serverID, said != member.id {
                findings.append(
                    MembershipFinding(
                        .idDiffers, ids: [member.id, said],
                        "the server at \(member.endpoint) says it is server \(said) (its myid), but it is written as server \(member.id)"))
            }
        }

        let reporting = zip(written, facts).compactMap { member, fact in fact.membership.map { (member: member, fact: fact, list: $0) } }
        guard !reporting.isEmpty else {
            let serving = facts.contains { $0.mode.isServing }
            let asked = facts.contains { $0.serverID != nil || $0.notes.contains { $0.hasPrefix("conf:") } }
            // 3.4 answers conf without members: no whitelist change would make it list them.
            let zooCfgOnly = facts.filter(\.mode.isServing).allSatisfy { $0.version?.hasPrefix("3.4.") == true }
            let unread = facts.lazy.flatMap(\.notes).first { $0.hasPrefix("membership: ZooKeeper 3.4") }
            if leaderOutsideList(facts) { findings.append(missingLeader) }
            findings.append(
                MembershipFinding(
                    .unknown, ids: [],
                    !asked
                        ? "not checked: the servers were not asked who their members are"
                        : serving && zooCfgOnly
                            ? (unread.map { String($0.dropFirst("membership: ".count)) }
                                ?? "ZooKeeper 3.4 lists its members only in zoo.cfg, which was not read")
                                + ": give each node's zooCfg in the ensemble file, or install the agent (zkrunbook install) to find the running server's"
                            : serving
                                ? "no server reported its members (conf is not whitelisted and no AdminServer answered): \(fix)"
                                : "no server answered with its members"))
            let partial = findings.contains { $0.kind == .missingLeader }
            return MembershipReport(reported: nil, source: nil, findings: findings, scope: partial ? .partial : .unconfirmed)
        }
        func key(_ list: [ServerEntry]) -> [String] {
            list.map { "\($0.id)=\($0.host):\($0.quorumPort):\($0.electionPort):\($0.role.rawValue)" }.sorted()
        }
        let chosen = reporting.first { $0.fact.mode == .leader } ?? reporting[0]
        let reference = key(chosen.list)
        let dissenters = reporting.filter { key($0.list) != reference }
        if !dissenters.isEmpty {
            let ids = ([chosen.member.id] + dissenters.map(\.member.id)).sorted()
            // Ids alone when they differ; the addresses too when the ids are the same (or the lists read alike).
            let sameIDs = Set(([chosen] + dissenters).map { $0.list.map(\.id).sorted() }).count == 1
            let lists = ([chosen] + dissenters).map { reporter in
                let entries = reporter.list.sorted { $0.id < $1.id }.map {
                    sameIDs ? "\($0.id)=\($0.host):\($0.quorumPort):\($0.electionPort):\($0.role.rawValue)" : String($0.id)
                }
                return "server \(reporter.member.id) lists \(entries.joined(separator: ","))" + (reporter.fact.configVersion.map { " (version \($0))" } ?? "")
            }
            findings.append(
                MembershipFinding(
                    .serversDisagree, ids: ids,
                    "the servers report different member lists (a split-brain risk; fix the configs before any change): " + lists.joined(separator: "; ")))
        }
        let reported = chosen.list.sorted { $0.id < $1.id }
        let writtenIDs = Set(written.map(\.id))
        let reportedIDs = Set(reported.map(\.id))
        for entry in reported where !writtenIDs.contains(entry.id) {
            findings.append(
                MembershipFinding(
                    .missingMember, ids: [entry.id],
                    "server \(entry.id) (\(entry.host), \(entry.role.rawValue)) is a member as the servers report it, but it is not in the list given"))
        }
        for member in written where !reportedIDs.contains(member.id) {
            findings.append(
                MembershipFinding(
                    .extraMember, ids: [member.id], "server \(member.id) (\(member.endpoint)) is in the list given, but the servers do not list it as a member")
            )
        }
        for member in written {
            guard let entry = reported.first(where: { $0.id == member.id }) else { continue }
            if entry.role != member.role {
                findings.append(
                    MembershipFinding(
                        .roleDiffers, ids: [member.id], "server \(member.id) is written as \(member.role.rawValue), but the servers say \(entry.role.rawValue)")
                )
            }
            if isAddressLiteral(entry.host), isAddressLiteral(member.host), entry.host != member.host {
                findings.append(
                    MembershipFinding(
                        .hostDiffers, ids: [member.id], "server \(member.id) is written at \(member.host), but the servers reach it at \(entry.host)"))
            }
        }
        if leaderOutsideList(facts) { findings.append(missingLeader) }
        let scope: ViewScope = reportedIDs.isSubset(of: writtenIDs) && !findings.contains { $0.kind == .missingLeader } ? .whole : .partial
        return MembershipReport(
            reported: reported, source: "server \(chosen.member.id), \(chosen.fact.channels["membership"] ?? "conf")", findings: findings, scope: scope)
    }

    /// A listed server follows, no listed server leads, and every listed server answered as itself: the
    /// leader is outside the list. When one did not answer (down, at its connection limit, a stranger at
    /// its address), the leader may be that one: nothing says the list is short.
    static func leaderOutsideList(_ facts: [ServerFacts]) -> Bool {
        facts.contains { $0.mode == .follower || $0.mode == .observer } && !facts.contains { $0.mode == .leader }
            && facts.allSatisfy { $0.mode.isServing || $0.mode == .notServing }
    }

    static let missingLeader = MembershipFinding(
        .missingLeader, ids: [], "a listed server follows a leader that is not in the list given: the list is part of the ensemble")

    /// An IPv4 or IPv6 literal: only these are compared, since a name and an address may be the same host.
    static func isAddressLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
