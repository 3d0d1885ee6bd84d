import Foundation
import Testing
import ZKRunbookEngine
import ZKRunbookTestSupport
import ZKRunbookZooKeeperActions

@testable import ZKRunbookZooKeeper

/// What the servers report about their members, against what the user wrote; and partial views judged as such.
struct MembershipTests {
    static let confLines = """
        clientPort=2181
        serverId=%ID%
        membership: 
        server.1=10.0.0.1:2888:3888:participant
        server.2=10.0.0.2:2888:3888:participant
        server.3=10.0.0.3:2888:3888:participant
        version=100000000

        """

    /// A server at 10.0.0.N:2181 that answers srvr with `mode` and conf with its id and the three members.
    func server(_ id: Int, _ mode: ServerMode, reportsMembers: Bool = true, synced: Int64? = nil) -> ServerFacts {
        var facts = ServerFacts(endpoint: Endpoint(host: "10.0.0.\(id)", port: 2181))
        facts.mode = mode
        facts.zxid = Zxid(epoch: 2, counter: 10)
        facts.syncedFollowers = synced
        if reportsMembers {
            let result = ReplyParser.applyConfig(Self.confLines.replacingOccurrences(of: "%ID%", with: String(id)), to: &facts, channel: "4lw conf")
            #expect((try? result.get()) != nil)
        }
        if mode == .unreachable { facts.error = "connection refused" }
        return facts
    }

    func member(_ id: Int, role: ServerEntry.Role = .participant, host: String? = nil) -> EnsembleMember {
        EnsembleMember(id: id, host: host ?? "10.0.0.\(id)", clientPort: 2181, role: role)
    }

    @Test func confIsParsedIntoIdAndMembers() {
        let facts = server(2, .follower)
        #expect(facts.serverID == 2)
        #expect(facts.membership?.map(\.id) == [1, 2, 3])
        #expect(facts.configVersion == "100000000")
        #expect(facts.channels["membership"] == "4lw conf")
        // 3.4's conf has no member lines: the list stays unknown, not empty.
        var old = ServerFacts(endpoint: Endpoint(host: "h", port: 1))
        #expect((try? ReplyParser.applyConfig("clientPort=2181\nserverId=1\nelectionPort=3888\n", to: &old, channel: "4lw conf").get()) != nil)
        #expect(old.serverID == 1 && old.membership == nil)
    }

    @Test func theWholeEnsembleAsWrittenMatches() {
        let view = EnsembleInspector().judge(
            members: (1...3).map { member($0) }, facts: [server(1, .follower), server(2, .leader, synced: 2), server(3, .follower)])
        #expect(view.verdict == .healthy)
        #expect(view.scope == .whole)
        #expect(view.membership.matches)
        #expect(view.factMap["membershipMatches"] == .bool(true))
    }

    @Test func aFollowerAloneIsAPartialHealthyViewNotAnOutage() {
        let view = EnsembleInspector().judge(members: [member(1)], facts: [server(1, .follower)])
        #expect(view.verdict == .healthy, "\(view.reasons)")
        #expect(view.scope == .partial)
        #expect(view.quorum.voters == [1, 2, 3], "the quorum maths uses the members the servers report")
        #expect(view.quorum.canElect)
        #expect(view.notes.contains { $0.contains("proves a leader with a quorum") })
        #expect(!view.membership.matches)
        // Without conf (the default whitelist) the follower still proves a leader exists.
        let blind = EnsembleInspector().judge(members: [member(1)], facts: [server(1, .follower, reportsMembers: false)])
        #expect(blind.verdict == .healthy)
        #expect(blind.scope == .partial)
        #expect(blind.membership.findings.map(\.kind).contains(.missingLeader))
    }

    @Test func aPartialViewWhereNothingServesIsUnknownNeverNoQuorum() {
        let alone = EnsembleInspector().judge(members: [member(1)], facts: [server(1, .unreachable, reportsMembers: false)])
        #expect(alone.verdict == .unknown)
        #expect(alone.scope == .partial)
        let two = EnsembleInspector().judge(
            members: [member(1), member(2)], facts: [server(1, .notServing, reportsMembers: false), server(2, .follower)])
        #expect(two.verdict == .degraded, "server 2 follows, so a leader with a quorum exists: \(two.reasons)")
        #expect(two.scope == .partial)
    }

    @Test func aFileWithoutTheLeaderOrAFollowerIsNamed() {
        let withoutLeader = EnsembleInspector().judge(
            members: [member(1), member(3)], facts: [server(1, .follower), server(3, .follower)])
        #expect(withoutLeader.verdict != .noQuorum)
        #expect(withoutLeader.membership.findings.contains { $0.kind == .missingMember && $0.ids == [2] })
        #expect(withoutLeader.membership.findings.contains { $0.kind == .missingLeader })
        let withoutFollower = EnsembleInspector().judge(
            members: [member(1), member(2)], facts: [server(1, .follower), server(2, .leader, synced: 2)])
        #expect(withoutFollower.quorum.voters == [1, 2, 3])
        #expect(withoutFollower.quorum.majority == 2)
        #expect(withoutFollower.reasons.isEmpty, "the leader's 2 synced followers are right for 3 voters: \(withoutFollower.reasons)")
        #expect(withoutFollower.scope == .partial)
    }

