import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookRolling
import ZKRunbookZooKeeper

/// `zkrunbook diff`: configuration drift across an ensemble, read on every node by its agent.
enum DiffCommand {
    static let usage = "Usage: zkrunbook diff --ensemble FILE [--json] [--timeout DUR]"
    static let help = """
        \(usage)

        Reads zoo.cfg, the dynamic config file, myid and java.env on every node of the ensemble through the
        agent on that node (over ssh or kubectl as the ensemble file says; locally for local nodes), all at
        once, and shows each key whose value differs, node by node.

        Named as findings:
          server-lists-differ  nodes hold different server lists: a split-brain risk
          myid-mismatch        a node's myid is not the id the ensemble file gives it
          myid-missing         a node has no dataDir/myid
          not-in-own-list      a node's id has no server.N line in its own list (it cannot start)
          settings-differ      settings differ that should be the same everywhere
          unread               a node could not be read: the rest judges only the nodes read
          releases-differ      the servers run different ZooKeeper releases (srvr): a halted upgrade
        Keys each node sets for itself (clientPort, dataDir, admin.serverPort, myid…) are shown apart, not
        counted as drift.

        Options:
          --ensemble FILE  the ensemble file (nodes, how to reach them, agentPath, zooCfg)
          --json           the whole comparison as JSON
          --timeout DUR    per node (default 30s)
          -h, --help       show this help

        Exit codes: 0 no drift (every node read), 1 drift found or a node not read, 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: ["--ensemble", "--timeout"], flagOptions: ["--json"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return .success
        }
        guard parsed.positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(parsed.positionals[0])'", usage: usage) }
        guard let path = parsed.value("--ensemble") else { throw UsageError(message: "name the ensemble with --ensemble FILE", usage: usage) }
        var timeout = 30.0
        if let text = parsed.value("--timeout") {
            guard let duration = RunbookDuration.parse(text) else {
                throw UsageError(message: "--timeout: expected \(RunbookDuration.expectation), found '\(text)'", usage: usage)
            }
            timeout = duration.seconds
        }
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: path) } catch { throw CommandFailure(message: error.description, exitCode: .usage) }
        var drift = ConfigDrift.compare(NodeConfigReader.readAll(file, timeout: timeout))
        // The release each server runs (srvr), beside its files: a halted upgrade leaves a mixed ensemble.
        let probe = ServerProbe(
            limits: SocketLimits(connectTimeout: 2, readTimeout: min(timeout, 5)), wantMonitor: false, wantRuok: false,
            connector: try ServerTargets.connector(file.tls))
        let facts = probe.probeAll(file.members.map { ($0.endpoint, nil) })
        drift.addReleases(
            Dictionary(uniqueKeysWithValues: zip(file.members, facts).map { ($0.id, $1.version.flatMap(ZooKeeperVersion.init)?.description) }))
        if parsed.flags.contains("--json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(drift), as: UTF8.self))
        } else {
            print(render(drift, name: file.name, members: file.members.map(\.id).sorted()))
        }
        return drift.isClean ? .success : .stepFailed
    }

    /// The human table: one column per node read, drifting keys first, per-node keys after, then findings.
    static func render(_ drift: ConfigDrift, name: String, members: [Int]) -> String {
        let ids = drift.nodesRead.map(String.init)
        var lines = ["configuration of \(name): \(drift.nodesRead.count) of \(members.count) node(s) read"]
        let header = ["key"] + ids.map { "node \($0)" }
        func table(_ rows: [ConfigDrift.Row]) -> [String] {
            let cells = [header] + rows.map { row in [row.label] + ids.map { (row.values[$0] ?? nil) ?? "(unset)" } }
            let widths = (0..<header.count).map { column in min(48, cells.map { $0[column].count }.max() ?? 0) }
            return cells.map { row in
                zip(row, widths).map { cell, width in cell.count >= width ? cell : cell + String(repeating: " ", count: width - cell.count) }
                    .joined(separator: "  ").trimmingTrailingSpaces()
            }
        }
        let drifting = drift.rows.filter { !$0.perNode }
        let perNode = drift.rows.filter(\.perNode)
        if drifting.isEmpty {
            lines.append("no shared setting differs between the nodes read")
        } else {
            lines.append("differs:")
            lines += table(drifting).map { "  " + $0 }
        }
        if !perNode.isEmpty { lines.append("set per node, as expected: " + perNode.map(\.label).joined(separator: ", ")) }
        if drift.findings.isEmpty {
            lines.append("verdict: no drift")
        } else {
            lines.append("findings:")
            lines += drift.findings.map { "  \($0.kind.rawValue): \($0.message)" }
            lines.append("verdict: drift (\(drift.findings.count) finding(s))")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
