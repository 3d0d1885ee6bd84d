import ZKRunbookProcess

/// How a step, a rollback or a whole run ended: an event's `status`.
///
/// Open for the same reason as `FailureCause`: a conductor decodes the events of an agent that may be a newer
/// version, and an unknown status must not make the whole event unreadable. Encodes as its bare string.
public struct EventStatus: OpenCode {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let succeeded = EventStatus(rawValue: "succeeded")
    public static let failed = EventStatus(rawValue: "failed")
    /// Failed, but the step is marked `onFailure: continue`.
    public static let continued = EventStatus(rawValue: "continued")
    /// Dry run: a step that changes things was not run.
    public static let skipped = EventStatus(rawValue: "skipped")
    /// Dry run: the result depends on a change the dry run skipped.
    public static let unknown = EventStatus(rawValue: "unknown")
    public static let refused = EventStatus(rawValue: "refused")
    public static let locked = EventStatus(rawValue: "locked")
    public static let interrupted = EventStatus(rawValue: "interrupted")
    public static let rolledBack = EventStatus(rawValue: "rolled-back")
    public static let rollbackFailed = EventStatus(rawValue: "rollback-failed")

    /// A step whose work stands: what `resume` skips.
    public var isDone: Bool { self == .succeeded || self == .continued }
}

/// Which way a run is going: doing the runbook's steps, or undoing them.
public enum Phase: String, Codable, Sendable {
    case forward
    case rollback
}

/// How much of a runbook actually runs.
public enum RunMode: String, Sendable {
    /// Every step runs.
    case live
    /// Read-only steps and probes run and show real facts; steps that change things are skipped.
    case dryRun = "dry-run"
    /// Nothing runs, not even a probe: guards are unknown. For plan snapshots reviewed in CI.
    case offlinePlan = "offline-plan"

    /// True for both kinds of plan: nothing is changed.
    public var isDryRun: Bool { self != .live }
    public var isOffline: Bool { self == .offlinePlan }
}

extension FailureCause {
    /// A guard of the step did not hold.
    public static let guardFailed = FailureCause(rawValue: "guard-failed")
    /// An `assert` step did not hold (before any change this is a refusal).
    public static let assertionFailed = FailureCause(rawValue: "assertion-failed")
    /// Another run holds what this one needs (exit 4).
    public static let locked = FailureCause(rawValue: "locked")
    /// The work refused before it changed anything (exit 3 when nothing else changed either).
    public static let refused = FailureCause(rawValue: "refused")
    /// A `${...}` reference has no value: the step it names did not run, or yielded no such fact.
    public static let unresolvedReference = FailureCause(rawValue: "unresolved-reference")
    /// An argument, resolved at run time, is not what the action needs.
    public static let invalidArgument = FailureCause(rawValue: "invalid-argument")
    /// Reading or writing a file failed.
    public static let ioError = FailureCause(rawValue: "io-error")
    /// A file the step needs is not there.
    public static let fileMissing = FailureCause(rawValue: "file-missing")
    /// The step never got to run (no attempt was made).
    public static let notRun = FailureCause(rawValue: "not-run")
}
