import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// Probes every member at once and judges the ensemble.
public struct EnsembleInspector: Sendable {
    public var probe: ServerProbe
    /// A follower further behind than this many transactions makes the ensemble degraded.
    public var maxLag: UInt64
    /// Reads `/zookeeper/config` through ZooKeeper's client protocol from any of the given members (3.5+),
    /// for the membership check where neither `conf` nor an AdminServer answers; given by a caller that
    /// has the client (this target does not speak the protocol).
    public var readConfig: (@Sendable ([Endpoint]) -> String?)?
    /// Reads a 3.4 member's `server.N` lines from its node (3.4 lists its members only in zoo.cfg), with
    /// the channel they came by; given by a caller that reaches nodes (this target runs nothing on them).
    public var readMembersFile: (@Sendable (EnsembleMember) -> Result<(servers: [ServerEntry], channel: String), ConfigReadFailure>)?
    /// Where the last leader of these members is remembered, to ask only it `mntr` in the first round.
    public var hints = LeaderHints.shared
    /// A server a roll is about to restart (`without`), whose leadership may have been handed off: the servers
    /// holding it as an observer where it is written as a participant is that hand-off, noted, not held against
    /// the verdict. Any other difference, and this one for any other server, still is.
    public var settingAside: Int?

    public init(probe: ServerProbe = ServerProbe(), maxLag: UInt64 = 1000) {
        self.probe = probe
        self.maxLag = maxLag
    }

    /// srvr and ruok on every member at once, in one round, and mntr, which only the leader's is read for
    /// (followers' changes no verdict): asked of the member that led when this process (or, through `hints`,
    /// an earlier one) last looked at these members, or of every member the first time (a short connection
    /// each, instead of a second round). A leader that was not asked is asked afterwards.
    ///
    /// `thorough` (a preflight): ruok, mntr and conf on every member, all read, so the view also says whether
    /// every gate a rolling change will poll can be evaluated on whichever member leads next.
    /// `namedByPosition`: the members were numbered by their place in a list (`status --server`), not by
    /// their myid: each is renamed by the myid it reports (conf, AdminServer) before it is judged, and one
    /// that does not say is named as such, so the leader is never "server 1" because it came first.
    public func inspect(_ members: [EnsembleMember], thorough: Bool = false, namedByPosition: Bool = false) -> EnsembleView {
        let started = Date()
        let firstPass =
            thorough
            ? ServerProbe(limits: probe.limits, wantMonitor: true, wantRuok: true, wantConfig: true, connector: probe.connector)
            : ServerProbe(
                limits: probe.limits, wantMonitor: probe.wantMonitor, wantRuok: probe.wantRuok, wantConfig: probe.wantConfig, monitorLeaderOnly: true,
                connector: probe.connector)
        let targets = members.map { ($0.endpoint, $0.adminPort) }
        let endpoints = members.map(\.endpoint)
        let monitorAt = thorough || !firstPass.wantMonitor ? nil : hints.leader(among: endpoints).map { Set([$0]) }
        var facts = firstPass.probeAll(targets, monitorAt: monitorAt)
        let leaders = facts.indices.filter { facts[$0].mode == .leader }
        if let monitorAt {
            for index in leaders where !monitorAt.contains(index) { firstPass.addMonitor(to: &facts[index], adminPort: members[index].adminPort) }
        }
        hints.record(leaders.count == 1 ? leaders[0] : nil, among: endpoints)
        if thorough || probe.wantConfig {
            if let readMembersFile { Self.addZooCfgMembership(members: members, facts: &facts, read: readMembersFile) }
            if let readConfig { Self.addConfigZnodeMembership(facts: &facts, read: readConfig) }
        }
        var members = members
        var relabelNotes: [String] = []
        if namedByPosition { (members, relabelNotes) = Self.named(byTheirMyid: members, facts: facts) }
        var view = judge(members: members, facts: facts, probeMs: Int(Date().timeIntervalSince(started) * 1000))
        view.notes += relabelNotes
        if thorough { view.gateProblems = Self.gateProblems(members: members, facts: facts) }
        return view
    }

    /// Members numbered by their place in a list, renamed by the myid each reported; one that reported none
    /// (or the same as another) gets an id no server claimed, said in a note.
    public static func named(byTheirMyid members: [EnsembleMember], facts: [ServerFacts]) -> (members: [EnsembleMember], notes: [String]) {
        let said = facts.map(\.serverID)
        let unique = Set(said.compactMap { $0 }.filter { id in said.filter { $0 == id }.count == 1 })
        var used = unique
        var next = 1
        var out = members
        var notes: [String] = []
        for index in out.indices {
            if let id = said[index], unique.contains(id) {
                out[index].id = id
                continue
            }
            while used.contains(next) { next += 1 }
            used.insert(next)
            out[index].id = next
            let why =
                said[index].map { "says myid \($0), as another server does" } ?? "did not say its myid (conf refused and no AdminServer asked, or no answer)"
            notes.append("the server at \(members[index].endpoint) \(why): called server \(next) here, by no myid of its own")
        }
        return (out, notes)
    }

