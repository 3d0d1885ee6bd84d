/// Why something failed, as a machine reads it: the `cause` of an event, an action's outcome, a command's
/// termination.
///
/// Open, like swift-subprocess's `SubprocessError.Code`: each target adds the causes it produces as static
/// members in an extension (`FailureCause.noLeader` lives with the ZooKeeper code), while a misspelt cause no
/// longer compiles. There is deliberately no string-literal conformance. Encodes as its bare string, so
/// event schema 1 stays byte-identical, and decodes any string, so the events of a newer agent still parse.
public struct FailureCause: OpenCode {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A command exited with a non-zero status.
    public static let exitStatus = FailureCause(rawValue: "exit-status")
    /// A command was killed by a signal it did not get from us.
    public static let signaled = FailureCause(rawValue: "signaled")
    /// A limit passed: a command's, a step's, a gate's.
    public static let timeout = FailureCause(rawValue: "timeout")
    /// SIGINT/SIGTERM (or a conductor that went away) stopped the work.
    public static let interrupted = FailureCause(rawValue: "interrupted")
    /// The executable could not be started.
    public static let spawnFailed = FailureCause(rawValue: "spawn-failed")
}

/// A typed string code that stays open: each target may add values as static members, a misspelt one does not
/// compile, and an unknown one still decodes (the events of a newer agent). Codable as its bare string.
public protocol OpenCode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible where RawValue == String {
    init(rawValue: String)
}

extension OpenCode {
    public var description: String { rawValue }
}
