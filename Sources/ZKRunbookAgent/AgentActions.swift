import ZKRunbookEngine

/// The actions of the agent room, for the CLI's registry: `lease-check` (the node's lease, on the node).
public enum AgentActions {
    public static let all: [any ActionKind] = [LeaseCheckAction.kind]
}
