import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookRolling
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// `zkrunbook install`: the agent and the runbooks onto every node of an ensemble file.
enum InstallCommand {
    static let usage = "Usage: zkrunbook install --ensemble FILE [--binary PATH] [--runbooks DIR | --no-runbooks] [--node ID]... [--dry-run]"
    static let help = """
        \(usage)

        Puts this zkrunbook binary (or --binary) on each node at its agentPath, over the node's ssh
        settings from the ensemble file (or locally for a node without them), and the runbooks into the
        ensemble's runbookPath.

        First every node is checked: reachable, sha256sum present, and no journaled run (a `run` or
        `resume` of the agent, or a held run lock in the node's stateDir) using the agent. If any node
        fails the check, nothing is copied anywhere. Then, node by node, each file that differs goes over
        ssh into a temporary file beside its target, its sha256 is checked on the node, and only then is
        it renamed into place (the running-run check is repeated just before): a node has the old binary
        or the new one, never part of one. Files already identical are left alone, so a second install
        copies nothing.

        Options:
          --ensemble FILE   the ensemble file (nodes, ssh, agentPath, runbookPath, stateDir)
          --binary PATH     the binary to install (default: this zkrunbook)
          --runbooks DIR    the runbooks to copy (default: the first runbook search folder that exists,
                            when the ensemble file has a runbookPath)
          --no-runbooks     copy the binary only
          --node ID         only this node (repeatable)
          --dry-run         check the nodes and say what would be copied; copy nothing
          -h, --help        show this help

        Exit codes: 0 every node installed or already current (or, with --dry-run, ready); 1 a node could
        not be reached or checked, or a copy failed (the report says which nodes have the new binary);
        2 usage error; 3 refused: a journaled run is using the agent on a node.
        """

    /// Progress goes out a line at a time, unbuffered: a CI log or `| tee` sees each node as it finishes.
    static func say(_ line: String) { StandardStream.output(line + "\n") }

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments, valueOptions: ["--ensemble", "--binary", "--runbooks", "--node"], flagOptions: ["--no-runbooks", "--dry-run"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        if !parsed.positionals.isEmpty { throw UsageError(message: "unexpected argument '\(parsed.positionals[0])'", usage: usage) }
        guard let ensemblePath = parsed.value("--ensemble") else { throw UsageError(message: "--ensemble FILE is required", usage: usage) }
        if parsed.flags.contains("--no-runbooks") && parsed.value("--runbooks") != nil {
            throw UsageError(message: "--runbooks and --no-runbooks contradict each other", usage: usage)
        }
        var nodeIDs = Set<Int>()
        for value in parsed.values["--node"] ?? [] {
            guard let id = Int(value) else { throw UsageError(message: "--node takes a server id, found '\(value)'", usage: usage) }
            nodeIDs.insert(id)
        }
        let ensemble: EnsembleFile
        do { ensemble = try EnsembleFile.load(path: ensemblePath) } catch {
            throw CommandFailure(message: error.description, exitCode: CLI.ExitCode.usage)
        }
        let binary = parsed.value("--binary") ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var runbooks: String?
        if !parsed.flags.contains("--no-runbooks") {
            runbooks = parsed.value("--runbooks")
            if runbooks == nil && ensemble.runbookPath != nil {
                runbooks = RunbookLocator.standard().searchDirectories.first { directory in
                    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { $0.hasSuffix(".json5") }
                }
            }
        }
        let dryRun = parsed.flags.contains("--dry-run")
        do {
            let targets = try AgentInstaller.targets(ensemble, nodeIDs: nodeIDs, copiesRunbooks: runbooks != nil)
            let payload = try InstallPayload.load(binary: binary, runbooksDirectory: runbooks)
            let installer = AgentInstaller(ensemble: ensemble, payload: payload)
            var header = "install \(binary) (sha256 \(payload.binary.sha256.prefix(12))…, \(payload.binary.size) bytes)"
            if let source = payload.runbooksSource { header += " and \(payload.runbooks.count) runbooks from \(source) to \(ensemble.runbookPath ?? "?")" }
            say(header + " on \(targets.count) node(s) of \(ensemble.name)" + (dryRun ? " (dry run)" : ""))
            if payload.runbooksSource == nil && !parsed.flags.contains("--no-runbooks") {
                say(
                    ensemble.runbookPath == nil
                        ? "note: the ensemble file names no runbookPath: runbooks are not copied"
                        : "note: no runbooks folder found (\(RunbookLocator.standard().searchDirectories.joined(separator: ", "))): give --runbooks DIR")
            }
            let checks = installer.preflight(targets) { say($0) }
            let results = installer.install(checks, dryRun: dryRun) { say($0) }
            for result in results where result.outcome != .installed {
                for line in result.lines { say(line) }
            }
            let count = { (outcome: NodeInstall.Outcome) in results.filter { $0.outcome == outcome }.count }
            say(
                "\(dryRun ? "dry run" : "done"): \(count(.installed)) installed, \(count(.alreadyCurrent)) already current, "
                    + (dryRun ? "\(count(.wouldInstall)) would be installed, " : "")
                    + "\(count(.refused)) refused, \(count(.failed)) failed, \(count(.heldBack)) held back")
            if count(.failed) > 0 { return CLI.ExitCode.stepFailed }
            if count(.refused) > 0 { return CLI.ExitCode.refused }
            return CLI.ExitCode.success
        } catch {
            throw CommandFailure(message: error.description, exitCode: CLI.ExitCode.usage)
        }
    }
}
