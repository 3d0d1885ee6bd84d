import Foundation
import Testing
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTestSupport
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

@testable import ZKRunbookRolling

/// A 3-node rolling restart with no process and no server: the nodes' agents are a node connector double that
/// answers each request as a real agent's JSON Lines would, and the servers are `MemoryServers` answering
/// srvr with replies captured from a 3.8 ensemble. What is under test is the conductor's own logic: the
/// leader-last order, the lease taken through each node's agent, the events of each node, and the halt.
struct InMemoryRollingRestartTests {
    /// Agents in memory: `lease` requests are granted; `run restart-node` succeeds, except on `failing`.
    final class ScriptedAgents: NodeConnector, @unchecked Sendable {
        let failing: Int
        private let lock = NSLock()
        private(set) var requests: [(node: Int, argv: [String])] = []

        init(failing: Int) { self.failing = failing }

        func runner(for node: EnsembleNode) -> any CommandRunner { Agent(node: node.id, agents: self) }

        func record(_ node: Int, _ argv: [String]) { lock.withLock { requests.append((node, argv)) } }
        var log: [(node: Int, argv: [String])] { lock.withLock { requests } }

        struct Agent: CommandRunner {
            let node: Int
            let agents: ScriptedAgents

            func run(_ spec: CommandSpec, cancellation: CancellationToken?) -> CommandResult {
                agents.record(node, spec.argv)
                let words = Array(spec.argv.dropFirst())
                if words.first == AgentVerb.lease.rawValue {
                    let reply = LeaseReply(words.dropFirst().first == "release" ? .released : .acquired)
                    return CommandResult(termination: .exited(0), stdout: Self.output([reply.line]))
                }
                guard words.first == AgentVerb.run.rawValue, words.count > 1 else { return CommandResult(termination: .exited(ExitCode.usage.rawValue)) }
                let fails = node == agents.failing
                let remote = "REMOTE-\(node)"
                var started = Event(type: .runStarted, runID: remote)
                started.runbook = words[1]
                var step = Event(type: .stepFinished, runID: remote)
                step.step = "restart"
                step.status = fails ? .failed : .succeeded
                step.cause = fails ? .exitStatus : nil
                step.message = fails ? "restart command exited 1: zookeeper.service failed" : "restarted"
                var finished = Event(type: .runFinished, runID: remote)
                finished.status = fails ? .failed : .succeeded
                finished.exitCode = Int(fails ? ExitCode.stepFailed.rawValue : ExitCode.success.rawValue)
                finished.message = fails ? "step 'restart' failed" : "all 1 steps done"
                let lines = [started, step, finished].map(Self.json)
                // As the process runner does: each line handed over as the agent writes it.
                for line in lines { spec.onStandardOutputLine?.handle(line) }
                return CommandResult(termination: .exited(finished.exitCode.map(Int32.init) ?? 1), stdout: Self.output(lines))
            }

            static func json(_ event: Event) -> String {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return String(decoding: try! encoder.encode(event), as: UTF8.self)
            }

            static func output(_ lines: [String]) -> CapturedOutput {
                let data = Data((lines.joined(separator: "\n") + "\n").utf8)
                return CapturedOutput(head: data, totalBytes: data.count)
            }
        }
    }

    @Test func theFollowersFirstTheLeaderLastAndAFailedNodeHaltsTheRest() throws {
        let scratch = Scratch("in-memory-roll")
        let ensemble = scratch.file("ensemble.json5")
        try """
        { name: "memory", agentPath: "/opt/zkrunbook", restartCommand: ["systemctl", "restart", "zookeeper"], nodes: [
          { id: 1, host: "zk1", clientPort: 2181, zooCfg: "/etc/zookeeper/conf/zoo.cfg" },
          { id: 2, host: "zk2", clientPort: 2182, zooCfg: "/etc/zookeeper/conf/zoo.cfg" },
          { id: 3, host: "zk3", clientPort: 2183, zooCfg: "/etc/zookeeper/conf/zoo.cfg" },
        ] }
        """.write(toFile: ensemble, atomically: true, encoding: .utf8)
        let registry = try ActionRegistry(composing: ActionRegistry.engineActions, AgentActions.all, ZooKeeperActions.all, RollingActions.all)
        let runbook = try RunbookLoader(registry: registry).load(
            text: """
                { name: "roll", parameters: { ensemble: { type: "path", required: true } }, steps: [
                  { id: "roll", description: "every node, the leader last", action: "zk-rolling-restart", with: { ensemble: "${ensemble}", perNode: [
                    { id: "restart", description: "restart node ${node.id}", action: "agent-run",
                      with: { runbook: "restart-node", params: { clientPort: "${node.clientPort}" } } },
                  ] } },
                ] }
                """, path: "roll.json5")
        // Server 2 leads; 1 and 3 follow.
        let servers = MemoryServers([
            2181: ["srvr": Fixtures.followerSrvr], 2182: ["srvr": Fixtures.leaderSrvr], 2183: ["srvr": Fixtures.followerSrvr],
        ])
        let agents = ScriptedAgents(failing: 3)
        var options = RunOptions(layout: StateLayout(root: scratch.file("state")))
        options.services[NodeConnectorKey.self] = agents
        options.services[ServerConnectorKey.self] = servers
        let recorder = EventRecorder()
        let outcome = try RunService(registry: registry).start(
            runbook, parameters: ["ensemble": .path(ensemble)], options: options, sink: recorder, cancellation: CancellationToken())

        // The order: followers by id, the leader last; node 3 fails, so the leader is never touched.
        #expect(outcome.status == .failed)
        #expect(outcome.message.contains("HALTED: nodes 2 were not touched"), "\(outcome.message)")
        #expect(outcome.message.contains("nodes 1 were restarted before"), "\(outcome.message)")
        let runs = agents.log.filter { $0.argv.dropFirst().first == "run" }
        #expect(runs.map(\.node) == [1, 3])
        #expect(runs.allSatisfy { $0.argv.first == "/opt/zkrunbook" && $0.argv.contains("--stop-when-stdin-closes") && $0.argv.contains("--lease") })
        // The lease: taken on every node (the lowest id first) before any restart, given back at the end.
        let leases = agents.log.filter { $0.argv.dropFirst().first == "lease" }
        #expect(leases.first?.node == 1 && leases.first?.argv.contains("acquire") == true)
        #expect(Set(leases.filter { $0.argv.contains("release") }.map(\.node)) == [1, 2, 3])
        let firstRun = try #require(agents.log.firstIndex { $0.argv.dropFirst().first == "run" })
        #expect(Set(agents.log[..<firstRun].filter { $0.argv.contains("acquire") }.map(\.node)) == [1, 2, 3])
        // The events: each node started and finished, the failing node's own step among them, tagged with it.
        let nodeEvents = recorder.events.filter { $0.type == .nodeStarted || $0.type == .nodeFinished }.map {
            "\($0.type.rawValue) \($0.node ?? 0) \($0.status?.rawValue ?? "")"
        }
        #expect(nodeEvents == ["node-started 1 ", "node-finished 1 succeeded", "node-started 3 ", "node-finished 3 failed"], "\(nodeEvents)")
        #expect(recorder.events.contains { $0.type == .stepFinished && $0.node == 3 && $0.step == "restart" && $0.parentRunID != nil && $0.status == .failed })
        #expect(recorder.events.first { $0.type == .nodeStarted && $0.node == 1 }?.message?.contains("leader now: server 2") == true)
        // Every probe went to the servers in memory.
        #expect(servers.asked.contains("2182 srvr"))
    }
}
