import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zkrunbook reach`: from this machine, connect to each endpoint and say which answered — what the
/// conductor asks every voter's agent before it stops a server (`zk-voter-links`).
enum ReachCommand {
    static let usage = "Usage: zkrunbook reach HOST:PORT... [--timeout DURATION]"
    static let help = """
        \(usage)

        Connects from this machine to every endpoint at once, closing each connection as soon as it is
        made, and prints one JSON object: for each endpoint, reached or not, why not (refused, timed out,
        no route), and how long the attempt took. Read-only. The conductor runs it on every voter that
        stays up, through that node's agent, before it stops a server: voters that cannot reach each
        other's election ports cannot elect a leader.

        Options:
          --timeout DURATION  how long one connection attempt may take (default 2s)
          -h, --help          show this help

        Exit codes: 0 answered (whatever was reached), 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: AgentVerb.reach.valueOptions, flagOptions: AgentVerb.reach.flagOptions, usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return .success
        }
        guard !parsed.positionals.isEmpty else { throw UsageError(message: "no endpoint to reach", usage: usage) }
        var endpoints: [Endpoint] = []
        for text in parsed.positionals {
            guard let endpoint = Endpoint(parsing: text, defaultPort: 0), endpoint.port > 0 else {
                throw UsageError(message: "'\(text)' is not HOST:PORT", usage: usage)
            }
            endpoints.append(endpoint)
        }
        var timeout = 2.0
        if let text = parsed.value("--timeout") {
            guard let duration = RunbookDuration.parse(text), duration.milliseconds > 0 else {
                throw UsageError(message: "--timeout expects \(RunbookDuration.expectation), found '\(text)'", usage: usage)
            }
            timeout = duration.seconds
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(ReachReport.attempt(endpoints, timeout: timeout)), as: UTF8.self))
        return .success
    }
}