    @Test func extraRoleIdAndDuplicateEndpointFindings() {
        let written = [member(1), member(2, role: .observer), member(3), EnsembleMember(id: 4, host: "10.0.0.3", clientPort: 2181)]
        let facts = [server(1, .follower), server(2, .leader, synced: 2), server(3, .follower), server(3, .follower)]
        let report = MembershipCheck.compare(written: written, facts: facts)
        let kinds = Set(report.findings.map(\.kind))
        #expect(kinds.isSuperset(of: [.extraMember, .roleDiffers, .duplicateEndpoint, .idDiffers]), "\(report.findings)")
        #expect(report.findings.contains { $0.kind == .duplicateEndpoint && $0.message.contains("servers 3 and 4 are both written as 10.0.0.3:2181") })
        #expect(report.findings.contains { $0.kind == .idDiffers && $0.message.contains("says it is server 3") })
        #expect(!report.matches)
        let view = EnsembleInspector().judge(members: written, facts: facts)
        #expect(view.verdict == .degraded, "membership differences are reasons, never healthy")
    }

    @Test func serversThatDisagreeAreASplitBrainRisk() {
        var odd = server(3, .follower)
        odd.membership = odd.membership.map { Array($0.prefix(2)) }
        let report = MembershipCheck.compare(written: (1...3).map { member($0) }, facts: [server(1, .follower), server(2, .leader), odd])
        #expect(report.findings.contains { $0.kind == .serversDisagree && $0.message.contains("split-brain") })
    }

    @Test func aDifferentAddressIsNamedOnlyWhenBothAreAddresses() {
        let byName = MembershipCheck.compare(
            written: [member(1, host: "zk1.example")] + (2...3).map { member($0) }, facts: (1...3).map { server($0, $0 == 2 ? .leader : .follower) })
        #expect(!byName.findings.contains { $0.kind == .hostDiffers })
        let wrong = MembershipCheck.compare(
            written: [member(1, host: "10.9.9.9")] + (2...3).map { member($0) }, facts: (1...3).map { server($0, $0 == 2 ? .leader : .follower) })
        #expect(wrong.findings.contains { $0.kind == .hostDiffers && $0.ids == [1] })
    }

    @Test func gateProblemsNameTheFix() throws {
        var refusing = server(1, .follower)
        refusing.imok = nil
        refusing.monitor = [:]
        // As the probe notes them when the whitelist refuses.
        refusing.notes += ["ruok: not in 4lw.commands.whitelist", "mntr: not in 4lw.commands.whitelist (and no AdminServer port to ask instead)"]
        var fine = server(2, .leader)
        fine.imok = true
        fine.monitor = ["zk_version": "3.8.0"]
        let problems = EnsembleInspector.gateProblems(members: [member(1), member(2)], facts: [refusing, fine])
        try #require(problems.count == 2, "\(problems)")
        #expect(problems[0].contains("server 1 (10.0.0.1:2181) refuses ruok, mntr"))
        #expect(problems[1].contains("4lw.commands.whitelist=srvr,ruok,mntr,conf"))
        #expect(EnsembleInspector.gateProblems(members: [member(2)], facts: [fine]).isEmpty)
    }

    /// A word the server did not answer (a connection closed at its maxClientCnxns) is said as unanswered,
    /// with what was seen, and never draws the whitelist advice.
    @Test func anUnansweredWordIsNotAWhitelistRefusal() throws {
        var closing = server(1, .follower)
        closing.imok = true
        closing.monitor = [:]
        closing.notes.append("mntr: 10.0.0.1:2181: malformed reply to 'mntr': empty reply (connection closed without an answer)")
        let problems = EnsembleInspector.gateProblems(members: [member(1)], facts: [closing])
        try #require(problems.count == 1, "\(problems)")
        #expect(problems[0].contains("server 1 (10.0.0.1:2181) gave no answer to mntr: mntr: 10.0.0.1:2181: malformed reply"), "\(problems[0])")
        #expect(!problems.contains { $0.contains("whitelist") })
    }

    @Test func everyFactTheProbesReportIsDeclared() {
        var facts = server(2, .leader, synced: 2)
        facts.imok = true
        facts.readOnly = false
        facts.version = "3.8.0"
        facts.latencyAvg = 1
        facts.latencyMin = 0
        facts.latencyMax = 2
        for key in ["received", "sent", "connections", "outstanding", "nodeCount", "learners", "syncedObservers", "pendingSyncs", "quorumSize", "uptimeMs"] {
            ReplyParser.applyMonitor(["zk_\(key)": "1"], to: &facts, channel: "4lw mntr")
        }
        facts.received = 1
        facts.sent = 1
        facts.learners = 2
        facts.syncedObservers = 0
        facts.pendingSyncs = 0
        facts.quorumSize = 3
        facts.uptimeMs = 5
        facts.errorKind = "x"
        facts.error = "x"
        facts.notes = ["n"]
        for key in facts.factMap.keys { #expect(ServerFacts.factNames.contains(key), "zk-probe reports '\(key)' but does not declare it") }
        let view = EnsembleInspector().judge(members: (1...3).map { member($0) }, facts: [server(1, .follower), facts, server(3, .follower)])
        for key in view.factMap.keys { #expect(EnsembleView.factNames.contains(key), "zk-ensemble reports '\(key)' but does not declare it") }
    }
}
