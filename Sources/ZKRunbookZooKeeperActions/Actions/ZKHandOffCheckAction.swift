import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-hand-off-check`: before a node's restart in a roll, whether its leadership can be handed off instead of
/// forcing an election. Only a leader is handed off, and only where reconfig can make it an observer now
/// (3.5+, reconfigEnabled, a quorum of the voters left): its voters then elect nobody, the leader designates a
/// caught-up successor (ZooKeeper's Leader.getDesignatedLeader), it restarts as an observer and gets its vote
/// back. A server the file writes as a participant that the servers hold as an observer is a hand-off left
/// unfinished (a conductor stopped mid-way): its vote is given back after its restart. Read-only: a plan says
/// which it will be, and why an election where it cannot be avoided.
struct ZKHandOffCheckAction: ArgumentsDecodable {
    static let name = "zk-hand-off-check"
    static let summary =
        "read-only: whether a node's restart can hand its leadership off through reconfig instead of forcing an election, and whether its vote must be given back"

    var ensemble: Template
    var server: Template
    var enabled: Template
    /// The ids this roll restarts (`1,3`; empty: every node): a roll that leaves the leader's config as it
    /// was does not restart it, and a hand-off would move its leadership for nothing.
    var restarts: Template
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["enabled": Template.literal("true"), "restarts": Template.literal("")] }
    var yieldedFacts: FactNames? { FactNames(["handOff", "giveVoteBack", "version", "reason"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "if server \(server.display(resolver)) leads and reconfig can make it an observer now, hand its leadership off (no election); if the servers hold it as an observer the file does not, give its vote back after its restart"
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([ensemble, server, enabled, restarts])
        guard let id = Int(values[1]) else { return .failure(cause: .invalidArgument, message: "server '\(values[1])' is not a server id") }
        let members: [EnsembleMember]
        switch ZooKeeperActions.members(fromSource: values[0]) {
        case .success(let found): members = found
        case .failure(let outcome): return outcome
        }
        guard let member = members.first(where: { $0.id == id }) else {
            return .failure(cause: .invalidArgument, message: "server \(id) is not in \(values[0])")
        }
        let seconds = min(timeout?.resolve(context.resolver.parameters)?.seconds ?? 5, max(1, context.remainingSeconds))
        let probe = ServerProbe(
            limits: SocketLimits(connectTimeout: min(seconds, 2), readTimeout: seconds), wantMonitor: false, wantRuok: false,
            connector: context.options.services.serverConnector)
        let seen = probe.probe(member.endpoint, adminPort: member.adminPort)
        let mode = seen.mode
        func decided(_ handOff: Bool, giveVoteBack: Bool, version: String = "", _ reason: String) -> ActionOutcome {
            .success(
                reason,
                facts: ["handOff": .bool(handOff), "giveVoteBack": .bool(giveVoteBack), "version": .string(version), "reason": .string(reason)])
        }
        if mode == .observer && member.role == .participant {
            return decided(
                false, giveVoteBack: true,
                "server \(id) is an observer though the file writes it as a participant (a hand-off left unfinished): its vote is given back after its restart")
        }
        guard mode == .leader else { return decided(false, giveVoteBack: false, "server \(id) is a \(mode.rawValue): its restart forces no election") }
        let restarted = values[3].split(separator: ",").map { String($0.trimmingSpaces) }
        if !values[3].trimmingSpaces.isEmpty && !restarted.contains(String(id)) {
            return decided(
                false, giveVoteBack: false,
                "server \(id) leads, and this roll does not restart it (it restarts \(restarted.joined(separator: ", "))): no hand-off")
        }
        if let version = seen.version, version.hasPrefix("3.4.") {
            return decided(
                false, giveVoteBack: false,
                "server \(id) leads, and its restart will cost an election: ZooKeeper \(version.prefix { $0 != "-" && $0 != "," }) has no reconfig (3.5 and later)"
            )
        }
        guard values[2] == "true" else {
            return decided(false, giveVoteBack: false, "server \(id) leads and hand-off is off (handOff=false): its restart will cost an election")
        }
        let reconfig = ZKReconfigAction(
            ensemble: ensemble, add: nil, remove: nil, setRole: Template.literal(String(id)), role: Template.literal("observer"), check: true, fromVersion: nil,
            ifNeeded: false, timeout: timeout)
        let check: ActionOutcome
        do { check = try reconfig.execute(context) } catch { check = error }
        guard check.succeeded, case .string(let version)? = check.facts["version"] else {
            return decided(
                false, giveVoteBack: false, "server \(id) leads, and its restart will cost an election: reconfig cannot hand it off now: \(check.message)")
        }
        let voters = members.filter { $0.role == .participant }.map(\.id)
        return decided(
            true, giveVoteBack: true, version: version,
            "server \(id) leads: reconfig makes it an observer first, so it designates a caught-up successor instead of an election; "
                + Self.quorumNote(voters: voters, leader: id) + "; its vote given back once it is caught up")
    }

    /// The maths the plan says, ZooKeeper's (QuorumMath): the voters while the old leader restarts as an
    /// observer, against those a plain restart leaves serving.
    static func quorumNote(voters: [Int], leader: Int) -> String {
        let plain = QuorumMath.assess(voters: voters, observers: [], unreachable: [leader])
        let handed = QuorumMath.assess(voters: voters.filter { $0 != leader }, observers: [leader], unreachable: [])
        return "while it restarts, \(handed.voters.count) voter(s) with a majority of \(handed.majority) (\(handed.tolerated) may fail); "
            + "a plain restart leaves \(plain.reachableVoters.count) of \(plain.voters.count) serving with a majority of \(plain.majority) "
            + "(\(plain.reachableVoters.count - plain.majority) may fail)"
    }
}
