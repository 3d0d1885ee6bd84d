import ZKRunbookProcess

/// How the process ends, the same for every subcommand: the one place an exit code and its meaning are
/// written (`--help` and the README's table are generated from `all`).
///
/// A value with a fixed set of static members, as argument-parser's `ExitCode`: a run's status maps to one
/// (`RunStatus.exitCode`), a subcommand returns one, and `main` hands its `rawValue` to the OS.
public struct ExitCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    /// What it means, in the words of `--help`.
    public let meaning: String

    private init(_ rawValue: Int32, _ meaning: String) {
        self.rawValue = rawValue
        self.meaning = meaning
    }

    public var description: String { String(rawValue) }

    public static func == (left: ExitCode, right: ExitCode) -> Bool { left.rawValue == right.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public static let success = ExitCode(0, "done (for validate: every file valid; for plan: nothing would be refused)")
    public static let stepFailed = ExitCode(1, "a step failed (completed steps were rolled back)")
    public static let usage = ExitCode(2, "usage error or invalid runbook: nothing was run")
    public static let refused = ExitCode(3, "a guard refused before anything changed")
    public static let locked = ExitCode(4, "another run holds the lock, or a node's lease (the holder is named)")
    /// Distinct from 1 and 3, which a health timer counts as success (the verdict is in the metrics): a file
    /// nobody could write must fail the unit.
    public static let outputFailed = ExitCode(5, "an output file could not be written (status --prometheus)")
    /// Distinct from 1: a rollback that failed leaves the target half-changed, and a caller (a timer, an
    /// Ansible play, a pager rule) must tell "undone" from "a person must look now".
    public static let rollbackFailed = ExitCode(
        6, "a step failed and undoing it failed too: the target is half-changed and needs a person (the journal says what was left)")
    /// status: a majority of the voters is up and none leads yet; seconds later it is healthy or it is not.
    public static let electing = ExitCode(7, "status: an election is under way (a majority of the voters is up, none leads yet): look again in a few seconds")
    /// status: too little was seen to judge (a partial view in which nothing serves): neither good nor bad.
    public static let partialView = ExitCode(8, "status: a partial view that cannot tell whether the ensemble has a quorum (unknown)")
    public static let interrupted = ExitCode(130, "interrupted (SIGINT/SIGTERM); completed steps rolled back unless --no-rollback")

    public static let all: [ExitCode] = [
        .success, .stepFailed, .usage, .refused, .locked, .outputFailed, .rollbackFailed, .electing, .partialView, .interrupted,
    ]

    /// The code a zkrunbook process (an agent on a node) ended with, when it is one of ours.
    public static func known(_ rawValue: Int32) -> ExitCode? { all.first { $0.rawValue == rawValue } }

    /// The code of a zkrunbook that ran to its end; nil for one that was killed, not found or not reached.
    public static func of(_ termination: Termination) -> ExitCode? {
        if case .exited(let status) = termination { return known(status) }
        return nil
    }

    /// The "Exit codes:" block of `--help`.
    public static var help: String {
        "Exit codes:\n" + all.map { "  " + String($0.rawValue).padding(toLength: 5, withPad: " ", startingAt: 0) + $0.meaning }.joined(separator: "\n")
    }
}
