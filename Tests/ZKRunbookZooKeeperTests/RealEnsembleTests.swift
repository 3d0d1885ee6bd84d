import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookEngine
import ZKRunbookProcess

@testable import ZKRunbookZooKeeper
import ZKRunbookSandbox
import ZKRunbookZooKeeperActions

@Suite(.serialized, .tags(.realZooKeeper))
struct RealEnsembleTests {
    @Test func threeNodesHealthyThenDegradedThenNoQuorum() throws {
        let fixture = try SandboxEnsemble.start(nodes: 3, allWords: true)
        defer { fixture.close() }
        let inspector = EnsembleInspector(maxLag: 10)
        let members = fixture.sandbox.members

        let healthy = inspector.inspect(members)
        #expect(healthy.verdict == .healthy, "\(healthy.reasons)")
        #expect(healthy.members.filter { $0.facts.mode == .leader }.count == 1)
        let leaderID = try #require(healthy.leaderID)
        let leader = healthy.members[leaderID - 1].facts
        #expect(leader.syncedFollowers == 2)
        #expect(leader.channels["syncedFollowers"] == "4lw mntr")
        #expect(leader.imok == true)

        try fixture.write("/zkrunbook-lag", through: leaderID)
        #expect(eventually { inspector.inspect(members).leaderZxid.map { $0.counter >= 1 } ?? false }, "the write did not move the leader's counter")
        let afterWrite = inspector.inspect(members)
        #expect(afterWrite.members.filter { $0.member.id != leaderID }.allSatisfy { $0.lag != nil })
        #expect(eventually { inspector.inspect(members).members.compactMap(\.lag).allSatisfy { $0 == 0 } }, "followers did not catch up")

        let follower = try #require(members.first { $0.id != leaderID })
        #expect(fixture.sandbox.stop(node: follower.id))
        let degraded = inspector.inspect(members)
        #expect(degraded.verdict == .degraded)
        #expect(
            // Refused, or reset when the probe meets the listener as it closes: unreachable either way.
            degraded.reasons.contains { $0.contains("server \(follower.id) (\(follower.endpoint)) is unreachable") },
            "\(degraded.reasons)")
        #expect(degraded.quorum.canElect)

        let secondVoter = try #require(members.first { $0.id != leaderID && $0.id != follower.id })
        #expect(fixture.sandbox.stop(node: secondVoter.id))
        var lost = inspector.inspect(members)
        #expect(eventually { lost = inspector.inspect(members); return lost.members[leaderID - 1].facts.mode == .notServing })
        #expect(lost.verdict == .noQuorum)
        #expect(!lost.quorum.canElect)
        #expect(lost.members[leaderID - 1].facts.errorKind == "not-serving")
        // One probe may meet the listener while the server drops to LOOKING; a later one must see both facts.
        var alone = lost.members[leaderID - 1].facts
        #expect(
            eventually { alone = inspector.inspect(members).members[leaderID - 1].facts; return alone.imok != nil && alone.mode == .notServing },
            "ruok got no answer from the server left alone: \(alone.notes)")
        #expect(alone.imok == true, "ruok says imok even when the server is not serving; that is why it is not enough")
    }

    /// Two sandboxes side by side: a 5-node ensemble with an observer and a 3-node one, both with
    /// ZooKeeper's default whitelist (only srvr), classified through srvr and the AdminServer.
    @Test func fiveNodesWithAnObserverAndADefaultWhitelistBesideAnotherSandbox() throws {
        let five = try SandboxEnsemble.start(nodes: 5, observers: 1, allWords: false)
        defer { five.close() }
        let three = try SandboxEnsemble.start(nodes: 3, allWords: false)
        defer { three.close() }
        #expect(five.sandbox.spec.basePort != three.sandbox.spec.basePort)

        let view = EnsembleInspector().inspect(five.sandbox.members)
        #expect(view.verdict == .healthy, "\(view.reasons)")
        #expect(view.quorum.voters == [1, 2, 3, 4])
        #expect(view.quorum.observers == [5])
        #expect(view.quorum.majority == 3)
        #expect(view.members[4].facts.mode == .observer)
        for status in view.members {
            #expect(status.facts.channels["mode"] == "4lw srvr", "server \(status.member.id)")
            #expect(status.facts.channels["imok"] == "admin ruok", "ruok is not whitelisted, so the AdminServer answered")
        }
        let leader = view.members[try #require(view.leaderID) - 1].facts
        #expect(leader.channels["syncedFollowers"] == "admin mntr")
        #expect(leader.syncedFollowers == 3)
        #expect(leader.syncedObservers == 1)

        let threeView = EnsembleInspector().inspect(three.sandbox.members)
        #expect(threeView.verdict == .healthy)

        let withoutAdmin = EnsembleInspector().inspect(three.sandbox.members.map {
            EnsembleMember(id: $0.id, host: $0.host, clientPort: $0.clientPort)
        })
        #expect(withoutAdmin.verdict == .healthy)
        #expect(withoutAdmin.notes.contains { $0.contains("synced followers unknown") && $0.contains("not in 4lw.commands.whitelist") })
    }
}

/// The engine's wait-until over zk-probe: the gate a rolling restart uses after restarting a node.
@Suite(.serialized)
struct ZooKeeperActionTests {
    @Test func waitUntilARestartedFollowerHasCaughtUp() throws {
        let fixture = try SandboxEnsemble.start(nodes: 3, allWords: true)
        defer { fixture.close() }
        let view = EnsembleInspector().inspect(fixture.sandbox.members)
        let leader = try #require(view.leaderID)
        let follower = try #require(fixture.sandbox.members.first { $0.id != leader })
        #expect(fixture.sandbox.stop(node: follower.id))
        try fixture.write("/while-it-was-down", through: leader)
        try fixture.sandbox.start(node: follower.id)
        let servers = fixture.sandbox.members.map(\.endpoint.description).joined(separator: ",")
        let runbook = try RunbookLoader(registry: try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all)).load(
            text: """
                { name: "gate", parameters: { server: { type: "string", required: true }, servers: { type: "string", required: true } },
                  steps: [{ id: "caught-up", description: "back as follower, within 0 transactions of the leader", action: "wait-until",
                    timeout: "60s",
                    with: { probe: "zk-probe", with: { server: "${server}", ensemble: ["${servers}"], maxLag: "0" },
                            fact: "caughtUp", equals: true, interval: "100ms" } }] }
                """, path: "gate.json5")
        let recorder = EventRecorder()
        let outcome = try RunService(registry: try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all)).start(
            runbook, parameters: ["server": .string(follower.endpoint.description), "servers": .string(servers)],
            options: RunOptions(layout: StateLayout(root: fixture.sandbox.directory + "/state")), sink: recorder,
            cancellation: CancellationToken())
        #expect(outcome.status == .succeeded, "\(outcome.message)")
        let finished = recorder.events.first { $0.type == .stepFinished }
        #expect(finished?.facts?["mode"] == .string("follower"))
        #expect(finished?.facts?["lagBehindLeader"] == .int(0))
        #expect(finished?.facts?["zxidCounter"].flatMap(\.number).map { $0 >= 1 } == true, "the write made while it was down reached it")
    }
}
