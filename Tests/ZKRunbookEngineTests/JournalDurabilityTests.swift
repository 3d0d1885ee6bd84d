import Foundation
import Testing

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
}