    /// The members `/zookeeper/config` lists, for the serving 3.5+ members that reported none (the whitelist
    /// refuses `conf` and no AdminServer answered): one read, through the client protocol, which no
    /// whitelist limits.
    static func addConfigZnodeMembership(facts: inout [ServerFacts], read: ([Endpoint]) -> String?) {
        let wanted = facts.indices.filter { facts[$0].membership == nil && facts[$0].mode.isServing && facts[$0].version?.hasPrefix("3.4.") != true }
        guard !wanted.isEmpty, let text = read(wanted.map { facts[$0].endpoint }),
            let config = try? ZooConfig.parse(text, path: "/zookeeper/config"), !config.servers.isEmpty
        else { return }
        for index in wanted {
            facts[index].membership = config.servers.sorted { $0.id < $1.id }
            facts[index].channels["membership"] = "client /zookeeper/config"
        }
    }

    /// ZooKeeper 3.4 keeps its members only in zoo.cfg (`conf` does not list them, and there is no
    /// AdminServer): for a 3.4 server, its members are read from the node (`read`) and said to come from
    /// there; what stopped the read is said too.
    static func addZooCfgMembership(
        members: [EnsembleMember], facts: inout [ServerFacts],
        read: @escaping @Sendable (EnsembleMember) -> Result<(servers: [ServerEntry], channel: String), ConfigReadFailure>
    ) {
        let wanted = facts.indices.filter { facts[$0].membership == nil && facts[$0].version?.hasPrefix("3.4.") == true }
        let results = Parallel.map(wanted.map { members[$0] }, read)
        for (index, result) in zip(wanted, results) {
            switch result {
            case .success(let found):
                facts[index].membership = found.servers.sorted { $0.id < $1.id }
                facts[index].channels["membership"] = found.channel
            case .failure(let failure):
                facts[index].notes.append("membership: ZooKeeper 3.4 lists its members only in zoo.cfg, which could not be read: \(failure.message)")
            }
        }
    }

    /// Members on which a gate cannot be evaluated, with the fix. A member that does not answer at all is
    /// the verdict's business, not a gate problem.
    public static func gateProblems(members: [EnsembleMember], facts: [ServerFacts]) -> [String] {
        var problems: [String] = []
        var refusedByWhitelist = false
        for (member, fact) in zip(members, facts) where fact.mode.isServing {
            var missing: [String] = []
            if fact.imok == nil { missing.append("ruok") }
            if fact.monitor.isEmpty { missing.append("mntr") }
            if fact.membership == nil && fact.serverID == nil && fact.version?.hasPrefix("3.4.") != true { missing.append("conf") }
            guard !missing.isEmpty else { continue }
            // Said as seen: a word the whitelist refused, or one the server did not answer (a connection it
            // closed at its limit, a timeout) — only the first is fixed by the whitelist.
            let refused = missing.filter { word in fact.notes.contains { $0.hasPrefix(word + ":") && $0.contains("not in 4lw.commands.whitelist") } }
            let unanswered = missing.filter { !refused.contains($0) }
            if !refused.isEmpty {
                refusedByWhitelist = true
                let admin = member.adminPort.map { "the AdminServer on port \($0) did not answer either" } ?? "no adminPort is given to ask instead"
                problems.append("server \(member.id) (\(member.endpoint)) refuses \(refused.joined(separator: ", ")) (\(admin))")
            }
            if !unanswered.isEmpty {
                let seen = unanswered.map { word in fact.notes.first { $0.hasPrefix(word + ":") } ?? "\(word): no answer" }
                problems.append(
                    "server \(member.id) (\(member.endpoint)) gave no answer to \(unanswered.joined(separator: ", ")): \(seen.joined(separator: "; "))")
            }
        }
        if refusedByWhitelist {
            problems.append(
                "fix: add 4lw.commands.whitelist=srvr,ruok,mntr,conf to zoo.cfg (a restart applies it), or give each node's adminPort with the AdminServer enabled"
            )
        }
        return problems
    }

