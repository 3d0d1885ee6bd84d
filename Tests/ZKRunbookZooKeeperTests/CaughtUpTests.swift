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

/// How long clients had no leader in one node's turn, from the servers' own unavailable_time.
struct ClientUnavailabilityTests {
    @Test func theLongestGrowthAmongTheServersThatStayedUpIsTheFigure() {
        let before = UnavailabilitySample(sums: [1: 400, 2: 100, 3: 50])
        // Server 3 restarted (its sum began again); 1 and 2 went through the election.
        let after = UnavailabilitySample(sums: [1: 700, 2: 380, 3: 20])
        #expect(ClientUnavailability.figure(before: before, after: after, restarted: 3) == .measured(milliseconds: 300, server: 1))
        #expect(ClientUnavailability.figure(before: before, after: before, restarted: 1) == .measured(milliseconds: 0, server: nil))
    }

    @Test func aServerThatCannotSayMakesTheFigureUnknownNotZero() {
        let before = UnavailabilitySample(sums: [1: 0, 2: 0], silent: [3: "its mntr has no unavailable_time (3.7 and later report it)"])
        let after = UnavailabilitySample(sums: [1: 0, 2: 0], silent: [3: "its mntr has no unavailable_time (3.7 and later report it)"])
        #expect(
            ClientUnavailability.figure(before: before, after: after, restarted: 3) == .measured(milliseconds: 0, server: nil), "the restarted one need not say"
        )
        #expect(
            ClientUnavailability.figure(before: before, after: after, restarted: 1)
                == .unknown("server 3: its mntr has no unavailable_time (3.7 and later report it)"))
        let restartedMeanwhile = UnavailabilitySample(sums: [1: 0, 2: 0, 3: 10])
        #expect(
            ClientUnavailability.figure(before: UnavailabilitySample(sums: [1: 0, 2: 0, 3: 90]), after: restartedMeanwhile, restarted: 1)
                == .unknown("server 3 restarted during node 1's turn: its unavailable_time began again"))
    }

    /// A real mntr map: the 3.8 key read, a 3.6 map without it said as such.
    @Test func theSampleIsReadFromMntr() {
        var modern = ServerFacts(endpoint: Endpoint(host: "zk1", port: 2181))
        modern.monitor = ["zk_sum_unavailable_time": "402", "zk_cnt_unavailable_time": "1"]
        var old = ServerFacts(endpoint: Endpoint(host: "zk2", port: 2181))
        old.monitor = ["zk_version": "3.6.3"]
        let sample = UnavailabilitySample(monitors: [(1, modern), (2, old)])
        #expect(sample.sums == [1: 402])
        #expect(sample.silent[2]?.contains("3.7 and later") == true)
    }
}

/// The quorum maths a plan gives for a hand-off: never fewer spare voters than a plain restart.
struct HandOffQuorumTests {
    @Test func aHandOffLeavesAtLeastTheSparesAPlainRestartDoes() {
        #expect(
            ZKHandOffCheckAction.quorumNote(voters: [1, 2, 3], leader: 3)
                == "while it restarts, 2 voter(s) with a majority of 2 (0 may fail); a plain restart leaves 2 of 3 serving with a majority of 2 (0 may fail)")
        #expect(
            ZKHandOffCheckAction.quorumNote(voters: [1, 2, 3, 4], leader: 1)
                == "while it restarts, 3 voter(s) with a majority of 2 (1 may fail); a plain restart leaves 3 of 4 serving with a majority of 3 (0 may fail)")
    }
}
