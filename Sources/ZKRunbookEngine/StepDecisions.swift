import ZKRunbookProcess

/// What a forward step comes to, decided from values alone; the executor only applies it.
///
/// As swift-nio's state machines return an action for their caller to perform, these rules return an ending
/// and never touch a process, a file or an event sink, so every way a step can end is testable in memory.
public enum StepEnding: Equatable, Sendable {
    /// Its work stands: facts are recorded and a later failure undoes it.
    case succeeded
    /// Dry run: its result cannot be known yet; the message says why (nil: the action's own message).
    case unknown(message: String?)
    /// Failed, but the step is non-critical: facts are recorded and the run goes on.
    case continued
    /// Stopped by a signal: the run ends as interrupted.
    case interrupted
    /// Failed before anything changed: the run ends as refused (exit 3).
    case refused
    /// Another run holds what this one needs, found before anything changed (exit 4).
    case locked
    /// Failed after something changed: completed steps are rolled back.
    case failed

    /// The `status` of the step-finished event.
    public var status: EventStatus {
        switch self {
        case .succeeded: return .succeeded
        case .unknown: return .unknown
        case .continued: return .continued
        case .interrupted: return .interrupted
        case .refused: return .refused
        case .locked: return .locked
        case .failed: return .failed
        }
    }
}

/// What a step's guards come to when one fails.
public enum GuardEnding: Equatable, Sendable {
    /// Dry run: remembered, and the plan goes on to show the rest.
    case noteRefusal
    /// Nothing has changed yet: the run ends as refused.
    case refuse
    /// Something changed before: the step fails and completed steps are rolled back.
    case failAndRollBack
}

/// The executor's rules, as pure functions of what it knows at each point.
public enum StepRules {
    /// Whether a step is skipped instead of run: a dry run never runs a change (unless the action dry-runs
    /// itself), and an offline plan runs nothing at all.
    public static func skips(readOnly: Bool, handlesDryRun: Bool, mode: RunMode) -> Bool {
        mode.isDryRun && !handlesDryRun && (!readOnly || mode.isOffline)
    }

    /// A failed guard, by whether anything has changed so far.
    public static func guardFailed(mode: RunMode, changedSomething: Bool) -> GuardEnding {
        if mode.isDryRun { return .noteRefusal }
        return changedSomething ? .failAndRollBack : .refuse
    }

    /// How a step that ran ends.
    /// - Parameters:
    ///   - changedBefore: a step that changes things had started before this one (in this run or before a resume).
    ///   - skippedChange: dry run: the last step that changes things and was not run, if any.
    ///   - cancelled: a signal arrived while the step ran.
    public static func ending(
        of outcome: ActionOutcome, mode: RunMode, continueOnFailure: Bool, changedBefore: Bool, skippedChange: String?, cancelled: Bool
    ) -> StepEnding {
        if outcome.isUnknown { return .unknown(message: nil) }
        if mode.isDryRun, let skipped = skippedChange, outcome.succeeded {
            return .unknown(message: "passes now (\(outcome.message)); step '\(skipped)' would run first and may change it")
        }
        if outcome.succeeded { return .succeeded }
        if mode.isDryRun, let skipped = skippedChange, outcome.cause != .interrupted {
            return .unknown(message: "fails now (\(outcome.message)); step '\(skipped)' would run first and may change it")
        }
        if outcome.cause == .interrupted || cancelled { return .interrupted }
        if continueOnFailure { return .continued }
        // An assert is a guard written as a step: failing before any change, it refuses.
        if outcome.cause == .assertionFailed && !changedBefore { return .refused }
        if outcome.cause == .locked && !changedBefore && !outcome.changedSomething { return .locked }
        // A nested procedure refused before it changed anything: the run as a whole changed nothing.
        if outcome.cause == .refused && !changedBefore && !outcome.changedSomething { return .refused }
        return .failed
    }
}
