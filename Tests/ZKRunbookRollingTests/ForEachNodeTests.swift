import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookEngine
import ZKRunbookProcess

import ZKRunbookZooKeeperActions
@testable import ZKRunbookRolling

#if canImport(Glibc)
import Glibc
#endif

/// `for-each-node` over local nodes (no ssh): the order given, halting, and what a refusal means.
struct ForEachNodeTests {
    func run(_ steps: String, nodes: String, bad: String) throws -> (RunOutcome, [Event]) {
        let scratch = Scratch("foreach")
        let folder = scratch.path
        let ensemble = folder + "/ensemble.json5"
        try """
            { name: "t", nodes: [{ id: 1, host: "127.0.0.1" }, { id: 2, host: "127.0.0.1" }, { id: 3, host: "127.0.0.1" }], restartCommand: ["true"] }
            """.write(toFile: ensemble, atomically: true, encoding: .utf8)
        let runbook = try RunbookLoader(registry: try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all, RollingActions.all)).load(
            text: """
                { name: "each", parameters: { ensemble: { type: "path", required: true }, bad: { type: "string", required: true } },
                  steps: [{ id: "each", description: "on each node", action: "for-each-node",
                            with: { ensemble: "${ensemble}", nodes: "\(nodes)", \(steps) } }] }
                """, path: "each.json5")
        let recorder = EventRecorder()
        let outcome = try RunService(registry: try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all, RollingActions.all)).start(
            runbook, parameters: ["ensemble": .path(ensemble), "bad": .string(bad)],
            options: RunOptions(layout: StateLayout(root: folder + "/state")), sink: recorder, cancellation: CancellationToken())
        return (outcome, recorder.events)
    }

    /// A read-only check refused on the second node is a refusal of the whole run (exit 3): the nodes
    /// checked before it changed nothing.
    @Test func aReadOnlyCheckRefusedOnALaterNodeRefusesTheRun() throws {
        let check = """
            readOnly: true, steps: [{ id: "check", description: "not the bad node", action: "assert", with: { fact: "params.bad", notEquals: "${node.id}" } }]
            """
        let (outcome, events) = try run(check, nodes: "3,1,2", bad: "1")
        #expect(outcome.status == .refused, "\(outcome.message)")
        #expect(outcome.exitCode.rawValue == 3)
        #expect(events.filter { $0.type == .nodeStarted }.compactMap(\.node) == [3, 1], "in the order given, halted at node 1")
        #expect(outcome.message.contains("nodes 2 were not touched"), "\(outcome.message)")
        let (passed, _) = try run(check, nodes: "3,1,2", bad: "9")
        #expect(passed.status == .succeeded, "\(passed.message)")
    }

    /// `${node.*}` fields are declared by the action that opens the per-node scope, not listed by the engine.
    @Test func nodeFieldsComeFromTheActionThatOpensTheScope() throws {
        let text = """
            { name: "b", parameters: { ensemble: { type: "path", required: true } }, steps: [
              { id: "each", description: "each", action: "for-each-node", with: { ensemble: "${ensemble}", nodes: "1",
                steps: [{ id: "x", description: "x", action: "exec", with: { argv: ["/bin/echo", "${node.hots}", "${node.zooCfg}"] } }] } },
              { id: "y", description: "y", action: "exec", with: { argv: ["/bin/echo", "${node.host}"] } },
            ] }
            """
        let registry = try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all, RollingActions.all)
        do {
            _ = try RunbookLoader(registry: registry).load(text: text, path: "b.json5")
            Issue.record("loaded a runbook with a misspelt node field")
        } catch {
            let message = error.description
            #expect(message.contains("b.json5:3:86: error: step 'x' refers to ${node.hots}, which a node does not have; did you mean 'host'?"), "\(message)")
            #expect(!message.contains("node.zooCfg"), "a declared field passes")
            #expect(message.contains("step 'y' refers to ${node.host}, which has a value only in a per-node step list"))
        }
    }
}

/// The one node loop's decision for each ending of a node's procedure, in memory.
struct NodeEndingTests {
    @Test func eachStatusHasOneMeaning() {
        #expect(NodeEnding.of(.succeeded, continueOnFailure: false) == .done)
        #expect(NodeEnding.of(.refused, continueOnFailure: true) == .halt(.refused), "a refusal halts even a loop that goes on past failures")
        #expect(NodeEnding.of(.locked, continueOnFailure: false) == .halt(.locked))
        #expect(NodeEnding.of(.interrupted, continueOnFailure: true) == .interrupted)
        for status in [RunStatus.failed, .rolledBack, .rollbackFailed] {
            #expect(NodeEnding.of(status, continueOnFailure: false) == .failed)
            #expect(NodeEnding.of(status, continueOnFailure: true) == .failedAndGoOn)
        }
    }
}
