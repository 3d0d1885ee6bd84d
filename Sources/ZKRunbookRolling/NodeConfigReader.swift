import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper

/// Reads every member's configuration files through the agent on that node (`zkrunbook node-config`), over
/// the node's own transport, all nodes at once.
public enum NodeConfigReader {
    /// Debian's zoo.cfg, for a member whose entry names none.
    public static let defaultZooCfg = "/etc/zookeeper/conf/zoo.cfg"

    /// The agent command that prints one node's `NodeConfigSnapshot`: the zoo.cfg the member names, else the
    /// one its running server was started with (found by the agent from the client port), else Debian's.
    public static func argv(for member: EnsembleMember, in file: EnsembleFile, checkDirectories: [String] = []) -> [String] {
        [member.agent, "node-config", "--client-port", String(member.clientPort)]
            + (member.zooCfg.map { ["--zoo-cfg", $0] } ?? []) + checkDirectories.flatMap { ["--check-dir", $0] }
    }

    /// The zoo.cfg the server behind `member`'s client port was started with, as its agent finds it; nil
    /// when the agent cannot say (not installed, no server running there, not ZooKeeper's).
    public static func runningZooCfg(of member: EnsembleMember, cancellation: CancellationToken?) -> String? {
        let argv = [member.agent, "node-config", "--client-port", String(member.clientPort)]
        let result = member.access.runner(host: member.host).run(CommandSpec(argv: argv, timeout: 20, outputCap: 4 << 20), cancellation: cancellation)
        guard result.termination == .exited(0), let snapshot = try? JSONDecoder().decode(NodeConfigSnapshot.self, from: Data(result.stdout.text.utf8)) else {
            return nil
        }
        return snapshot.running?.configPath
    }

    public static func readAll(
        _ file: EnsembleFile, timeout: Double, checkDirectories: [String] = []
    ) -> [(member: EnsembleMember, snapshot: Result<NodeConfigSnapshot, ConfigReadFailure>)] {
        let results = Parallel.map(file.members) { member in
            read(member, argv: argv(for: member, in: file, checkDirectories: checkDirectories), timeout: timeout)
        }
        return Array(zip(file.members, results))
    }

    static func read(_ member: EnsembleMember, argv: [String], timeout: Double) -> Result<NodeConfigSnapshot, ConfigReadFailure> {
        let runner = member.access.runner(host: member.host)
        let result = runner.run(CommandSpec(argv: argv, timeout: timeout, outputCap: 4 << 20), cancellation: nil)
        guard result.termination == .exited(0) else {
            if result.termination == .commandNotFound {
                return .failure(ConfigReadFailure("the agent \(argv[0]) is not installed on the node (zkrunbook install)"))
            }
            if result.stderr.text.contains("unknown command 'node-config'") || result.stderr.text.contains("unknown option --client-port") {
                return .failure(ConfigReadFailure("the agent \(argv[0]) on the node is older than this conductor (no node-config): zkrunbook install"))
            }
            let said = result.stderr.lastLines(3).joined(separator: " ")
            return .failure(
                ConfigReadFailure(
                    "\(ShellQuoting.join(argv)) \(member.access.describe(host: member.host)): \(result.termination.summary)" + (said.isEmpty ? "" : ": " + said)
                ))
        }
        do {
            return .success(try JSONDecoder().decode(NodeConfigSnapshot.self, from: Data(result.stdout.text.utf8)))
        } catch {
            return .failure(ConfigReadFailure("the agent's reply is not a node-config snapshot (an older agent? zkrunbook install): \(error)"))
        }
    }
}
