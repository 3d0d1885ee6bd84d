import ZKRunbookTransport
import ZKRunbookZooKeeper

/// One node of the inventory: its server (`member`, what the ZooKeeper room knows) and how zkrunbook
/// reaches it — the transport, the agent binary there and the agent's state folder.
///
/// The server's own fields read through it (`node.id`, `node.clientPort`), so code that runs things on a
/// node and asks about its server holds one value.
@dynamicMemberLookup
public struct EnsembleNode: Sendable, Codable, Hashable {
    public var member: EnsembleMember
    /// Reached over ssh with these settings (nil and no `kubectl`: the node is this machine).
    public var ssh: SSHSettings?
    /// Reached by `kubectl exec` into its pod.
    public var kubectl: KubectlSettings?
    /// `--state-dir` for the agent on the node (default: the agent's own default).
    public var stateDir: String?
    /// The secure client port the file gives the node: where it is reached (with a `tls` block), or, before
    /// TLS is turned on, the port enable-client-tls opens (`${node.secureClientPort}`).
    public var secureClientPort: Int?
    /// The zkrunbook binary on the node (default: the ensemble's agentPath, filled in when the file is
    /// loaded, else "zkrunbook": `agent`).
    public var agentPath: String?
    /// How this node's ZooKeeper version is changed (its own `install`, else the file's).
    public var install: InstallMethod?

    public init(_ member: EnsembleMember, ssh: SSHSettings? = nil, kubectl: KubectlSettings? = nil, stateDir: String? = nil, agentPath: String? = nil) {
        (self.member, self.ssh, self.kubectl, self.stateDir, self.agentPath) = (member, ssh, kubectl, stateDir, agentPath)
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<EnsembleMember, Value>) -> Value {
        get { member[keyPath: keyPath] }
        set { member[keyPath: keyPath] = newValue }
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<EnsembleMember, Value>) -> Value { member[keyPath: keyPath] }

    /// The agent found on a node's PATH when neither the node nor the ensemble names one.
    public static let defaultAgent = "zkrunbook"

    /// The agent to run on this node.
    public var agent: String { agentPath ?? Self.defaultAgent }

    /// How the conductor reaches this node.
    public var access: NodeAccess { kubectl.map(NodeAccess.kubectl) ?? ssh.map(NodeAccess.ssh) ?? .local }
}
