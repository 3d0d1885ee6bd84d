import Foundation
import Testing
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

/// A runbook's `lease`, in memory: taken before the first change and never for a run that changes nothing,
/// checked before every change, released at the end; refused or lost, the run stops before changing more.
struct RunFenceTests {
    final class Fence: RunFence, @unchecked Sendable {
        let lock = NSLock()
        var lostReason: String?
        var checks = 0
        var released = 0
        func check() -> String? {
            lock.withLock {
                checks += 1
                return lostReason
            }
        }
        func hold(on node: NodeFields) -> NodeHold? { NodeHold(runID: "run", key: "k") }
        func release() { lock.withLock { released += 1 } }
    }

    final class Provider: RunFenceProvider, @unchecked Sendable {
        let fence = Fence()
        var refusal: FenceRefusal?
        var targets: [String] = []
        /// What the script had run when the lease was asked for.
        var callsAtAcquire: [String]?
        let script: ActionScript
        init(script: ActionScript) { self.script = script }

        func acquire(
            target: String, nodes: String?, ttl: Double, runID: String, runbook: Runbook, parameters: [String: ParameterValue], cancellation: CancellationToken
        ) -> Result<(fence: any RunFence, note: String), FenceRefusal> {
            targets.append("\(target) ttl \(Int(ttl))" + (nodes.map { " nodes \($0)" } ?? ""))
            callsAtAcquire = script.calls
            if let refusal { return .failure(refusal) }
            return .success((fence, "leased \(target)"))
        }
    }

    func run(_ steps: String, lease: String = "lease: { ensemble: \"${ensemble}\", ttl: \"90s\" },", provider: Provider, mode: RunMode = .live) throws -> (
        RunOutcome, [Event]
    ) {
        let scratch = Scratch("fence")
        let text = "{ name: \"f\", \(lease) parameters: { ensemble: { type: \"string\", default: \"e.json5\" } }, steps: [\(steps)] }"
        let runbook = try RunbookLoader(registry: provider.script.registry).load(text: text, path: "f.json5")
        var options = RunOptions(mode: mode, layout: StateLayout(root: scratch.file("state")))
        options.fenceProvider = provider
        let recorder = EventRecorder()
        let outcome = try RunService(registry: provider.script.registry).start(
            runbook, parameters: ["ensemble": .string("e.json5")], options: options, sink: recorder, cancellation: CancellationToken())
        return (outcome, recorder.events)
    }

    @Test func theLeaseIsTakenBeforeTheFirstStepCheckedBeforeEachChangeAndReleasedAtTheEnd() throws {
        let provider = Provider(script: ActionScript())
        let (outcome, events) = try run(
            ScriptedRunTests.step("look", "check", undo: false) + ScriptedRunTests.step("a") + ScriptedRunTests.step("b"), provider: provider)
        #expect(outcome.status == .succeeded)
        #expect(provider.targets == ["e.json5 ttl 90"], "taken once, with the declared target and ttl")
        #expect(provider.callsAtAcquire == [], "before the first step, read-only checks included: the holder is named before any health judgement")
        #expect(provider.fence.checks == 3, "checked when taken and before each changing step")
        #expect(provider.fence.released == 1)
        #expect(events.contains { $0.type == .leaseTaken && $0.message == "leased e.json5" && $0.step == "look" })
    }

    @Test func aDryRunOrARunbookThatDeclaresNoLeaseTakesNone() throws {
        let provider = Provider(script: ActionScript())
        let (dry, _) = try run(ScriptedRunTests.step("a"), provider: provider, mode: .dryRun)
        #expect(dry.status == .succeeded)
        let (undeclared, _) = try run(ScriptedRunTests.step("a"), lease: "", provider: provider)
        #expect(undeclared.status == .succeeded)
        #expect(provider.targets.isEmpty)
    }

    @Test func aLeaseHeldElsewhereLocksTheRunBeforeAnyChange() throws {
        let provider = Provider(script: ActionScript())
        provider.refusal = FenceRefusal(cause: .locked, message: "node 1: leased to run R by pid 7 on h")
        let (outcome, events) = try run(ScriptedRunTests.step("a") + ScriptedRunTests.step("b"), provider: provider)
        #expect(outcome.status == .locked)
        #expect(outcome.exitCode == .locked)
        #expect(outcome.message.contains("before any change") && outcome.message.contains("leased to run R"), "\(outcome.message)")
        #expect(provider.script.calls.isEmpty, "nothing ran: \(provider.script.calls)")
        #expect(events.first { $0.type == .stepFinished && $0.step == "a" }?.cause == .locked)
    }

    @Test func aNodeThatCannotBeAskedRefusesTheRun() throws {
        let provider = Provider(script: ActionScript())
        provider.refusal = FenceRefusal(cause: .refused, message: "node 2 cannot be reached")
        let (outcome, _) = try run(ScriptedRunTests.step("a"), provider: provider)
        #expect(outcome.status == .refused)
        #expect(provider.script.calls.isEmpty)
    }

    /// A lease lost after a change stops the run there, and does not roll back under another run.
    @Test func aLeaseLostMidRunStopsBeforeTheNextChangeWithoutRollingBack() throws {
        let script = ActionScript()
        let provider = Provider(script: script)
        script.onAttempt = { id in if id == "a" { provider.fence.lock.withLock { provider.fence.lostReason = "node 1: taken over by run S" } } }
        let (outcome, _) = try run(ScriptedRunTests.step("a") + ScriptedRunTests.step("b"), provider: provider)
        #expect(outcome.status == .failed)
        #expect(outcome.message.contains("taken over by run S") && outcome.message.contains("nothing rolled back"), "\(outcome.message)")
        #expect(script.calls == ["a"], "b never ran, a was not undone: \(script.calls)")
        #expect(provider.fence.released == 1)
    }

    @Test func aLeaseMayNameTheOnlyMembersTheRunChanges() throws {
        let provider = Provider(script: ActionScript())
        let (outcome, _) = try run(ScriptedRunTests.step("a"), lease: "lease: { ensemble: \"${ensemble}\", nodes: \"4,5\" },", provider: provider)
        #expect(outcome.status == .succeeded)
        #expect(provider.targets == ["e.json5 ttl 60 nodes 4,5"])
        let text = "{ name: \"f\", lease: { ensemble: \"x\", nodes: \"${steps.a.ids}\" }, steps: [\(ScriptedRunTests.step("a"))] }"
        #expect(throws: RunbookError.self) { try RunbookLoader(registry: provider.script.registry).load(text: text, path: "f.json5") }
    }

    @Test func theLeaseMayNameOnlyParameters() throws {
        let text = "{ name: \"f\", lease: { ensemble: \"${steps.a.path}\" }, steps: [\(ScriptedRunTests.step("a"))] }"
        #expect(throws: RunbookError.self) { try RunbookLoader(registry: ActionScript().registry).load(text: text, path: "f.json5") }
    }
}
