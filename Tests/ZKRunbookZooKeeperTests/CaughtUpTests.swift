import Foundation
import Testing
import ZKRunbookZooKeeper

@testable import ZKRunbookZooKeeperActions

/// The caught-up gate, decided from facts: a learner still synchronizing (3.6+ says so in mntr) is not
/// caught up, whatever its zxid says.
struct CaughtUpTests {
    func facts(_ mode: ServerMode, peerState: String?) -> ServerFacts {
        var facts = ServerFacts(endpoint: Endpoint(host: "127.0.0.1", port: 2181))
        facts.mode = mode
        facts.peerState = peerState
        return facts
    }

    @Test func peerStateIsHeardWhereAVersionHasIt() throws {
        var map = try ReplyParser.parseMonitor("zk_version\t3.8.0\nzk_server_state\tfollower\nzk_peer_state\tfollowing - synchronization\n").get()
        var parsed = ServerFacts(endpoint: Endpoint(host: "127.0.0.1", port: 2181))
        ReplyParser.applyMonitor(map, to: &parsed, channel: "4lw mntr")
        #expect(parsed.peerState == "following - synchronization")
        #expect(parsed.factMap["peerState"] == .string("following - synchronization"))
        #expect(!ZKProbeAction.caughtUp(parsed, leaderFound: true, lag: 0, limit: 100), "still synchronizing")
        map["zk_peer_state"] = "following - broadcast"
        ReplyParser.applyMonitor(map, to: &parsed, channel: "4lw mntr")
        #expect(ZKProbeAction.caughtUp(parsed, leaderFound: true, lag: 0, limit: 100))
        #expect(!ZKProbeAction.caughtUp(parsed, leaderFound: true, lag: 101, limit: 100), "behind by more than the limit")
        #expect(ZKProbeAction.caughtUp(facts(.follower, peerState: nil), leaderFound: true, lag: 3, limit: 100), "3.5 says nothing: the zxid decides")
        #expect(!ZKProbeAction.caughtUp(facts(.standalone, peerState: nil), leaderFound: true, lag: 0, limit: 100))
        #expect(!ZKProbeAction.caughtUp(facts(.follower, peerState: "following - broadcast"), leaderFound: false, lag: 0, limit: 100))
        #expect(ZKProbeAction.caughtUp(facts(.leader, peerState: "leading - broadcast"), leaderFound: true, lag: nil, limit: 100))
    }
}
