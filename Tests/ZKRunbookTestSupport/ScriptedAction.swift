import Foundation
import ZKRunbookEngine
import ZKRunbookProcess

/// What scripted steps answer, attempt by attempt, and what ran: the engine's test double.
///
/// A step's outcomes are given in order; its last outcome repeats. A step with none succeeds. Calls are
/// recorded as `step` (forward) in the order the executor made them, so a test reads the whole run, rollback
/// included, without spawning a process.
public final class ActionScript: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [String: [ActionOutcome]] = [:]
    private var made: [String] = []
    /// Called on each attempt before it answers (to cancel a token mid-step, say).
    public var onAttempt: @Sendable (String) -> Void = { _ in }

    public init() {}

    /// Step `id` answers these, one per attempt; the last repeats.
    public func on(_ id: String, _ answers: ActionOutcome...) {
        lock.lock()
        outcomes[id] = answers
        lock.unlock()
    }

    /// Every attempt, in order, by step id.
    public var calls: [String] {
        lock.lock()
        defer { lock.unlock() }
        return made
    }

    func answer(_ id: String) -> ActionOutcome {
        lock.lock()
        made.append(id)
        var queue = outcomes[id] ?? []
        let next = queue.first ?? .success("scripted")
        if queue.count > 1 { queue.removeFirst() }
        outcomes[id] = queue
        lock.unlock()
        onAttempt(id)
        return next
    }

    /// A registry with the engine's actions plus `change` (changes things) and `check` (read-only), both
    /// answering from this script.
    public var registry: ActionRegistry {
        let scripted: [any ActionKind] = [ScriptedAction(name: "change", readOnly: false, script: self), ScriptedAction(name: "check", readOnly: true, script: self)]
        do { return try ActionRegistry(composing: ActionRegistry.engineActions, scripted) } catch { fatalError("\(error)") }
    }
}

/// An action that answers from an `ActionScript` instead of doing anything.
public struct ScriptedAction: ActionKind {
    public let name: String
    public let summary = "answers from the test's script"
    let readOnly: Bool
    let script: ActionScript

    public func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        Prepared(readOnly: readOnly, script: script, stepID: arguments.stepID)
    }

    struct Prepared: PreparedAction {
        var readOnly: Bool
        var script: ActionScript
        var stepID: String
        var isReadOnly: Bool { readOnly }
        func describe(_ resolver: TemplateResolver) -> [String] { ["scripted \(stepID)"] }
        func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome { script.answer(context.stepID) }
    }
}
