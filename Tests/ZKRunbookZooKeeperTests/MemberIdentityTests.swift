import Foundation
import Testing

@testable import ZKRunbookZooKeeper

/// An endpoint is not an identity: strangers at a member's address are named and never counted.
struct MemberIdentityTests {
    let base = MembershipTests()

    /// What a server of another ensemble (members at 10.9.0.N) says at member `id`'s address.
    func otherEnsemblesServer(_ id: Int, _ mode: ServerMode) -> ServerFacts {
        var facts = ServerFacts(endpoint: Endpoint(host: "10.0.0.\(id)", port: 2181))
        facts.mode = mode
        let conf = MembershipTests.confLines.replacingOccurrences(of: "%ID%", with: "1")
            .replacingOccurrences(of: "10.0.0.", with: "10.9.0.")
        _ = ReplyParser.applyConfig(conf, to: &facts, channel: "4lw conf")
        return facts
    }

    /// A `Mode: leader` answer with nothing else: conf refused, as a stale 3.5+ server with the default
    /// whitelist (or a small script) answers.
    func bareLeader(_ id: Int) -> ServerFacts {
        var facts = ServerFacts(endpoint: Endpoint(host: "10.0.0.\(id)", port: 2181))
        facts.mode = .leader
        facts.zxid = Zxid(epoch: 9, counter: 1)
        facts.notes = ["conf: not in 4lw.commands.whitelist"]
        return facts
    }

    @Test func aLeaderThatSaysNotWhoItIsIsNotCountedWhenTheOthersSay() {
        let members = (1...3).map { base.member($0) }
        let view = EnsembleInspector().judge(
            members: members,
            facts: [base.server(1, .follower), base.server(2, .follower), bareLeader(3)])
        #expect(view.verdict != .healthy, "\(view.verdict) \(view.reasons)")
        #expect(view.leaderID == nil, "a leader nobody confirmed is not the leader")
        #expect(view.scope == .partial)
        #expect(view.members[2].facts.mode == .unconfirmed)
        #expect(
            view.reasons.contains {
                $0.contains(
                    "10.0.0.3:2181 (written as server 3) says Mode: leader but not which server it is")
            }, "\(view.reasons)")
        // The two followers prove a leader with a quorum exists; the stranger is not counted down either.
        #expect(view.quorum.unreachableVoters.isEmpty, "\(view.quorum)")
        #expect(view.quorum.unseen == [3])
        #expect(
            !view.membership.findings.contains { $0.kind == .missingLeader },
            "the leader may be server 3, not seen: \(view.membership.findings)")
    }

    @Test func aBareLeaderAmongServersThatSayNothingIsJudgedAsWritten() {
        // The default whitelist (srvr only) everywhere: nobody says who it is, so nobody is doubted.
        let facts = [
            base.server(1, .follower, reportsMembers: false),
            base.server(2, .follower, reportsMembers: false), bareLeader(3),
        ]
        #expect(MemberIdentity.doubts(written: (1...3).map { base.member($0) }, facts: facts).isEmpty)
    }

    @Test func anotherEnsemblesServerIsNamedAsSuchNotAsASplitBrain() {
        let members = (1...3).map { base.member($0) }
        let view = EnsembleInspector().judge(
            members: members,
            facts: [
                base.server(1, .follower), base.server(2, .leader, synced: 2),
                otherEnsemblesServer(3, .leader),
            ])
        #expect(view.verdict == .degraded, "\(view.verdict) \(view.reasons)")
        #expect(view.leaderID == 2)
        #expect(view.members[2].facts.mode == .stranger)
        #expect(
            view.reasons.contains {
                $0.contains("belongs to another ensemble: it lists 1 at 10.9.0.1:2888:3888")
                    && $0.contains("this ensemble 1 at 10.0.0.1:2888:3888")
            })
        #expect(
            !view.membership.findings.contains { $0.kind == .serversDisagree },
            "\(view.membership.findings)")
    }

    @Test func aListSharingNoQuorumAddressWithTheFileIsAnotherEnsemblesEvenAlone() {
        var members = (1...3).map { base.member($0) }
        for index in members.indices {
            (members[index].quorumPort, members[index].electionPort) = (2888, 3888)
        }
        let facts = [
            base.server(1, .unreachable, reportsMembers: false),
            base.server(2, .unreachable, reportsMembers: false), otherEnsemblesServer(3, .leader),
        ]
        let doubts = MemberIdentity.doubts(written: members, facts: facts)
        #expect(doubts.map(\.index) == [2] && doubts.first?.kind == .stranger, "\(doubts)")
    }

    @Test func aClientAddressTheMembersGiveElsewhereIsNotThatMember() {
        // 3.5+ dynamic config names each member's client address; the bare answer at 10.0.0.3:2181 is not it.
        var follower = base.server(1, .follower)
        let dynamic = MembershipTests.confLines.replacingOccurrences(of: "%ID%", with: "1")
            .replacingOccurrences(
                of: "server.3=10.0.0.3:2888:3888:participant",
                with: "server.3=10.0.0.3:2888:3888:participant;10.0.0.3:2182")
        follower = ServerFacts(endpoint: follower.endpoint)
        follower.mode = .follower
        _ = ReplyParser.applyConfig(dynamic, to: &follower, channel: "4lw conf")
        let doubts = MemberIdentity.doubts(
            written: (1...3).map { base.member($0) },
            facts: [follower, base.server(2, .follower), bareLeader(3)])
        #expect(
            doubts.count == 1 && doubts[0].kind == .stranger
                && doubts[0].message.contains("serving clients at 10.0.0.3:2182"), "\(doubts)")
        // The real server 3 there says its myid: reached through another port (a mapping), it is still itself.
        var real = base.server(3, .leader)
        real.endpoint = Endpoint(host: "10.0.0.3", port: 2181)
        #expect(
            MemberIdentity.doubts(
                written: (1...3).map { base.member($0) },
                facts: [follower, base.server(2, .follower), real]
            ).isEmpty)
    }

    @Test func aWrittenLeaderThatDoesNotAnswerLeavesNoShortListBehind() {
        // maxClientCnxns reached on the leader: it closes the connection. The followers prove a leader.
        var closed = base.server(2, .unreachable, reportsMembers: false)
        closed.error = "the server closed the connection without an answer"
        let view = EnsembleInspector().judge(
            members: (1...3).map { base.member($0) },
            facts: [base.server(1, .follower), closed, base.server(3, .follower)])
        #expect(
            !view.membership.findings.contains { $0.kind == .missingLeader },
            "\(view.membership.findings)")
        #expect(view.scope == .whole)
        #expect(view.verdict == .degraded, "\(view.verdict) \(view.reasons)")
        #expect(
            view.notes.contains { $0.contains("no server answered as leader") },
            "\(view.notes)")
    }

    @Test func identicalIdListsThatDifferArePrintedWithTheirAddresses() {
        var moved = base.server(3, .follower)
        moved.membership = moved.membership.map { list in
            list.map {
                var entry = $0
                if entry.id == 1 { entry.quorumPort = 2999 }
                return entry
            }
        }
        let report = MembershipCheck.compare(
            written: (1...3).map { base.member($0) },
            facts: [base.server(1, .follower), base.server(2, .leader), moved])
        let finding = report.findings.first { $0.kind == .serversDisagree }
        #expect(
            finding?.message.contains("1=10.0.0.1:2999:3888:participant") == true, "\(report.findings)")
    }
}
