import Foundation
import Testing
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

/// Whole runs against scripted actions: the executor's endings, retries and rollback order, in memory.
struct ScriptedRunTests {
    func run(_ steps: String, _ script: ActionScript, mode: RunMode = .live, token: CancellationToken = CancellationToken()) throws -> (RunOutcome, [Event]) {
        let scratch = Scratch("scripted")
        let runbook = try RunbookLoader(registry: script.registry).load(text: "{ name: \"s\", steps: [\(steps)] }", path: "s.json5")
        let recorder = EventRecorder()
        let outcome = try RunService(registry: script.registry).start(
            runbook, parameters: [:], options: RunOptions(mode: mode, layout: StateLayout(root: scratch.file("state"))), sink: recorder,
            cancellation: token)
        return (outcome, recorder.events)
    }

    static func step(_ id: String, _ action: String = "change", extra: String = "", undo: Bool = true) -> String {
        "{ id: \"\(id)\", description: \"\(id)\", action: \"\(action)\", with: {}, \(extra)"
            + (undo ? " rollback: [{ id: \"undo-\(id)\", description: \"undo \(id)\", action: \"change\", with: {} }]" : "") + " },"
    }

    @Test func aFailureAfterAChangeRollsBackInReverse() throws {
        let script = ActionScript()
        script.on("c", .failure(cause: .exitStatus, message: "broken"))
        let (outcome, events) = try run(Self.step("a") + Self.step("b") + Self.step("c", undo: false) + Self.step("d"), script)
        #expect(outcome.status == .rolledBack)
        #expect(script.calls == ["a", "b", "c", "undo-b", "undo-a"])
        #expect(events.first { $0.step == "c" && $0.type == .stepFinished }?.cause == .exitStatus)
    }

    /// A rollback that fails too is not a clean rollback: its own status and exit code (6), the person's cue.
    @Test func aFailedRollbackExitsSixNotOne() throws {
        let script = ActionScript()
        script.on("b", .failure(cause: .exitStatus, message: "broken"))
        script.on("undo-a", .failure(cause: .exitStatus, message: "cannot undo"))
        let (outcome, _) = try run(Self.step("a") + Self.step("b", undo: false), script)
        #expect(outcome.status == .rollbackFailed)
        #expect(outcome.exitCode == .rollbackFailed && outcome.exitCode.rawValue == 6)
        #expect(ExitCode.rollbackFailed != ExitCode.stepFailed && ExitCode.all.contains(.rollbackFailed))

        let clean = ActionScript()
        clean.on("b", .failure(cause: .exitStatus, message: "broken"))
        let (rolledBack, _) = try run(Self.step("a") + Self.step("b", undo: false), clean)
        #expect(rolledBack.status == .rolledBack && rolledBack.exitCode.rawValue == 1)

        // Interrupted, and the undo fails: the same cue, not a plain 130.
        let token = CancellationToken()
        let interrupted = ActionScript()
        interrupted.on("undo-a", .failure(cause: .exitStatus, message: "cannot undo"))
        interrupted.onAttempt = { id in if id == "a" { token.cancel(reason: "SIGINT") } }
        let (stopped, _) = try run(Self.step("a") + Self.step("b"), interrupted, token: token)
        #expect(stopped.status == .rollbackFailed && stopped.exitCode.rawValue == 6, "\(stopped.message)")
    }

    /// Two guards reading two facts of one probe (same action, same arguments) run it once; a guard whose
    /// probe asks something else runs its own.
    @Test func guardsAskingTheSameProbeShareOneRun() throws {
        let script = ActionScript()
        script.on("g", .success("probed", facts: ["healthy": .bool(true), "canElect": .bool(true)]))
        let guards = """
            guards: [
              { probe: "check", with: {}, fact: "healthy", equals: true },
              { probe: "check", with: {}, fact: "canElect", equals: true },
            ],
            """
        let (outcome, events) = try run(Self.step("g", extra: guards, undo: false), script)
        #expect(outcome.status == .succeeded)
        #expect(script.calls == ["g", "g"], "one probe run for both guards, then the step: \(script.calls)")
        #expect(events.filter { $0.type == .guardEvaluated }.count == 2, "each guard still reported")
    }

    @Test func retriesUntilTheScriptSucceeds() throws {
        let script = ActionScript()
        script.on("flaky", .failure(cause: .timeout, message: "slow"), .failure(cause: .timeout, message: "slow"), .success("at last"))
        let (outcome, events) = try run(Self.step("flaky", extra: "retries: { count: 3, backoff: \"1ms\" },"), script)
        #expect(outcome.status == .succeeded)
        #expect(script.calls == ["flaky", "flaky", "flaky"])
        #expect(events.filter { $0.type == .attemptFailed }.count == 2)
    }

    @Test func refusalsLocksAndContinues() throws {
        let refusing = ActionScript()
        var refusal = ActionOutcome.failure(cause: .refused, message: "not now")
        refusal.changedSomething = false
        refusing.on("first", refusal)
        #expect(try run(Self.step("first") + Self.step("second"), refusing).0.exitCode == .refused)
        #expect(refusing.calls == ["first"], "nothing after a refusal, nothing to undo")

        let locked = ActionScript()
        locked.on("first", .failure(cause: .locked, message: "held by run X"))
        #expect(try run(Self.step("first"), locked).0.exitCode == .locked)

        let optional = ActionScript()
        optional.on("optional", .failure(cause: .exitStatus, message: "meh"))
        let (outcome, events) = try run(Self.step("optional", extra: "onFailure: \"continue\",") + Self.step("last"), optional)
        #expect(outcome.status == .succeeded)
        #expect(events.first { $0.step == "optional" && $0.type == .stepFinished }?.status == .continued)
    }

    @Test func aSignalMidStepRollsBackWhatWasDone() throws {
        let script = ActionScript()
        let token = CancellationToken()
        script.on("slow", .failure(cause: .interrupted, message: "stopped"))
        script.onAttempt = { id in if id == "slow" { token.cancel(reason: "SIGINT") } }
        let (outcome, _) = try run(Self.step("done") + Self.step("slow") + Self.step("never"), script, token: token)
        #expect(outcome.status == .interrupted)
        #expect(outcome.exitCode == .interrupted)
        #expect(script.calls == ["done", "slow", "undo-done"])
    }

    @Test func aDryRunNeverCallsAChange() throws {
        let script = ActionScript()
        let (outcome, events) = try run(Self.step("probe", "check", undo: false) + Self.step("change") + Self.step("after", "check", undo: false), script, mode: .dryRun)
        #expect(outcome.status == .succeeded)
        #expect(script.calls == ["probe", "after"])
        #expect(events.filter { $0.type == .stepFinished }.map(\.status) == [.succeeded, .skipped, .unknown])
    }
}
