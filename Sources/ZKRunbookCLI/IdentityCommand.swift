import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookRolling
import ZKRunbookZooKeeper

/// `zkrunbook identity`: the identity a run's lease carries for an ensemble file — its members' endpoints,
/// sorted and hashed — so an operator can tell whether two files (two machines, two spellings) name the
/// same ensemble, and so exclude each other's runs.
enum IdentityCommand {
    static let usage = "Usage: zkrunbook identity --ensemble FILE... [--json]"
    static let help = """
        \(usage)

        Prints each ensemble file's identity: the sha256 (first 16 hex digits) of its members' host:clientPort,
        lower-cased and sorted; the name is only shown. Runs that change an ensemble (every runbook that
        declares 'lease') exclude each other through a lease on each member, taken on the node itself
        (zookeeper-CLIENTPORT in the machine's lease folder), all or nothing: two runs whose files share any
        member cannot both hold it, whatever their paths, names, state folders or identities. Read-only runbooks, and
        dc-failover and dc-restore (run when part of the ensemble cannot be reached), take no lease.

        Options:
          --json      one JSON object per file
          -h, --help  show this help

        Exit codes: 0 every file read, 2 a file is missing or invalid.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: ["--ensemble"], flagOptions: ["--json"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return .success
        }
        let paths = parsed.values["--ensemble"] ?? []
        guard !paths.isEmpty, parsed.positionals.isEmpty else { throw UsageError(message: "name one or more --ensemble FILE", usage: usage) }
        for path in paths {
            let file: EnsembleFile
            do { file = try EnsembleFile.load(path: path) } catch { throw CommandFailure(message: error.description, exitCode: .usage) }
            let identity = EnsembleLease.identity(of: file)
            let endpoints = file.members.map { "\($0.host.lowercased()):\($0.clientPort)" }.sorted()
            if parsed.flags.contains("--json") {
                let object: [String: Any] = ["path": path, "name": file.name, "identity": identity, "members": endpoints]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(identity)  \(file.name)  \(endpoints.joined(separator: ","))  [\(path)]")
            }
        }
        return .success
    }
}
