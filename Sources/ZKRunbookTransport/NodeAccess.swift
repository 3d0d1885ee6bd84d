import ZKRunbookProcess

/// How the conductor reaches a node: the one place a transport is chosen and described.
///
/// A new transport is a runner file beside `SSHCommandRunner` plus a case here; every caller asks a node's
/// access for its runner and for the words a plan prints.
public enum NodeAccess: Sendable, Hashable {
    /// The node is this machine.
    case local
    case ssh(SSHSettings)
    case kubectl(KubectlSettings)

    /// The runner that executes commands on the node whose address is `host`; over ssh with `agent` (its
    /// path on the node), through one relay session per node for the whole run (`SSHRelayRunner`).
    public func runner(host: String, agent: String? = nil) -> any CommandRunner {
        switch self {
        case .local: return LocalCommandRunner()
        case .ssh(let settings):
            let direct = SSHCommandRunner(host: host, settings: settings)
            return agent.map { SSHRelayRunner(direct: direct, agent: $0) } ?? direct
        case .kubectl(let settings): return KubectlCommandRunner(host: host, settings: settings)
        }
    }

    /// How a plan says the node is reached: "locally", "over ssh to root@zk1:22", "over kubectl exec …".
    public func describe(host: String) -> String {
        switch self {
        case .local:
            return "locally"
        case .ssh(let ssh):
            return "over ssh to " + (ssh.user.map { "\($0)@" } ?? "") + host + (ssh.port.map { ":\($0)" } ?? "")
        case .kubectl(let kube):
            return "over kubectl exec to pod \(kube.pod ?? host)" + (kube.container.map { " (container \($0))" } ?? "")
                + (kube.namespace.map { " in namespace \($0)" } ?? "") + (kube.context.map { ", context \($0)" } ?? "")
        }
    }

    public var isLocal: Bool { self == .local }
}
