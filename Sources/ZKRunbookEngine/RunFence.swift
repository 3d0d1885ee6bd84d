import Foundation
import ZKRunbookProcess

/// What a runbook says it changes, so that one run at a time changes it: `lease: { ensemble: "${ensemble}",
/// ttl: "${leaseTTL}" }`. The engine knows nothing of ensembles; the host program's `RunFenceProvider`
/// turns the resolved target into a hold on it (for zkrunbook, every member's lease through its agent).
public struct LeaseDeclaration: Sendable {
    /// The target, resolved from parameters only (like `lock`).
    public var target: Template
    /// How long the hold outlives a conductor that stopped renewing it (default 60 s).
    public var ttl: DurationSpec?
    /// Only these members (comma-separated ids), for a run that changes no other: dc-failover changes the
    /// survivors, and the lost data centre's nodes cannot be asked. nil: every member.
    public var nodes: Template?

    public init(target: Template, ttl: DurationSpec? = nil, nodes: Template? = nil) { (self.target, self.ttl, self.nodes) = (target, ttl, nodes) }
}

/// A run's hold on its target, from before its first change to its end.
///
/// Why the engine asks before every changing step, not only once: a hold is a lease with an expiry, and a
/// conductor that stalled past it may find another run now holds the target; it must stop there.
public protocol RunFence: AnyObject, Sendable {
    /// nil while this run may still change its target; otherwise why not (said as the step's failure).
    func check() -> String?
    /// The hold as a node's agent checks it before each change there (`zkrunbook run … --lease RUN
    /// --lease-key KEY`); nil where the node has nothing to check.
    func hold(on node: NodeFields) -> NodeHold?
    /// Gives the hold back (best effort: a node that cannot be reached keeps it until it expires).
    func release()
}

/// Why a run could not take its hold: `.locked` (another run holds it, exit 4) or `.refused` (a node that
/// cannot be asked, an agent missing: exit 3).
public struct FenceRefusal: Error, Sendable {
    public var cause: FailureCause
    public var message: String
    public var evidence: [String]

    public init(cause: FailureCause, message: String, evidence: [String] = []) { (self.cause, self.message, self.evidence) = (cause, message, evidence) }
}

/// Takes holds for runbooks that declare `lease`.
public protocol RunFenceProvider: Sendable {
    /// Takes the hold on `target` for run `runID`, all or nothing; `note` says what was taken (and any
    /// expired hold of a dead run that was taken over).
    /// `runbook` and `parameters` say what the run will ask of the nodes (runbooks their agents must have);
    /// `nodes`, when the runbook names them, the only members it changes.
    func acquire(
        target: String, nodes: String?, ttl: Double, runID: String, runbook: Runbook, parameters: [String: ParameterValue], cancellation: CancellationToken
    ) -> Result<(fence: any RunFence, note: String), FenceRefusal>
}

/// A conductor's run and the lease key it holds on one node.
public struct NodeHold: Sendable, Equatable {
    public var runID: String
    public var key: String
    public init(runID: String, key: String) { (self.runID, self.key) = (runID, key) }
}
