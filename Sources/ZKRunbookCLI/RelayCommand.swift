import Foundation
import ZKRunbookEngine
import ZKRunbookTransport

/// `zkrunbook relay`: the node's end of a conductor's one ssh session per node (`CommandRelay`).
enum RelayCommand {
    static let usage = "Usage: zkrunbook relay"
    static let help = """
        \(usage)

        Run on a node by a conductor, over ssh, once per run: it reads the commands the conductor sends on
        standard input (one JSON object per line, several at once), runs each as a local command (its own
        process group, its output drained and capped, SIGTERM then SIGKILL at its timeout), and writes each
        command's output lines and how it ended to standard output. One ssh session per node for the whole
        run instead of one per command: each session makes the node's login shell read its rc files again.

        When standard input closes (the conductor stopped, or its connection dropped), every command still
        running is stopped as the conductor would stop it: its standard input closed first (an agent then
        stops on its own), SIGTERM after its grace. It exits once every command has ended. Not for people:
        nothing it runs is checked here; the commands are the conductor's.

        Options:
          -h, --help  show this help

        Exit codes: 0 when its input closed and every command ended, 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help)
            return .success
        }
        guard arguments.isEmpty else { throw UsageError(message: "relay takes no arguments: '\(arguments[0])'", usage: usage) }
        fflush(nil)
        _ = CommandRelay.serve(version: CLI.version)
        return .success
    }
}
