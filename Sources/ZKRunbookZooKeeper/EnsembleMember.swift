import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookTransport

/// One server of an ensemble as zkrunbook addresses it.
public struct EnsembleMember: Sendable, Codable, Hashable {
    public var id: Int
    public var host: String
    public var clientPort: Int
    public var adminPort: Int?
    public var role: ServerEntry.Role
    /// Reached over ssh with these settings (nil and no `kubectl`: the node is this machine).
    public var ssh: SSHSettings?
    /// Reached by `kubectl exec` into its pod.
    public var kubectl: KubectlSettings?
    /// The node's ZooKeeper log, for evidence when it does not come back.
    public var logFile: String?
    /// `--state-dir` for the agent on the node (default: the agent's own default).
    public var stateDir: String?
    /// The zkrunbook binary on the node (default: the ensemble's agentPath, filled in when the file is
    /// loaded, else "zkrunbook": `agent`).
    public var agentPath: String?
    /// The agent to run on this node: the one place the default is written.
    public var agent: String { agentPath ?? "zkrunbook" }
    /// The node's zoo.cfg, for runbooks that edit it (default: Debian's /etc/zookeeper/conf/zoo.cfg).
    public var zooCfg: String?
    /// The data centre (or zone) the node is in: only with it does doctor ever advise a data-centre failover.
    public var dataCentre: String?
    /// The ports the servers talk on (ZooKeeper's defaults 2888 and 3888): what its `server.N` line says.
    public var quorumPort: Int?
    public var electionPort: Int?

    /// Its line in a dynamic config: `server.N=host:quorumPort:electionPort:role;host:clientPort`.
    public var serverLine: String {
        let address = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return "server.\(id)=\(address):\(quorumPort ?? 2888):\(electionPort ?? 3888):\(role.rawValue);\(address):\(clientPort)"
    }

    public var endpoint: Endpoint { Endpoint(host: host, port: clientPort) }

    /// How the conductor reaches this node.
    public var access: NodeAccess { kubectl.map(NodeAccess.kubectl) ?? ssh.map(NodeAccess.ssh) ?? .local }

    public init(
        id: Int, host: String, clientPort: Int, adminPort: Int? = nil, role: ServerEntry.Role = .participant, ssh: SSHSettings? = nil,
        kubectl: KubectlSettings? = nil, logFile: String? = nil, stateDir: String? = nil, agentPath: String? = nil, zooCfg: String? = nil,
        dataCentre: String? = nil,
        quorumPort: Int? = nil, electionPort: Int? = nil
    ) {
        (self.quorumPort, self.electionPort) = (quorumPort, electionPort)
        (self.id, self.host, self.clientPort, self.adminPort) = (id, host, clientPort, adminPort)
        (self.role, self.ssh, self.kubectl, self.logFile) = (role, ssh, kubectl, logFile)
        (self.stateDir, self.agentPath, self.zooCfg, self.dataCentre) = (stateDir, agentPath, zooCfg, dataCentre)
    }
}
