import Foundation
import Testing
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

/// The executor against real processes and files: order, rollback, retries, timeouts, guards, dry runs.
@Suite(.serialized)
struct ExecutorTests {
    /// Runs `text` with `parameters` in `scratch`, returning the outcome and the events.
    func execute(
        _ text: String, _ parameters: [(String, String)] = [], scratch: Scratch, dryRun: Bool = false, offline: Bool = false,
        cancellation: CancellationToken = CancellationToken()
    ) throws -> (RunOutcome, [Event]) {
        let runbook = try loadRunbook(text)
        let values = try ParameterBinding.bind(runbook, given: parameters.map { (name: $0.0, value: $0.1) }).get()
        let recorder = EventRecorder()
        let options = RunOptions(mode: offline ? .offlinePlan : dryRun ? .dryRun : .live, layout: StateLayout(root: scratch.file("state")))
        let outcome = try RunService().start(runbook, parameters: values, options: options, sink: recorder, cancellation: cancellation)
        return (outcome, recorder.events)
    }

    /// A step that appends its name to `log`, with a rollback that appends "undo-NAME".
    static func loggingStep(_ name: String, log: String, extra: String = "") -> String {
        """
        { id: "\(name)", description: "\(name)", action: "exec",
          with: { argv: ["/bin/sh", "-c", "echo \(name) >> \(log)"] }, \(extra)
          rollback: [{ description: "undo \(name)", action: "exec", with: { argv: ["/bin/sh", "-c", "echo undo-\(name) >> \(log)"] } }] }
        """
    }

