import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookRolling
import ZKRunbookZooKeeper

/// `zkrunbook node-config`: the agent's side of `diff` — this node's zoo.cfg settings, server list, myid and
/// java.env, as one JSON object the conductor compares across nodes.
enum NodeConfigCommand {
    static let usage = "Usage: zkrunbook node-config [--zoo-cfg FILE] [--client-port PORT] [--check-dir DIR]..."
    static let help = """
        \(usage)

        Prints what this node's configuration files say, as JSON: zoo.cfg's settings, the server list in
        effect (from its dynamicConfigFile when it names one), dataDir/myid, and java.env beside zoo.cfg.
        Run by 'zkrunbook diff' on every node through its agent; safe to run by hand (it only reads).

        Options:
          --zoo-cfg FILE  the node's zoo.cfg (default: the one the server on --client-port was started
                          with, else \(NodeConfigReader.defaultZooCfg))
          --client-port PORT  the server's client port here: its process names the zoo.cfg it runs, which
                          is read when --zoo-cfg is not given and compared when it is
          --check-dir DIR also say whether this folder exists here (repeatable): a change may point dataDir there
          -h, --help      show this help

        Exit codes: 0 read, 2 zoo.cfg (or its dynamic file) missing or malformed (the line is named).
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments, valueOptions: AgentVerb.nodeConfig.valueOptions, flagOptions: AgentVerb.nodeConfig.flagOptions, usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return .success
        }
        guard parsed.positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(parsed.positionals[0])'", usage: usage) }
        var clientPort: Int?
        if let text = parsed.value("--client-port") {
            guard let port = Int(text), (1...65535).contains(port) else {
                throw UsageError(message: "--client-port expects a port number (1-65535), found '\(text)'", usage: usage)
            }
            clientPort = port
        }
        let chosen = NodeConfigSnapshot.choose(given: parsed.value("--zoo-cfg"), clientPort: clientPort, fallback: NodeConfigReader.defaultZooCfg)
        var snapshot: NodeConfigSnapshot
        do { snapshot = try NodeConfigSnapshot.read(zooCfg: chosen.path, checkDirectories: parsed.values["--check-dir"] ?? []) } catch {
            throw CommandFailure(message: "error: \(error) (zoo.cfg: \(chosen.source))", exitCode: .usage)
        }
        (snapshot.running, snapshot.source) = (chosen.running, chosen.source)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(snapshot), as: UTF8.self))
        return .success
    }
}
