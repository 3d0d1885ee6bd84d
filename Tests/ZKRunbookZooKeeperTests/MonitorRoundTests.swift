import Foundation
import Testing
import ZKRunbookTestSupport

@testable import ZKRunbookZooKeeper

/// Which servers an inspection asks `mntr`: everyone the first time, then only the member that led last
/// time, and a leader that moved is asked afterwards (its sync counts are never missing from the view).
struct MonitorRoundTests {
    final class Leader: @unchecked Sendable {
        private let lock = NSLock()
        private var index = 0
        var current: Int {
            get { lock.withLock { index } }
            set { lock.withLock { index = newValue } }
        }
    }

    /// Three fake servers, of which `leader.current` leads; each records the words it is asked.
    static func servers(_ leader: Leader) -> [FakeServer] {
        (0..<3).map { position in
            FakeServer(
                .answer { word in
                    let leads = leader.current == position
                    switch word {
                    case "srvr": return Data((leads ? Fixtures.leaderSrvr : Fixtures.followerSrvr).utf8)
                    case "mntr": return Data((leads ? Fixtures.leaderMntr36 : "zk_version\t3.8.0\nzk_server_state\tfollower\n").utf8)
                    default: return Data()
                    }
                })
        }
    }

    static func inspect(_ servers: [FakeServer], hints: LeaderHints = .shared) -> (asked: [[String]], synced: Int64?) {
        let members = servers.enumerated().map { EnsembleMember(id: $0.offset + 1, host: "127.0.0.1", clientPort: $0.element.port) }
        var inspector = EnsembleInspector(probe: ServerProbe(limits: SocketLimits(connectTimeout: 1, readTimeout: 1), wantRuok: false))
        inspector.hints = hints
        let view = inspector.inspect(members)
        let synced = view.members.first { $0.facts.mode == .leader }?.facts.syncedFollowers
        return (servers.map { $0.takeWords().sorted() }, synced)
    }

    @Test func mntrGoesToTheLastLeaderAndToANewOneAfterwards() {
        let leader = Leader()
        let servers = Self.servers(leader)
        defer { servers.forEach { $0.stop() } }
        func inspect() -> (asked: [[String]], synced: Int64?) { Self.inspect(servers) }

        let first = inspect()
        #expect(first.asked == [["mntr", "srvr"], ["mntr", "srvr"], ["mntr", "srvr"]], "no leader known yet: everyone asked")
        #expect(first.synced == 2)
        let second = inspect()
        #expect(second.asked == [["mntr", "srvr"], ["srvr"], ["srvr"]], "only the last leader asked mntr")
        #expect(second.synced == 2)
        leader.current = 2
        let moved = inspect()
        #expect(moved.asked == [["mntr", "srvr"], ["srvr"], ["mntr", "srvr"]], "the old leader in the round, the new one after it")
        #expect(moved.synced == 2, "the new leader's sync counts read")
        #expect(inspect().asked == [["srvr"], ["srvr"], ["mntr", "srvr"]])
    }

    /// `status` is a new process each time: the leader it saw is kept in the state folder, so the next
    /// one asks `mntr` of that member alone in its first round; the file is never what makes a folder.
    @Test func theLeaderSeenIsRememberedByTheNextProcess() throws {
        let leader = Leader()
        leader.current = 1
        let servers = Self.servers(leader)
        defer { servers.forEach { $0.stop() } }
        let folder = Scratch("leader-hints")

        let first = Self.inspect(servers, hints: LeaderHints(stateDirectory: folder.path))
        #expect(first.asked == [["mntr", "srvr"], ["mntr", "srvr"], ["mntr", "srvr"]], "nothing kept yet: everyone asked")
        let kept = try String(contentsOfFile: folder.file(LeaderHints.fileName), encoding: .utf8)
        #expect(kept.hasSuffix("\t127.0.0.1:\(servers[1].port)\n"), "\(kept)")
        let later = Self.inspect(servers, hints: LeaderHints(stateDirectory: folder.path))
        #expect(later.asked == [["srvr"], ["mntr", "srvr"], ["srvr"]], "a later process asks the kept leader alone")
        #expect(later.synced == 2)

        let missing = LeaderHints()
        missing.keep(inStateDirectory: folder.file("absent"))
        _ = Self.inspect(servers, hints: missing)
        #expect(!FileManager.default.fileExists(atPath: folder.file("absent")), "no folder is made for a hint")
    }
}
