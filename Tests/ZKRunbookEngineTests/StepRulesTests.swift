import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookProcess

@testable import ZKRunbookEngine

/// Every way a step can end, decided in memory: no process, no file, no sink.
struct StepRulesTests {
    func ending(
        _ outcome: ActionOutcome, mode: RunMode = .live, continueOnFailure: Bool = false, changedBefore: Bool = false,
        skippedChange: String? = nil, cancelled: Bool = false
    ) -> StepEnding {
        StepRules.ending(
            of: outcome, mode: mode, continueOnFailure: continueOnFailure, changedBefore: changedBefore, skippedChange: skippedChange,
            cancelled: cancelled)
    }

    func failure(_ cause: FailureCause, changedSomething: Bool = false) -> ActionOutcome {
        var outcome = ActionOutcome.failure(cause: cause, message: "it said no")
        outcome.changedSomething = changedSomething
        return outcome
    }

    @Test func liveEndings() {
        #expect(ending(.success("fine")) == .succeeded)
        #expect(ending(failure(.exitStatus)) == .failed)
        #expect(ending(failure(.exitStatus), continueOnFailure: true) == .continued)
        #expect(ending(failure(.interrupted), continueOnFailure: true) == .interrupted, "a signal beats onFailure: continue")
        #expect(ending(failure(.exitStatus), cancelled: true) == .interrupted, "a signal during the step, whatever the cause")
        #expect(ending(failure(.assertionFailed)) == .refused, "an assert before any change is a refusal")
        #expect(ending(failure(.assertionFailed), changedBefore: true) == .failed, "after a change it is a failure to undo")
        #expect(ending(failure(.locked)) == .locked)
        #expect(ending(failure(.locked, changedSomething: true)) == .failed, "a lease lost after nodes were restarted")
        #expect(ending(failure(.refused)) == .refused)
        #expect(ending(failure(.refused), changedBefore: true) == .failed)
        #expect(ending(failure(.refused, changedSomething: true)) == .failed)
        #expect(ending(failure(.timeout)) == .failed)
    }

    @Test func dryRunEndings() {
        #expect(ending(.unknown("depends on a skipped step"), mode: .dryRun) == .unknown(message: nil))
        #expect(ending(.success("fine"), mode: .dryRun) == .succeeded, "nothing skipped before: the probe's answer stands")
        let passes = ending(.success("fine"), mode: .dryRun, skippedChange: "restart")
        #expect(passes == .unknown(message: "passes now (fine); step 'restart' would run first and may change it"))
        let fails = ending(failure(.exitStatus), mode: .dryRun, skippedChange: "restart")
        #expect(fails == .unknown(message: "fails now (it said no); step 'restart' would run first and may change it"))
        #expect(ending(failure(.interrupted), mode: .dryRun, skippedChange: "restart") == .interrupted)
        #expect(ending(failure(.assertionFailed), mode: .dryRun) == .refused)
        // The same outcome, live, with a skipped change named: the name means nothing outside a dry run.
        #expect(ending(.success("fine"), skippedChange: "restart") == .succeeded)
    }

    @Test func skipsAndGuards() {
        #expect(!StepRules.skips(readOnly: false, handlesDryRun: false, mode: .live))
        #expect(StepRules.skips(readOnly: false, handlesDryRun: false, mode: .dryRun))
        #expect(!StepRules.skips(readOnly: true, handlesDryRun: false, mode: .dryRun), "probes run in a dry run")
        #expect(StepRules.skips(readOnly: true, handlesDryRun: false, mode: .offlinePlan), "nothing runs offline")
        #expect(!StepRules.skips(readOnly: false, handlesDryRun: true, mode: .offlinePlan), "a composite plans itself")
        #expect(StepRules.guardFailed(mode: .live, changedSomething: false) == .refuse)
        #expect(StepRules.guardFailed(mode: .live, changedSomething: true) == .failAndRollBack)
        #expect(StepRules.guardFailed(mode: .dryRun, changedSomething: true) == .noteRefusal)
        #expect(StepRules.guardFailed(mode: .offlinePlan, changedSomething: false) == .noteRefusal)
    }

    @Test func statusesAndCausesKeepTheirWords() throws {
        var event = Event(type: .stepFinished, runID: "r", time: Date(timeIntervalSince1970: 0))
        event.status = StepEnding.refused.status
        event.cause = .guardFailed
        event.phase = .rollback
        #expect(event.jsonLine() == #"{"cause":"guard-failed","phase":"rollback","runID":"r","schema":1,"status":"refused","time":"1970-01-01T00:00:00.000Z","type":"step-finished"}"#)
        // A newer agent's status and cause still decode: the event is not lost.
        let newer = try JSONDecoder().decode(Event.self, from: Data(#"{"runID":"r","schema":1,"status":"paused","cause":"quota","time":"t","type":"step-finished"}"#.utf8))
        #expect(newer.status?.rawValue == "paused")
        #expect(newer.cause?.rawValue == "quota")
        #expect(RunStatus.rolledBack.eventStatus == .rolledBack)
        #expect(EventStatus.continued.isDone && !EventStatus.unknown.isDone)
    }
}

/// The registry composes each target's actions once and refuses two of one name.
struct RegistryTests {
    @Test func aDuplicateNameIsAFailureNotAnOverwrite() throws {
        #expect(throws: ActionRegistry.Duplicate.self) { try ActionRegistry(composing: ActionRegistry.engineActions, [ExecAction.kind]) }
        do {
            _ = try ActionRegistry(composing: ActionRegistry.engineActions, ActionRegistry.engineActions)
            Issue.record("composed twice without an error")
        } catch {
            #expect(error.description == "two actions are named 'exec'")
        }
        let engine = try ActionRegistry(composing: ActionRegistry.engineActions)
        #expect(engine.names.count == ActionRegistry.engineActions.count)
    }
}
