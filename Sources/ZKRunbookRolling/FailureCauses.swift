import ZKRunbookProcess

/// The failure causes of driving nodes, beside the engine's and ZooKeeper's.
extension FailureCause {
    /// A node's procedure failed; the loop over nodes halted there.
    public static let nodeFailed = FailureCause(rawValue: "node-failed")
    /// The agent on a node ran and its run failed.
    public static let remoteFailed = FailureCause(rawValue: "remote-failed")
    /// The agent on a node gave no result at all.
    public static let agentFailed = FailureCause(rawValue: "agent-failed")
}
