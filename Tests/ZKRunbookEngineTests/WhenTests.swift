import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookProcess

@testable import ZKRunbookEngine

/// A step's `when`: a false one skips the step and the run goes on (forward and in a rollback); one that
/// cannot be evaluated in a live run neither runs nor skips; a plan shows the condition.
@Suite(.serialized)
struct WhenTests {
    func execute(_ text: String, scratch: Scratch, mode: RunMode = .live) throws -> (RunOutcome, [Event]) {
        let runbook = try loadRunbook(text)
        let values = try ParameterBinding.bind(runbook, given: []).get()
        let recorder = EventRecorder()
        let options = RunOptions(mode: mode, layout: StateLayout(root: scratch.file("state")))
        return (try RunService().start(runbook, parameters: values, options: options, sink: recorder, cancellation: CancellationToken()), recorder.events)
    }

    func append(_ word: String, to log: String) -> String { #"argv: ["/bin/sh", "-c", "echo \#(word) >> \#(log)"]"# }

    @Test func aFalseWhenSkipsTheStepAndTheRunGoesOn() throws {
        let scratch = Scratch("when-skip")
        let log = scratch.file("log")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              { id: "look", description: "d", action: "exec", with: { argv: ["echo", "unchanged"], readOnly: true } },
              { id: "restart", description: "d", action: "exec", with: { \(append("restart", to: log)) }, when: { fact: "steps.look.stdout", equals: "changed" } },
              { id: "after", description: "d", action: "exec", with: { \(append("after", to: log)) }, when: { fact: "steps.look.stdout", notEquals: "changed" } },
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .succeeded)
        #expect(scratch.read("log") == "after\n")
        let finished = events.filter { $0.type == .stepFinished }
        #expect(finished.map(\.status) == [.succeeded, .skipped, .succeeded])
        #expect(finished[1].message?.contains("does not hold") == true, "\(finished[1].message ?? "")")
    }

    @Test func aWhenInARollbackDecidesWhichUndoRuns() throws {
        let scratch = Scratch("when-rollback")
        let log = scratch.file("log")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              { id: "change", description: "d", action: "exec", with: { \(append("change", to: log)) },
                rollback: [
                  { id: "restore", description: "d", action: "exec", with: { argv: ["echo", "0"] } },
                  { id: "restart-back", description: "d", action: "exec", with: { \(append("restart-back", to: log)) },
                    when: { fact: "steps.restore.stdout", atLeast: 1 } },
                  { id: "note", description: "d", action: "exec", with: { \(append("note", to: log)) }, when: { fact: "steps.restore.stdout", equals: "0" } },
                ] },
              { id: "boom", description: "d", action: "exec", with: { argv: ["false"] } },
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .rolledBack)
        #expect(scratch.read("log") == "change\nnote\n")
        let undone = events.filter { $0.type == .stepFinished && $0.phase == .rollback }
        #expect(undone.map(\.status) == [.succeeded, .skipped, .succeeded])
    }

    @Test func aWhenThatCannotBeEvaluatedNeitherRunsNorSkips() throws {
        let scratch = Scratch("when-unknown")
        let log = scratch.file("log")
        let (outcome, events) = try execute(
            """
            { name: "t", steps: [
              { id: "restart", description: "d", action: "exec", with: { \(append("restart", to: log)) },
                when: { probe: "file", with: { path: "/nonexistent/zk" }, fact: "sha256", equals: "x" } },
            ] }
            """, scratch: scratch)
        #expect(outcome.status == .refused, "\(events.map { $0.message ?? "" })")
        #expect(scratch.read("log") == nil || scratch.read("log") == "")
        #expect(events.contains { $0.type == .stepFinished && $0.message?.contains("cannot be evaluated") == true })
    }

    @Test func aPlanShowsTheCondition() throws {
        let scratch = Scratch("when-plan")
        let (_, events) = try execute(
            """
            { name: "t", steps: [
              { id: "change", description: "d", action: "exec", with: { argv: ["true"] } },
              { id: "restart", description: "d", action: "exec", with: { argv: ["true"] }, when: { fact: "steps.change.exitStatus", equals: 0 } },
            ] }
            """, scratch: scratch, mode: .offlinePlan)
        let started = events.first { $0.type == .stepStarted && $0.step == "restart" }
        #expect(started?.plan?.last == "only when steps.change.exitStatus equals 0; skipped otherwise", "\(started?.plan ?? [])")
    }
}
