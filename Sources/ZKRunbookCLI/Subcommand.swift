import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookTransport

/// One `zkrunbook` subcommand: what dispatch, did-you-mean and the main `--help` read.
///
/// A new subcommand is its own file (an enum with `run`) and one entry in `all`; nothing else names it.
struct Subcommand: Sendable {
    /// The word typed after `zkrunbook`.
    var name: String
    /// What follows the name in the main help (`PATH...`, `up|down|…`).
    var arguments: String = ""
    /// One line for the main help.
    var summary: String
    var run: @Sendable ([String]) throws -> ExitCode

    /// The words a conductor asks of an agent (`AgentVerb`) are spelled by the protocol, not here.
    static let all: [Subcommand] = [
        Subcommand(name: "list", summary: "list the runbooks found (and --actions: the step actions)", run: ListCommand.run),
        Subcommand(
            name: "validate", arguments: "[--ensemble FILE] PATH...", summary: "check runbook files, folders or an ensemble file offline; nothing runs",
            run: ValidateCommand.run),
        Subcommand(name: "plan", arguments: "RUNBOOK", summary: "show exactly what a run would do (a dry run; probes may run)") {
            try RunCommand.run($0, mode: .plan)
        },
        Subcommand(name: AgentVerb.run.rawValue, arguments: "RUNBOOK", summary: "execute a runbook, journaled, under a lock") {
            try RunCommand.run($0, mode: .run)
        },
        Subcommand(name: "resume", arguments: "RUN-ID", summary: "continue an interrupted run from its journal", run: RunCommand.resume),
        Subcommand(name: "runs", summary: "the runs in the state directory (id, runbook, status, start, duration); prune old ones", run: RunsCommand.run),
        Subcommand(name: "show", arguments: "RUN-ID", summary: "a run's journal, rendered as the run printed it", run: RunsCommand.show),
        Subcommand(name: "status", summary: "probe an ensemble: leader, lag, synced followers, verdict", run: StatusCommand.run),
        Subcommand(name: "diff", summary: "configuration drift across an ensemble: zoo.cfg, server lists, myid, java.env", run: DiffCommand.run),
        Subcommand(
            name: AgentVerb.nodeConfig.rawValue, summary: "this node's configuration as JSON (what diff asks each node's agent)", run: NodeConfigCommand.run),
        Subcommand(
            name: AgentVerb.reach.rawValue, arguments: "HOST:PORT...",
            summary: "from this machine, which endpoints answer a connection (what voters' agents are asked)",
            run: ReachCommand.run),
        Subcommand(
            name: CommandRelay.word, summary: "on a node, for its conductor: run the commands sent over one ssh session for the whole run",
            run: RelayCommand.run),
        Subcommand(name: AgentVerb.collect.rawValue, summary: "a diagnostics bundle (.tar.gz) for support, secrets redacted", run: CollectCommand.run),
        Subcommand(name: "doctor", summary: "name the incident from logs and live facts, with evidence", run: DoctorCommand.run),
        Subcommand(name: "install", summary: "put the agent and runbooks on every node (ssh), sha256-verified", run: InstallCommand.run),
        Subcommand(name: AgentVerb.lease.rawValue, summary: "the per-node leases that keep one run per ensemble (show, break)", run: LeaseCommand.run),
        Subcommand(name: "zk", arguments: "ls|get|stat|create|set|delete|config", summary: "znodes through ZooKeeper's own protocol", run: ZKCommand.run),
        Subcommand(name: "identity", summary: "an ensemble file's identity: which runs exclude each other", run: IdentityCommand.run),
        Subcommand(name: "manual", arguments: "1|5", summary: "the man pages as roff: the commands (1), the runbook format (5)", run: ManualCommand.run),
        Subcommand(
            name: AgentVerb.sandbox.rawValue, arguments: "up|down|status|stop|start|restart",
            summary: "a throwaway ZooKeeper ensemble on loopback (tests, CI, quick start)", run: SandboxCommand.run),
    ]

    static func named(_ name: String) -> Subcommand? { all.first { $0.name == name } }

    /// Its own --help, as it prints it (for the man page and completion): run in this process with standard
    /// output sent to a file, so every subcommand's help is read the one way it is written.
    var helpText: String {
        let path = NSTemporaryDirectory() + "zkrunbook-help-\(getpid())-\(name)"
        defer { unlink(path) }
        fflush(nil)
        let saved = dup(STDOUT_FILENO)
        guard saved >= 0 else { return "(zkrunbook \(name) --help)" }
        let file = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o600)
        guard file >= 0 else {
            close(saved)
            return "(zkrunbook \(name) --help)"
        }
        dup2(file, STDOUT_FILENO)
        close(file)
        _ = try? run(["--help"])
        fflush(nil)
        dup2(saved, STDOUT_FILENO)
        close(saved)
        return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
    }

    /// The "Commands:" lines of the main help: name and arguments in a column of 29, the summary beside
    /// them, or on the next line where they are longer.
    static var table: String {
        let width = 29
        return all.map { command in
            let head = "  " + ([command.name, command.arguments].filter { !$0.isEmpty }.joined(separator: " "))
            if head.count < width { return head.padding(toLength: width, withPad: " ", startingAt: 0) + command.summary }
            return head + "\n" + String(repeating: " ", count: width) + command.summary
        }.joined(separator: "\n")
    }
}
