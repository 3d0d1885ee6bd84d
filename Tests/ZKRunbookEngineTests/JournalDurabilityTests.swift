import Foundation
import Testing
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

/// Which journal records are fsynced before the engine moves on: those `resume` reads, and no others.
struct JournalDurabilityTests {
    static func event(_ type: Event.Kind, parentStep: String? = nil) -> Event {
        var event = Event(type: type, runID: "r")
        event.parentStep = parentStep
        return event
    }

    @Test func onlyWhatResumeReadsWaitsForTheDisk() {
        for type in [Event.Kind.runStarted, .runResumed, .runFinished, .stepStarted, .stepFinished] {
            #expect(JournalWriter.mustReachDisk(Self.event(type)), "this run's own \(type)")
            #expect(!JournalWriter.mustReachDisk(Self.event(type, parentStep: "restart")), "a node agent's \(type), relayed under its step")
        }
        for type in [Event.Kind.nodeFinished, .rollbackStarted, .rollbackFinished] {
            #expect(JournalWriter.mustReachDisk(Self.event(type, parentStep: "restart-each-node")), "\(type) wherever it comes from")
        }
        for type in [Event.Kind.guardEvaluated, .attemptStarted, .attemptFailed, .nodeStarted] {
            #expect(!JournalWriter.mustReachDisk(Self.event(type)), "detail: \(type)")
        }
    }

    /// A record cut short (a crash, a full disk) is left out by `resume` and `show`, said, and cut off when the
    /// journal is opened again, so the next record never lands glued to it in the middle of the file.
    @Test func aTornLastRecordIsToleratedReportedAndCutOffBeforeTheNextWrite() throws {
        let layout = StateLayout(root: Scratch("torn").path)
        try FileManager.default.createDirectory(atPath: layout.runDirectory("r1"), withIntermediateDirectories: true)
        let path = layout.journalPath("r1")
        var start = Self.event(.runStarted)
        start.runbook = "x"
        let torn = start.jsonLine() + "\n" + String(Self.event(.stepStarted).jsonLine().prefix(25))
        try torn.write(toFile: path, atomically: false, encoding: .utf8)
        let read = try JournalState.read(path: path)
        #expect(read.tornLine == 2 && read.events.count == 1)
        #expect(try RunHistory(layout: layout).events("r1").count == 1, "show reads it too")

        let writer = try JournalWriter(path: path)
        #expect(writer.repairedTail == 25)
        writer.emit(Self.event(.runFinished))
        let again = try JournalState.read(path: path)
        #expect(again.tornLine == nil)
        #expect(again.events.map(\.type) == [.runStarted, .runFinished])
    }

    /// A journal that can no longer be written stops the run before its next change, without rolling back.
    @Test func aRunWhoseJournalFailsStopsBeforeItsNextChange() throws {
        let script = ActionScript()
        let broken = Flag()
        script.onAttempt = { id in if id == "a" { broken.set() } }
        let runbook = try RunbookLoader(registry: script.registry).load(
            text: "{ name: \"j\", steps: [\(ScriptedRunTests.step("a") + ScriptedRunTests.step("look", "check", undo: false) + ScriptedRunTests.step("b"))] }", path: "j.json5")
        var options = RunOptions(layout: StateLayout(root: Scratch("journal-fails").path))
        options.recordFailure = { broken.isSet ? "No space left on device" : nil }
        let recorder = EventRecorder()
        let outcome = Executor(runbook: runbook, parameters: [:], options: options, sink: recorder, registry: script.registry).run(runID: "r")
        #expect(outcome.status == .failed)
        #expect(outcome.message.contains("journal cannot be written (No space left on device)") && outcome.message.contains("resume r"), "\(outcome.message)")
        #expect(script.calls == ["a", "look"], "a read-only step may run, the next change may not, nothing undone: \(script.calls)")
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
