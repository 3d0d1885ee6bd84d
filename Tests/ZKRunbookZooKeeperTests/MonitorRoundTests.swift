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

    @Test func mntrGoesToTheLastLeaderAndToANewOneAfterwards() {
        let leader = Leader()
        let servers = (0..<3).map { position in
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
        defer { servers.forEach { $0.stop() } }
        let members = servers.enumerated().map { EnsembleMember(id: $0.offset + 1, host: "127.0.0.1", clientPort: $0.element.port) }
        let inspector = EnsembleInspector(probe: ServerProbe(limits: SocketLimits(connectTimeout: 1, readTimeout: 1), wantRuok: false))
        func inspect() -> (asked: [[String]], synced: Int64?) {
            let view = inspector.inspect(members)
            let synced = view.members.first { $0.facts.mode == .leader }?.facts.syncedFollowers
            return (servers.map { $0.takeWords().sorted() }, synced)
        }

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
}
