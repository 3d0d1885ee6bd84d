import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper

/// Reads every member's configuration files through the agent on that node (`zkrunbook node-config`), over
/// the node's own transport, all nodes at once.
public enum NodeConfigReader {
    /// Debian's zoo.cfg, for a member whose entry names none.
    public static let defaultZooCfg = "/etc/zookeeper/conf/zoo.cfg"

    /// The zoo.cfg the server behind `member`'s client port was started with, as its agent finds it; nil
    /// when the agent cannot say (not installed, no server running there, not ZooKeeper's).
    public static func runningZooCfg(
        of member: EnsembleNode, connector: any NodeConnector = TransportNodeConnector(), cancellation: CancellationToken?
    ) -> String? {
        guard case .success(let snapshot) = member.nodeAgent(connector: connector).nodeConfig(clientPort: member.clientPort, cancellation: cancellation)
        else { return nil }
        return snapshot.running?.configPath
    }

    public static func readAll(
        _ file: EnsembleFile, timeout: Double, checkDirectories: [String] = []
    ) -> [(member: EnsembleMember, snapshot: Result<NodeConfigSnapshot, ConfigReadFailure>)] {
        let results = Parallel.map(file.nodes) { member in
            member.nodeAgent().nodeConfig(clientPort: member.clientPort, zooCfg: member.zooCfg, checkDirectories: checkDirectories, timeout: timeout)
                .mapError { ConfigReadFailure($0.message) }
        }
        return Array(zip(file.members, results))
    }
}