    /// The verdict from facts already gathered (separate from probing so it can be tested on any facts).
    ///
    /// Judged only on what was seen: when the servers report members that were not probed (or a probed
    /// follower's leader is not in the list), the view is partial. A serving follower or observer then
    /// proves that a leader with a quorum exists; a partial view in which nothing serves is `unknown`,
    /// never `no-quorum`.
    public func judge(members: [EnsembleMember], facts: [ServerFacts], probeMs: Int = 0) -> EnsembleView {
        // A server that is not the member written at its endpoint counts neither up nor down: that member was
        // not seen, so the view is partial, and the stranger is named.
        let doubts = MemberIdentity.doubts(written: members, facts: facts)
        var facts = facts
        for doubt in doubts {
            facts[doubt.index].mode = doubt.kind == .stranger ? .stranger : .unconfirmed
            facts[doubt.index].error = doubt.message
            facts[doubt.index].membership = nil
            facts[doubt.index].serverID = nil
        }
        let doubted = Set(doubts.map { members[$0.index].id })
        var statuses = zip(members, facts).map { member, facts -> EnsembleView.MemberStatus in
            var member = member
            if facts.mode == .observer { member.role = .observer }
            return EnsembleView.MemberStatus(member: member, facts: facts, lag: nil)
        }
        var membership = MembershipCheck.compare(written: members, facts: facts)
        if membership.scope == .unconfirmed && members.count == 1 && facts.first?.mode != .standalone {
            // One server of an ensemble whose members nobody reported: it cannot stand for the whole.
            membership.scope = .partial
        }
        if !doubted.isEmpty { membership.scope = .partial }
        let partial = membership.scope == .partial
        let roles = membership.roles(written: statuses.map(\.member))
        let probedIDs = Set(members.map(\.id))
        let notServing = Set(statuses.filter { !$0.facts.mode.isServing }.map(\.member.id)).subtracting(doubted)
        // Up but not serving: "This ZooKeeper instance is not currently serving requests" — electing or syncing.
        let alive = Set(statuses.filter { $0.facts.mode == .notServing }.map(\.member.id))
        let unseen = Set(roles.voters + roles.observers).subtracting(probedIDs).union(doubted)
        let silent = Set(statuses.filter { $0.facts.closedWithoutAnswer }.map(\.member.id))
        var quorum = QuorumMath.assess(voters: roles.voters, observers: roles.observers, unreachable: notServing, unseen: unseen, alive: alive, silent: silent)
        let upVoters = roles.voters.filter { id in alive.contains(id) || statuses.contains { $0.member.id == id && $0.facts.mode.isServing } }.count
        let voters = roles.voters
        var reasons: [String] = []
        var notes: [String] = []
        let leaders = statuses.filter { $0.facts.mode == .leader }
        let standalone = statuses.filter { $0.facts.mode == .standalone }
        let inQuorum = statuses.filter { [.follower, .observer].contains($0.facts.mode) }

        func describe(_ status: EnsembleView.MemberStatus) -> String {
            "server \(status.member.id) (\(status.member.endpoint))"
        }
        for doubt in doubts { reasons.append(doubt.message) }
        for status in statuses where !status.facts.mode.isServing && !doubted.contains(status.member.id) {
            let why = status.facts.error ?? status.facts.notes.first ?? "no usable answer"
            if status.facts.closedWithoutAnswer {
                // The limit as the servers that answered report it: a setting seen, not guessed.
                let limits = statuses.compactMap { other in other.facts.maxClientCnxns.map { "server \(other.member.id) has maxClientCnxns=\($0)" } }
                reasons.append("\(describe(status)) answered nothing: \(why)" + (limits.isEmpty ? "" : "; " + limits.joined(separator: ", ")))
                continue
            }
            reasons.append("\(describe(status)) is \(status.facts.mode.rawValue): \(why)")
        }
        for finding in membership.findings {
            let handedOff =
                finding.kind == .roleDiffers && finding.ids == [settingAside]
                && statuses.contains { $0.member.id == settingAside && $0.facts.mode == .observer }
            switch finding.kind {
            case _ where handedOff: notes.append("membership: " + finding.message + " (its leadership handed off for its restart)")
            case .unknown, .missingMember, .missingLeader: notes.append("membership: " + finding.message)
            default: reasons.append("membership: " + finding.message)
            }
        }
        if partial {
            let others = unseen.sorted().map(String.init).joined(separator: ", ")
            notes.insert(
                "partial view: \(members.count - doubted.count) server(s) of this ensemble probed" + (others.isEmpty ? "" : "; members \(others) were not seen")
                    + "; the verdict covers only what was seen",
                at: 0)
        }

        var verdict: EnsembleVerdict
        var leaderID: Int?
        var leaderZxid: Zxid?
        if leaders.count > 1 {
            verdict = .split
            let claims = leaders.map { "\($0.member.id) (epoch \($0.facts.zxid.map { String($0.epoch) } ?? "?"))" }
            reasons.insert("more than one server reports Mode: leader: \(claims.joined(separator: ", "))", at: 0)
        } else if let leader = leaders.first {
            leaderID = leader.member.id
            leaderZxid = leader.facts.zxid
            let servingVoters = statuses.filter { $0.member.role == .participant && ($0.facts.mode == .leader || $0.facts.mode == .follower) }.count
            if partial && servingVoters < quorum.majority {
                quorum.canElect = true
                quorum.reason += " Server \(leader.member.id) serves as leader: it holds a quorum."
            }
            if servingVoters < quorum.majority && !partial && upVoters >= quorum.majority {
                verdict = .electing
                reasons.insert(
                    "server \(leader.member.id) says it leads, \(servingVoters) of \(voters.count) voters serve, and \(upVoters) are up: the others are syncing with it or electing (\(quorum.majority) needed to serve)",
                    at: 0)
            } else if servingVoters < quorum.majority && !partial {
                verdict = .noQuorum
                reasons.insert(
                    "server \(leader.member.id) says it leads, but only \(servingVoters) of \(voters.count) voters serve and \(upVoters) are up (\(quorum.majority) needed)",
                    at: 0)
            } else {
                verdict = reasons.isEmpty ? .healthy : .degraded
            }
            for index in statuses.indices where statuses[index].member.id != leader.member.id {
                guard let zxid = statuses[index].facts.zxid, let leaderZxid, statuses[index].facts.mode.isServing else { continue }
                let lag = zxid.lag(behind: leaderZxid)
                statuses[index].lag = lag
                if lag > maxLag {
                    reasons.append("\(describe(statuses[index])) is \(lag) transactions behind the leader (more than \(maxLag))")
                }
            }
            let expectedFollowers = voters.count - 1
            if let synced = leader.facts.syncedFollowers {
                if synced < expectedFollowers {
                    reasons.append("the leader reports \(synced) of \(expectedFollowers) followers synced")
                }
            } else {
                notes.append("synced followers unknown: \(leader.facts.notes.first { $0.hasPrefix("mntr") } ?? "mntr gave no zk_synced_followers")")
            }
            if let pending = leader.facts.pendingSyncs, pending > 0 {
                reasons.append("the leader has \(pending) pending sync(s)")
            }
            if let size = leader.facts.quorumSize, size != Int64(voters.count) {
                notes.append("the leader counts \(size) voters; \(voters.count) are listed here")
            }
            if verdict == .healthy && !reasons.isEmpty { verdict = .degraded }
        } else if members.count == 1, standalone.count == 1 {
            verdict = .healthy
            notes.append("a standalone server: no ensemble, no failover")
        } else if let witness = inQuorum.first {
            // A follower serves only while it is synced with a leader that holds a quorum.
            verdict = reasons.isEmpty ? .healthy : .degraded
            let unseenLeader = partial ? "the leader was not probed" : "no server answered as leader"
            notes.insert(
                "\(unseenLeader); \(describe(witness)) serves as \(witness.facts.mode.rawValue), which proves a leader with a quorum", at: min(1, notes.count))
            quorum.canElect = true
            quorum.reason += " Server \(witness.member.id) serves as \(witness.facts.mode.rawValue): a leader with a quorum exists."
        } else if partial {
            verdict = .unknown
            reasons.insert(
                "none of the \(members.count) server(s) probed serves, and the others were not probed: a partial view cannot tell whether the ensemble has a quorum",
                at: 0)
        } else if upVoters >= quorum.majority {
            verdict = .electing
            reasons.insert(
                "no server leads yet: \(upVoters) of \(voters.count) voters are up (a majority is \(quorum.majority)) and electing or syncing; clients are not served until a leader is elected",
                at: 0)
        } else {
            verdict = .noQuorum
            reasons.insert("no server is leading, and only \(upVoters) of \(voters.count) voters are up (\(quorum.majority) needed to elect)", at: 0)
        }
        for status in statuses where status.facts.mode == .standalone && members.count > 1 {
            reasons.append("\(describe(status)) runs standalone: it has not joined the ensemble")
            if verdict == .healthy { verdict = .degraded }
        }
        return EnsembleView(
            members: statuses, leaderID: leaderID, leaderZxid: leaderZxid, verdict: verdict, reasons: reasons, notes: notes,
            quorum: quorum, probeMs: probeMs, membership: membership)
    }
}
