import ZKRunbookProcess

/// How a step, a rollback or a whole run ended: an event's `status`.
///
/// Open for the same reason as `FailureCause`: a conductor decodes the events of an agent that may be a newer
/// version, and an unknown status must not make the whole event unreadable. Encodes as its bare string.
public struct EventStatus: OpenCode {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// How a step ended: its work done; failed; failed, but the step is marked `onFailure: continue`.
    public static let succeeded = Self(rawValue: "succeeded"), failed = Self(rawValue: "failed"), continued = Self(rawValue: "continued")
    /// Dry run: `skipped`, a step that changes things was not run; `unknown`, its result depends on such a step.
    public static let skipped = Self(rawValue: "skipped"), unknown = Self(rawValue: "unknown")
    /// Stopped before or during the work: refused by a guard before any change, locked by another run, a signal.
    public static let refused = Self(rawValue: "refused"), locked = Self(rawValue: "locked"), interrupted = Self(rawValue: "interrupted")
    /// How a rollback ended.
    public static let rolledBack = Self(rawValue: "rolled-back"), rollbackFailed = Self(rawValue: "rollback-failed")

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
    /// A guard of the step did not hold; an `assert` step did not hold; the work refused before it changed
    /// anything (exit 3 when nothing else changed either).
    public static let guardFailed = Self(rawValue: "guard-failed"), assertionFailed = Self(rawValue: "assertion-failed"), refused = Self(rawValue: "refused")
    /// Another run holds what this one needs (exit 4).
    public static let locked = Self(rawValue: "locked")
    /// A `${...}` reference has no value (the step it names did not run, or yielded no such fact); an argument,
    /// resolved at run time, is not what the action needs.
    public static let unresolvedReference = Self(rawValue: "unresolved-reference"), invalidArgument = Self(rawValue: "invalid-argument")
    /// Reading or writing a file failed; a file the step needs is not there.
    public static let ioError = Self(rawValue: "io-error"), fileMissing = Self(rawValue: "file-missing")
    /// The step never got to run (no attempt was made).
    public static let notRun = Self(rawValue: "not-run")
}