    @Test func stepsRunInOrderAndFactsFlowToLaterSteps() throws {
        let scratch = Scratch("order")
        let log = scratch.file("log")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              \(Self.loggingStep("one", log: log)),
              { id: "two", description: "d", action: "exec", with: { argv: ["echo", "from two"] } },
              { id: "three", description: "d", action: "exec", with: { argv: ["/bin/sh", "-c", "echo \\"$1\\" >> \(log)", "sh", "${steps.two.stdout}"] } },
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .succeeded)
        #expect(scratch.read("log") == "one\nfrom two\n")
        #expect(events.first?.type == .runStarted)
        #expect(events.last?.type == .runFinished)
        #expect(events.filter { $0.type == .stepFinished }.map(\.status) == [.succeeded, .succeeded, .succeeded])
    }

    @Test func aStepKeptWhenLaterFailsIsWhereTheRunHaltsOnlyTheStepsAfterItAreUndone() throws {
        let scratch = Scratch("keep")
        let log = scratch.file("log")
        let (outcome, _) = try execute(
            """
            { name: "t", steps: [
              \(Self.loggingStep("one", log: log)),
              \(Self.loggingStep("roll", log: log, extra: "keepWhenLaterFails: true,")),
              \(Self.loggingStep("two", log: log)),
              { id: "boom", description: "fails", action: "exec", with: { argv: ["/bin/sh", "-c", "exit 3"] } },
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .rolledBack)
        #expect(scratch.read("log") == "one\nroll\ntwo\nundo-two\n", "the run halts at the kept step: it and what came before stay")
    }

    @Test func aFailedStepRollsBackCompletedStepsInReverse() throws {
        let scratch = Scratch("rollback")
        let log = scratch.file("log")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              \(Self.loggingStep("one", log: log)),
              \(Self.loggingStep("two", log: log)),
              { id: "boom", description: "fails", action: "exec", with: { argv: ["/bin/sh", "-c", "echo broken >&2; exit 7"] } },
              \(Self.loggingStep("never", log: log)),
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .rolledBack)
        #expect(outcome.exitCode.rawValue == 1)
        #expect(scratch.read("log") == "one\ntwo\nundo-two\nundo-one\n")
        let failure = events.first { $0.type == .attemptFailed }
        #expect(failure?.cause?.rawValue == "exit-status")
        #expect(failure?.exitStatus == 7)
        #expect(failure?.evidence == ["broken"])
        #expect(events.contains { $0.type == .rollbackFinished && $0.status == .succeeded })
    }

    @Test func continueOnFailureAndRetriesWithBackoff() throws {
        let scratch = Scratch("retry")
        let counter = scratch.file("count")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              { id: "flaky", description: "fails twice", action: "exec", retries: { count: 3, backoff: "50ms", factor: 2 },
                with: { argv: ["/bin/sh", "-c", "echo x >> \(counter); [ $(wc -l < \(counter)) -ge 3 ]"] } },
              { id: "optional", description: "non-critical", action: "exec", onFailure: "continue", with: { argv: ["false"] } },
              { id: "last", description: "still runs", action: "exec", with: { argv: ["true"] } },
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .succeeded)
        #expect(scratch.read("count")?.split(separator: "\n").count == 3)
        #expect(events.filter { $0.type == .attemptFailed && $0.step == "flaky" }.map(\.timeoutMs) == [50, 100])
        #expect(events.first { $0.type == .stepFinished && $0.step == "optional" }?.status == .continued)
        #expect(events.first { $0.type == .stepFinished && $0.step == "last" }?.status == .succeeded)
    }

    @Test func aTimeoutIsACauseAndStopsTheStep() throws {
        let scratch = Scratch("timeout")
        let started = Date()
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [{ id: "slow", description: "d", action: "exec", timeout: "300ms", with: { argv: ["sleep", "30"] } }] }
            """, scratch: scratch)
        #expect(outcome.status == .failed)
        #expect(events.first { $0.type == .attemptFailed }?.cause?.rawValue == "timeout")
        // Far below the 30 s the child would sleep, with room for a loaded CI machine.
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test func waitUntilPollsUntilTheConditionHoldsOrTheTimeout() throws {
        let scratch = Scratch("wait")
        let flag = scratch.file("flag")
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) {
            FileManager.default.createFile(atPath: flag, contents: Data("ready".utf8))
        }
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              { id: "appears", description: "d", action: "wait-until", timeout: "10s",
                with: { probe: "file", with: { path: "\(flag)" }, fact: "exists", equals: true, interval: "50ms" } },
              { id: "never", description: "d", action: "wait-until", timeout: "300ms",
                with: { probe: "exec", with: { argv: ["cat", "\(flag)"], readOnly: true }, fact: "stdout", equals: "other", interval: "50ms" } },
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .failed)
        let appeared = events.first { $0.type == .stepFinished && $0.step == "appears" }
        #expect(appeared?.status == .succeeded)
        #expect((appeared?.facts?["polls"]?.number ?? 0) >= 2)
        let gaveUp = events.first { $0.type == .attemptFailed && $0.step == "never" }
        #expect(gaveUp?.cause?.rawValue == "timeout")
        #expect(gaveUp?.message?.contains("stdout is \"ready\", expected equals \"other\"") == true)
    }

    @Test func aGuardRefusesBeforeAnyChangeWithExit3() throws {
        let scratch = Scratch("refuse")
        let log = scratch.file("log")
        let (outcome, events) = try execute(
            """
            { name: "t", parameters: { mode: { type: "string", default: "standalone" } }, steps: [
              { id: "look", description: "read-only", action: "exec", with: { argv: ["echo", "${mode}"], readOnly: true } },
              \(Self.loggingStep("change", log: log, extra: "guards: [{ description: \"mode is follower\", fact: \"steps.look.stdout\", in: [\"follower\", \"leader\"] }],")),
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .refused)
        #expect(outcome.exitCode.rawValue == 3)
        #expect(scratch.read("log") == nil)
        let verdict = events.first { $0.type == .guardEvaluated }
        #expect(verdict?.verdict == "failed")
        #expect(verdict?.actual == .string("standalone"))
        #expect(verdict?.expected == .list([.string("follower"), .string("leader")]))
    }

    @Test func aGuardFailingAfterAChangeRollsBack() throws {
        let scratch = Scratch("guard-late")
        let log = scratch.file("log")
        let (outcome, _) = try execute(
            """
            { name: "t", steps: [
              \(Self.loggingStep("change", log: log)),
              \(Self.loggingStep("next", log: log, extra: "guards: [{ probe: \"file\", with: { path: \"/nonexistent/zk\" }, fact: \"exists\", equals: true }],")),
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .rolledBack)
        #expect(scratch.read("log") == "change\nundo-change\n")
    }

    @Test func backupEditAndRestoreKeepModeAndContent() throws {
        let scratch = Scratch("backup")
        let config = scratch.write("zoo.cfg", "tickTime=2000\n# keep me\nclientPort=2181\n")
        chmod(config, 0o640)
        let (outcome, _) = try execute(
            """
            { name: "t", parameters: { cfg: { type: "path", required: true } }, steps: [
              { id: "backup", description: "d", action: "backup-file", with: { path: "${cfg}" }, rollback: ["restore"] },
              { id: "edit", description: "d", action: "edit-properties", with: { path: "${cfg}", set: { clientPort: "2182", "4lw.commands.whitelist": "*" } } },
              { id: "fail", description: "d", action: "exec", with: { argv: ["false"] } },
            ], rollbacks: [{ id: "restore", description: "d", action: "restore-file", with: { backupStep: "backup" } }] }
            """, [("cfg", config)], scratch: scratch)
        #expect(outcome.status == .rolledBack)
        #expect(scratch.read("zoo.cfg") == "tickTime=2000\n# keep me\nclientPort=2181\n")
        var info = stat()
        stat(config, &info)
        #expect(info.st_mode & 0o777 == 0o640)
    }

    @Test func editPropertiesKeepsCommentsAndOrder() {
        let (text, previous) = PropertiesEditor.apply(
            to: "# c\na=1\nb = 2\na=dup\n", set: [("b", "3"), ("c", "4")], remove: ["a"])
        #expect(text == "# c\nb=3\nc=4\n")
        #expect(previous.map(\.0) == ["b", "c", "a"])
        #expect(previous.map(\.1) == ["2", nil, "1"])
    }

    @Test func aDryRunChangesNothingAndSaysUnknownAfterASkippedChange() throws {
        let scratch = Scratch("dry")
        let marker = scratch.file("marker")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              { id: "probe", description: "d", action: "exec", with: { argv: ["echo", "live"], readOnly: true } },
              { id: "change", description: "d", action: "exec", with: { argv: ["touch", "\(marker)"] } },
              { id: "after", description: "d", action: "assert", with: { probe: "file", with: { path: "\(marker)" }, fact: "exists", equals: true } },
              { id: "uses", description: "d", action: "exec", with: { argv: ["echo", "${steps.change.stdout}"], readOnly: true } },
            ] }
            """, scratch: scratch, dryRun: true)
        #expect(outcome.status == .succeeded)
        #expect(!FileManager.default.fileExists(atPath: marker))
        let statuses = events.filter { $0.type == .stepFinished }.map { "\($0.step!)=\($0.status!)" }
        #expect(statuses == ["probe=succeeded", "change=skipped", "after=unknown", "uses=unknown"])
        #expect(events.first { $0.type == .stepFinished && $0.step == "probe" }?.facts?["stdout"] == .string("live"))
        #expect(events.first { $0.type == .stepStarted && $0.step == "change" }?.command == ["touch", marker])
        #expect(!FileManager.default.fileExists(atPath: scratch.file("state")), "a dry run wrote state")
    }

    @Test func anOfflinePlanRunsNothingAtAll() throws {
        let scratch = Scratch("offline")
        let marker = scratch.file("marker")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              { id: "probe", description: "d", action: "exec", with: { argv: ["touch", "\(marker)"], readOnly: true },
                guards: [{ probe: "file", with: { path: "/" }, fact: "exists", equals: true }] },
            ] }
            """, scratch: scratch, dryRun: true, offline: true)
        #expect(outcome.status == .succeeded)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(events.first { $0.type == .guardEvaluated }?.verdict == "unknown")
    }

    @Test func secretsNeverReachEventsOrTheJournal() throws {
        let scratch = Scratch("secret")
        let (outcome, events) = try execute(
            """
            { name: "t", parameters: { password: { type: "string", secret: true, required: true } }, steps: [
              { id: "leak", description: "uses ${password}", action: "exec",
                with: { argv: ["/bin/sh", "-c", "echo \\"pw=$1\\"; echo \\"pw=$1\\" >&2; exit 1", "sh", "${password}"] } },
            ] }
            """, [("password", "hunter2-very-secret")], scratch: scratch)
        #expect(outcome.status == .failed)
        let encoded = events.map { $0.jsonLine() }.joined(separator: "\n")
        #expect(!encoded.contains("hunter2"))
        #expect(encoded.contains("pw=***"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: scratch.file("state/runs"))
        let journal = scratch.read("state/runs/\(runs[0])/journal.jsonl") ?? ""
        #expect(journal.contains("run-finished"))
        #expect(!journal.contains("hunter2"))
    }

    @Test func anInterruptedRunResumesWithoutRepeatingDoneSteps() throws {
        let scratch = Scratch("resume")
        let log = scratch.file("log")
        let gate = scratch.write("gate", "")
        let text = """
            { name: "t", steps: [
              \(Self.loggingStep("one", log: log)),
              { id: "wait", description: "blocks while the gate file exists", action: "exec",
                with: { argv: ["/bin/sh", "-c", "echo wait >> \(log); while [ -e \(gate) ]; do sleep 0.05; done"] } },
              \(Self.loggingStep("three", log: log)),
            ] }
            """
        let runbook = try loadRunbook(text)
        let token = CancellationToken()
        let layout = StateLayout(root: scratch.file("state"))
        DispatchQueue.global().async {
            while !(scratch.read("log") ?? "").contains("wait") { Thread.sleep(forTimeInterval: 0.02) }
            token.cancel(reason: "test interrupt")
        }
        let first = try RunService().start(
            runbook, parameters: [:], options: RunOptions(rollbackOnInterrupt: false, layout: layout), sink: EventRecorder(),
            cancellation: token)
        #expect(first.status == .interrupted)
        #expect(first.exitCode.rawValue == 130)
        try FileManager.default.removeItem(atPath: gate)
        let recorder = EventRecorder()
        let second = try RunService().resume(
            runID: first.runID, extraParameters: [], options: RunOptions(layout: layout), sink: recorder, cancellation: CancellationToken())
        #expect(second.status == .succeeded)
        #expect(scratch.read("log") == "one\nwait\nwait\nthree\n")
        #expect(recorder.events.first?.type == .runResumed)
        #expect(recorder.events.first?.step == "wait")
        #expect(throws: RunService.StartError.self) {
            try RunService().resume(
                runID: first.runID, extraParameters: [], options: RunOptions(layout: layout), sink: EventRecorder(), cancellation: CancellationToken())
        }
    }

    @Test func aSecondRunOnTheSameLockIsRefusedWithTheHolder() throws {
        let scratch = Scratch("lock")
        let layout = StateLayout(root: scratch.file("state"))
        let held = try RunLock.acquire(name: "node", layout: layout, runID: "RUN-A", runbook: "first")
        do {
            _ = try RunLock.acquire(name: "node", layout: layout, runID: "RUN-B", runbook: "second")
            Issue.record("the lock was taken twice")
        } catch let error as LockHeld {
            #expect(error.description.contains("pid \(getpid()), run RUN-A, runbook first"))
        }
        held.release()
        let again = try RunLock.acquire(name: "node", layout: layout, runID: "RUN-C", runbook: "third")
        again.release()
    }
}
