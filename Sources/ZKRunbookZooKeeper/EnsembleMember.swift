import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// One server of an ensemble: who it is and where it listens, as ZooKeeper knows it. How zkrunbook reaches
/// its node (ssh, kubectl, the agent there) is the inventory's (`EnsembleNode`), not this room's.
public struct EnsembleMember: Sendable, Codable, Hashable {
    public var id: Int
    public var host: String
    /// The port zkrunbook speaks to: the plaintext client port, or on a secured ensemble its secure one.
    public var clientPort: Int
    /// `clientPort` speaks TLS (the ensemble file's `tls` block): a `secureClientPort`, or a port-unified one.
    public var secure = false
    /// Beside a secure `clientPort`, the server's plaintext client port, if it keeps one.
    public var plaintextClientPort: Int?
    public var adminPort: Int?
    public var role: ServerEntry.Role
    /// The node's ZooKeeper log, for evidence when it does not come back.
    public var logFile: String?
    /// The node's zoo.cfg, for runbooks that edit it (default: Debian's /etc/zookeeper/conf/zoo.cfg).
    public var zooCfg: String?
    /// The data centre (or zone) the node is in: only with it does doctor ever advise a data-centre failover.
    public var dataCentre: String?
    /// The ports the servers talk on (ZooKeeper's defaults 2888 and 3888): what its `server.N` line says.
    public var quorumPort: Int?
    public var electionPort: Int?

    /// Its line in a dynamic config: `server.N=host:quorumPort:electionPort:role;host:clientPort`.
    /// A secure-only server's line has no client address: ZooKeeper takes a secure port from `secureClientPort`.
    public var serverLine: String {
        let address = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        let client = secure ? plaintextClientPort : clientPort
        return "server.\(id)=\(address):\(quorumPort ?? 2888):\(electionPort ?? 3888):\(role.rawValue)" + (client.map { ";\(address):\($0)" } ?? "")
    }

    public var endpoint: Endpoint { Endpoint(host: host, port: clientPort) }

    public init(
        id: Int, host: String, clientPort: Int, adminPort: Int? = nil, role: ServerEntry.Role = .participant, logFile: String? = nil,
        zooCfg: String? = nil, dataCentre: String? = nil, quorumPort: Int? = nil, electionPort: Int? = nil
    ) {
        (self.quorumPort, self.electionPort) = (quorumPort, electionPort)
        (self.id, self.host, self.clientPort, self.adminPort) = (id, host, clientPort, adminPort)
        (self.role, self.logFile, self.zooCfg, self.dataCentre) = (role, logFile, zooCfg, dataCentre)
    }

    /// Members from a zoo.cfg's server lines (client port from the line, or the file's clientPort). With
    /// `secure`, each is reached on the file's secureClientPort (where it has one), over TLS.
    public static func members(from config: ZooConfig, secure: Bool = false) -> [EnsembleMember] {
        config.servers.map { entry in
            let plaintext = entry.clientPort ?? config.clientPort
            var member = EnsembleMember(
                id: entry.id, host: entry.host, clientPort: plaintext ?? 2181, adminPort: config.adminPort, role: entry.role)
            if secure, let port = config.secureClientPort {
                (member.clientPort, member.secure, member.plaintextClientPort) = (port, true, plaintext)
            }
            return member
        }
    }
}
