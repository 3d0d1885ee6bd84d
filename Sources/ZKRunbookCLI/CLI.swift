import Foundation
import ZKRunbookAgent
import ZKRunbookDiagnostics
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookRolling
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// The `zkrunbook` command line: parses arguments, calls the library, maps outcomes to exit codes.
public enum CLI {
    public static let version = "0.1.0"

    /// Every action a runbook may name: the engine's, the ZooKeeper ones and the rolling ones.
    public static let registry: ActionRegistry = {
        do {
            return try ActionRegistry(
                composing: ActionRegistry.engineActions, AgentActions.all, ZooKeeperActions.all, RollingActions.all, DiagnosticsActions.all)
        } catch {
            fatalError("zkrunbook's actions: \(error)")
        }
    }()

    /// Exit codes, the same for every subcommand: the engine's one type.
    public typealias ExitCode = ZKRunbookEngine.ExitCode

    static let exitCodeHelp = ExitCode.help

    static var mainHelp: String {
        """
        zkrunbook \(version): runbook automation for Apache ZooKeeper ensembles

        Usage: zkrunbook <command> [options]

        Commands:
        \(Subcommand.table)
          --version                  print the version

        RUNBOOK is a path, or a name looked up in ./runbooks, the binary's own folders (installed:
        /usr/share/zkrunbook/runbooks; a build tree: the repository's), /etc/zkrunbook/runbooks
        (or the folders in ZKRUNBOOK_RUNBOOK_PATH); 'zkrunbook list' says which.
        Run 'zkrunbook <command> --help' for a command's options.

        """ + exitCodeHelp
    }

    /// Runs the command line `arguments` (without the program name) and returns the exit code.
    public static func main(_ arguments: [String]) -> ExitCode {
        SignalTrap.deflectSIGPIPE()
        guard let command = arguments.first else {
            printError(mainHelp)
            return ExitCode.usage
        }
        let rest = Array(arguments.dropFirst())
        do {
            switch command {
            case "--help", "-h", "help":
                print(mainHelp)
                return ExitCode.success
            case "--version", "version":
                print("zkrunbook \(version)")
                return ExitCode.success
            case "--complete":
                return CompletionCommand.run(rest)
            case GroupSentinel.subcommand:
                // Started by an agent beside itself; not for people (see GroupSentinel).
                let grace = rest.firstIndex(of: "--grace").flatMap { rest.indices.contains($0 + 1) ? Double(rest[$0 + 1]) : nil } ?? 5
                GroupSentinel.watch(grace: grace)
                return ExitCode.success
            case "--commands":
                // For shell completion: the subcommands, one per line, from the same table as dispatch.
                print((Subcommand.all.map(\.name) + ["--version", "--help"]).joined(separator: "\n"))
                return ExitCode.success
            default:
                guard let subcommand = Subcommand.named(command) else {
                    let hint = ObjectReader.closest(to: command, among: Set(Subcommand.all.map(\.name))).map { "; did you mean '\($0)'?" } ?? ""
                    printError("error: unknown command '\(command)'\(hint)\nRun 'zkrunbook --help' for the commands.")
                    return ExitCode.usage
                }
                return try subcommand.run(rest)
            }
        } catch let error as UsageError {
            printError(error.description)
            return ExitCode.usage
        } catch let error as CommandFailure {
            printError(error.message)
            return error.exitCode
        } catch {
            printError("error: \(error)")
            return ExitCode.usage
        }
    }

    static func printError(_ text: String) {
        StandardStream.error(text + "\n")
    }
}

enum ListCommand {
    static let usage = "Usage: zkrunbook list [--all] [--actions]"
    static let help = """
        \(usage)

        Lists the runbooks an operator runs, with their descriptions and the parameters they
        cannot run without, and says which folders it looked in: ZKRUNBOOK_RUNBOOK_PATH's when
        set, else ./runbooks, then the binary's own (an installed binary's ../share/zkrunbook/runbooks,
        a runbooks folder beside it, the repository's for a build tree), /etc/zkrunbook/runbooks and
        /usr/share/zkrunbook/runbooks.

        Options:
          --all       also the node-side runbooks that agents run on each server (another runbook's
                      agent-run step names them), and each runbook's file
          --actions   list the actions a step may use instead
          -h, --help  show this help
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: [], flagOptions: ["--actions", "--all"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        if !parsed.positionals.isEmpty { throw UsageError(message: "list takes no arguments", usage: usage) }
        if parsed.flags.contains("--actions") {
            let width = CLI.registry.all.map(\.name.count).max() ?? 0
            for kind in CLI.registry.all { print("\(kind.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(kind.summary)") }
            return CLI.ExitCode.success
        }
        let locator = RunbookLocator.standard()
        let loader = RunbookLoader(registry: CLI.registry)
        var status = CLI.ExitCode.success
        let paths = locator.all()
        print("runbooks from: \(locator.searchDirectories.joined(separator: ", ")) (the first folder holding a name wins; ZKRUNBOOK_RUNBOOK_PATH sets them)")
        if paths.isEmpty { print("no runbooks there") }
        var loaded: [Runbook] = []
        for path in paths {
            do { loaded.append(try loader.load(path: path)) } catch {
                print(
                    "\(((path as NSString).lastPathComponent as NSString).deletingPathExtension.padding(toLength: 24, withPad: " ", startingAt: 0)) INVALID (run: zkrunbook validate \(path))"
                )
                status = CLI.ExitCode.usage
            }
        }
        // A runbook that another runs on each server through its agent (agent-run) is the node side of it.
        let nodeSide = Set(loaded.flatMap { runbook in RunbookList.agentRunbooks(in: runbook) })
        let all = parsed.flags.contains("--all")
        let operatorRunbooks = loaded.filter { !nodeSide.contains($0.name) }
        if !operatorRunbooks.isEmpty { print("\nwhat an operator runs (zkrunbook run NAME, plan NAME):") }
        for runbook in operatorRunbooks { print(RunbookList.line(runbook, showPath: all)) }
        let agentRunbooks = loaded.filter { nodeSide.contains($0.name) }
        if all {
            if !agentRunbooks.isEmpty { print("\nwhat the agents run on each server (through another runbook's agent-run step):") }
            for runbook in agentRunbooks { print(RunbookList.line(runbook, showPath: true)) }
        } else if !agentRunbooks.isEmpty {
            print("\n\(agentRunbooks.count) node-side runbook(s) that agents run on each server are not shown: zkrunbook list --all")
        }
        return status
    }
}

enum ValidateCommand {
    static let usage = "Usage: zkrunbook validate [--quiet] [--ensemble FILE]... [PATH|NAME...]"
    static let help = """
        \(usage)

        Checks runbook files (or every *.json5 in the given folders, or runbooks by name as run finds
        them) offline: JSON5 syntax, unknown keys,
        types, durations, step ids, rollback references, parameter references, shell steps (warned).
        With --ensemble, checks an ensemble file the same way (its keys: zkrunbook manual ensemble) and
        says each node and how it is reached. Nothing is run, nothing is contacted. Problems are printed
        as file:line:column: error: message.

        Options:
          --ensemble FILE  an ensemble file to check (repeatable)
          --quiet          print only problems
          -h, --help       show this help

        Exit codes: 0 every file valid, 2 a file is invalid or missing.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: ["--ensemble"], flagOptions: ["--quiet"], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        let ensembles = parsed.values["--ensemble"] ?? []
        guard !parsed.positionals.isEmpty || !ensembles.isEmpty else {
            throw UsageError(message: "validate needs at least one PATH or runbook NAME, or --ensemble FILE", usage: usage)
        }
        let quiet = parsed.flags.contains("--quiet")
        var files: [String] = []
        var status = CLI.ExitCode.success
        for path in ensembles {
            do {
                let file = try EnsembleFile.load(path: path)
                if !quiet {
                    print("ok: \(path): ensemble '\(file.name)', \(file.nodes.count) node(s)")
                    for node in file.nodes {
                        print("  server \(node.id) (\(node.member.role.rawValue)) at \(node.member.endpoint), reached \(node.access.describe(host: node.host))")
                    }
                }
            } catch {
                CLI.printError(error.description)
                status = CLI.ExitCode.usage
            }
        }
        guard !parsed.positionals.isEmpty else { return status }
        for path in parsed.positionals {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".json5") }.sorted()
                if names.isEmpty { CLI.printError("warning: \(path) holds no *.json5 runbooks") }
                files += names.map { (path as NSString).appendingPathComponent($0) }
            } else if FileManager.default.fileExists(atPath: path) {
                files.append(path)
            } else if !path.contains("/") {
                // A name, found as run finds it.
                do { files.append(try RunbookLocator.standard().locate(path)) } catch {
                    CLI.printError(error.description)
                    status = CLI.ExitCode.usage
                }
            } else {
                CLI.printError("\(path): error: no such file or folder")
                status = CLI.ExitCode.usage
            }
        }
        let loader = RunbookLoader(registry: CLI.registry)
        var valid = 0
        for file in files {
            do {
                let runbook = try loader.load(path: file)
                for warning in runbook.warnings { CLI.printError(warning.description) }
                if !quiet { print("ok: \(file): runbook '\(runbook.name)', \(runbook.steps.count) step(s)") }
                valid += 1
            } catch {
                CLI.printError(error.description)
                status = CLI.ExitCode.usage
            }
        }
        if !quiet { print("\(valid) of \(files.count) runbook(s) valid") }
        return status
    }
}

enum RunCommand {
    enum Mode { case plan, run }

    static let runUsage = "Usage: zkrunbook run RUNBOOK [--param NAME=VALUE]... [--ensemble FILE] [--dry-run] [--json] [--state-dir DIR] [--no-rollback]"
    static let planUsage = "Usage: zkrunbook plan RUNBOOK [--param NAME=VALUE]... [--ensemble FILE] [--offline] [--json]"
    static let resumeUsage = "Usage: zkrunbook resume RUN-ID [--param NAME=VALUE]... [--json] [--state-dir DIR] [--no-rollback]"

    static let commonOptions = """
          --param NAME=VALUE  set a runbook parameter (repeatable); values are typed and checked
          --ensemble FILE     the same as --param ensemble=FILE (rolling-restart, health-check)
          --json              print JSON Lines events (schema \(Event.schemaVersion)) instead of text
          -v, --verbose       every event as text: each step's plan, guards, attempts and what each node's
                              agent did (default: one line per step and per node, failures in full)
          --state-dir DIR     journals, backups and locks (default: ZKRUNBOOK_STATE_DIR, else
                              /var/lib/zkrunbook as root, else ~/.local/state/zkrunbook)
          --no-rollback       on SIGINT/SIGTERM stop without undoing completed steps (resume later)
          --result FILE       at the end, write one JSON document (- for standard output): run id,
                              runbook, ensemble, host, version, status, exit code, changed, each
                              step's outcome, the reason of a refusal or failure
          --tls-ca, --tls-cert, --tls-key, --tls-pkcs12, --tls-key-password-file FILE, --tls-port PORT,
          --tls-no-verify-hostname
                              reach the servers over TLS (as 'zkrunbook status --help' says); default: the
                              ensemble file's tls block. A conductor passes them on to each node's agent.
          -h, --help          show this help
        """

    static let runHelp = """
        \(runUsage)

        Runs a runbook step by step: each step's guards are checked on live facts just before it runs,
        each attempt has its timeout, failed steps are retried as the runbook says, and when a step fails
        the completed steps are undone in reverse order. Every event is journaled (fsync) under
        STATE/runs/RUN-ID, so an interrupted run can be continued with 'zkrunbook resume RUN-ID'.
        A lock (STATE/locks) stops two runs acting on the same target at once.
        SIGINT/SIGTERM stop the running step (its process group gets SIGTERM, then SIGKILL), roll back
        completed steps and exit 130; a second signal stops the rollback too.

        Options:
          --dry-run           plan instead: run only read-only steps and probes, change nothing
          --once KEY          a conductor's request: if a run started with this KEY already succeeded here,
                              report that run's result again and do nothing (so 'resume' never repeats it);
                              if it never ended (its agent was killed), resume it from its journal here
          --stop-when-stdin-closes
                              stop the run (as SIGTERM would) when standard input closes: the agent of a
                              conductor that died or gave up stops with it, over ssh as locally
          --lease RUN-ID --lease-key KEY
                              a conductor's request: before each step that changes something, check that
                              run RUN-ID still holds this machine's lease KEY (see 'zkrunbook lease')
        \(commonOptions)

        \(CLI.exitCodeHelp)
        """

    static let planHelp = """
        \(planUsage)

        Shows what 'run' would do: parameters resolved, every step with the exact command it would run,
        its guards (evaluated live by read-only probes) and its rollback. Steps that change things are
        never run. A guard that depends on a step the plan skipped is shown as unknown, not as passed.

        Options:
          --offline           run nothing at all, not even probes (guards shown as unknown): for
                              reviewing a plan in CI or committing it as a snapshot
          --param NAME=VALUE  set a runbook parameter (repeatable)
          --ensemble FILE     the same as --param ensemble=FILE
          --json              print JSON Lines events instead of text
          --result FILE       at the end, one JSON document (- for standard output); its `changed` says
                              whether the run would change anything, each step's whether it would
          --tls-* ...         reach the servers over TLS, as for run (default: the ensemble file's tls block)
          -h, --help          show this help

        Exit codes: 0 nothing would be refused, 2 invalid runbook or parameters, 3 a guard would refuse.
        """

    static let resumeHelp = """
        \(resumeUsage)

        Continues an interrupted run (SIGKILL, a crash, a lost ssh session, SIGINT with --no-rollback)
        from its journal: steps already done are skipped, and the first unfinished step's guards are
        checked again before it runs. The runbook text and the parameters are those the run started
        with; secret parameters are never journaled and must be given again with --param.

        Options:
        \(commonOptions)

        \(CLI.exitCodeHelp)
        """

    static func run(_ arguments: [String], mode: Mode) throws -> ExitCode {
        let usage = mode == .plan ? planUsage : runUsage
        // A conductor's words (AgentVerb.run) and an operator's.
        let flags: Set<String> =
            mode == .plan
            ? ServerTargets.tlsFlagOptions.union(["--json", "--offline"]) : AgentVerb.run.flagOptions.union(["--dry-run", "--no-rollback", "--verbose", "-v"])
        let values: Set<String> =
            mode == .plan
            ? ServerTargets.tlsValueOptions.union(["--param", "--state-dir", "--ensemble", "--result"])
            : AgentVerb.run.valueOptions.union(["--ensemble", "--result"])
        let parsed = try ParsedArguments(arguments, valueOptions: values, flagOptions: flags, usage: usage)
        if parsed.flags.contains("--help") {
            print(mode == .plan ? planHelp : runHelp)
            return CLI.ExitCode.success
        }
        guard parsed.positionals.count == 1 else {
            throw UsageError(message: parsed.positionals.isEmpty ? "name a RUNBOOK" : "give exactly one RUNBOOK", usage: usage)
        }
        var given = try parsed.parameters(usage: usage)
        if let ensemble = parsed.value("--ensemble") { given.append((name: "ensemble", value: ensemble)) }
        let runbook: Runbook
        do {
            let path = try RunbookLocator.standard().locate(parsed.positionals[0])
            runbook = try RunbookLoader(registry: CLI.registry).load(path: path)
        } catch {
            CLI.printError(error.description)
            return CLI.ExitCode.usage
        }
        for warning in runbook.warnings where !parsed.flags.contains("--json") { CLI.printError(warning.description) }
        let parameters: [String: ParameterValue]
        switch ParameterBinding.bind(runbook, given: given) {
        case .success(let values): parameters = values
        case .failure(let problems):
            CLI.printError(problems.description)
            return CLI.ExitCode.usage
        }
        // A missing or invalid ensemble file is a usage error, said with file:line:column before anything runs.
        // An offline plan touches nothing, so it may name a production path that does not exist where it runs
        // (a CI job planning against /etc/zkrunbook/ensemble.json5); a file that is there must still be valid.
        let offline = parsed.flags.contains("--offline")
        var ensembleTLS: ServerTLS?
        var ensembleSASL: SASLSettings?
        if let ensemble = parameters["ensemble"]?.text, ensemble.hasSuffix(".json5"),
            !offline || access(ensemble, F_OK) == 0
        {
            do {
                let file = try EnsembleFile.load(path: ensemble)
                (ensembleTLS, ensembleSASL) = (file.tls, file.sasl)
            } catch {
                CLI.printError(error.description)
                return CLI.ExitCode.usage
            }
        }
        // How the run's steps reach servers: the --tls-* words (a conductor's request to this agent, or an
        // operator's), else the ensemble file's tls block; loaded before anything runs.
        var tls: ServerTLS?
        switch ServerTLS.parse(values: parsed.values, flags: parsed.flags) {
        case .success(let given): tls = given ?? ensembleTLS
        case .failure(let problem): throw UsageError(message: problem.message, usage: usage)
        }
        let dryRun = mode == .plan || parsed.flags.contains("--dry-run")
        var options = RunOptions(
            mode: offline ? .offlinePlan : dryRun ? .dryRun : .live, rollbackOnInterrupt: !parsed.flags.contains("--no-rollback"),
            layout: StateLayout.standard(explicit: parsed.value("--state-dir")))
        options.fenceProvider = EnsembleLeaseProvider()
        if let tls, !offline {
            do { try options.services.reach(over: tls) } catch {
                CLI.printError("error: \(error.description)")
                return CLI.ExitCode.usage
            }
        }
        if let ensembleSASL, !offline {
            do { options.services[SASLIdentityKey.self] = try ensembleSASL.identity() } catch {
                CLI.printError("error: \(error.description)")
                return CLI.ExitCode.usage
            }
        }
        switch (parsed.value(AgentOption.lease.rawValue), parsed.value(AgentOption.leaseKey.rawValue)) {
        case (let runID?, let key?): options.fence = NodeLeaseFence(store: .standard(), key: key, runID: runID)
        case (nil, nil): break
        default: throw UsageError(message: "--lease RUN-ID and --lease-key KEY go together", usage: usage)
        }
        let once = parsed.value(AgentOption.once.rawValue).map { OnceRecord(layout: options.layout, key: $0) }
        if let once, !dryRun, let done = once.succeededRun() {
            let json = parsed.flags.contains("--json")
            var replay = done
            replay.message = "already done by run \(done.runID) (--once \(once.key)): nothing run again; " + (done.message ?? "")
            if json { JSONLinesSink().emit(replay) } else { print(replay.message ?? "") }
            return CLI.ExitCode.success
        }
        let watchStdin = parsed.flags.contains(AgentOption.stopWhenStdinCloses.rawValue)
        // A plan is its detail; a live run is one line per step and node unless -v.
        let verbose = dryRun || parsed.flags.contains("--verbose") || parsed.flags.contains("-v")
        let report = parsed.value("--result").map { ResultReport(path: $0, mode: options.mode, ensemble: parameters["ensemble"]?.text) }
        if let once, !dryRun, let unfinished = once.unfinishedRun() {
            // The agent this request started before was killed mid-run: continue that run, as the node's
            // journal has it, rather than repeat what it already did.
            return execute(json: parsed.flags.contains("--json"), verbose: verbose, watchStdin: watchStdin, result: report) {
                (service, sink, token, rollbackToken) throws(RunService.StartError) in
                try service.resume(
                    runID: unfinished, extraParameters: [], options: options, sink: sink, cancellation: token, rollbackCancellation: rollbackToken)
            }
        }
        let runID = StateLayout.makeRunID(runbook: dryRun ? "dry-run" : runbook.name)
        if let once, !dryRun, let error = once.record(runID: runID) {
            CLI.printError(error)
            return .stepFailed
        }
        return execute(json: parsed.flags.contains("--json"), verbose: verbose, watchStdin: watchStdin, result: report) {
            (service, sink, token, rollbackToken) throws(RunService.StartError) in
            try service.start(
                runbook, parameters: parameters, options: options, sink: sink, cancellation: token, rollbackCancellation: rollbackToken, runID: runID)
        }
    }

    static func resume(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments, valueOptions: ServerTargets.tlsValueOptions.union(["--param", "--state-dir", "--result"]),
            flagOptions: ServerTargets.tlsFlagOptions.union(["--json", "--no-rollback", "--verbose", "-v"]), usage: resumeUsage)
        if parsed.flags.contains("--help") {
            print(resumeHelp)
            return CLI.ExitCode.success
        }
        guard parsed.positionals.count == 1 else { throw UsageError(message: "name the RUN-ID to resume", usage: resumeUsage) }
        let given = try parsed.parameters(usage: resumeUsage)
        var options = RunOptions(
            rollbackOnInterrupt: !parsed.flags.contains("--no-rollback"), layout: StateLayout.standard(explicit: parsed.value("--state-dir")))
        options.fenceProvider = EnsembleLeaseProvider()
        // Servers reached as the run began: the --tls-* flags given again, else its ensemble file's tls block.
        var tls: ServerTLS?
        switch ServerTLS.parse(values: parsed.values, flags: parsed.flags) {
        case .success(let given): tls = given
        case .failure(let problem): throw UsageError(message: problem.message, usage: resumeUsage)
        }
        var sasl: SASLSettings?
        if let state = try? JournalState.read(path: options.layout.journalPath(parsed.positionals[0])),
            let ensemble = state.parameters["ensemble"], ensemble.hasSuffix(".json5"), let file = try? EnsembleFile.load(path: ensemble)
        {
            if tls == nil { tls = file.tls }
            sasl = file.sasl
        }
        if let sasl {
            do { options.services[SASLIdentityKey.self] = try sasl.identity() } catch {
                CLI.printError("error: \(error.description)")
                return CLI.ExitCode.usage
            }
        }
        if let tls {
            do { try options.services.reach(over: tls) } catch {
                CLI.printError("error: \(error.description)")
                return CLI.ExitCode.usage
            }
        }
        let report = parsed.value("--result").map { ResultReport(path: $0, mode: .live, ensemble: nil) }
        let verbose = parsed.flags.contains("--verbose") || parsed.flags.contains("-v")
        return execute(json: parsed.flags.contains("--json"), verbose: verbose, result: report) {
            (service, sink, token, rollbackToken) throws(RunService.StartError) in
            try service.resume(
                runID: parsed.positionals[0], extraParameters: given, options: options, sink: sink, cancellation: token,
                rollbackCancellation: rollbackToken)
        }
    }

    /// Traps SIGINT/SIGTERM for the duration of the run and maps the outcome to an exit code.
    private static func execute(
        json: Bool, verbose: Bool = true, watchStdin: Bool = false, result: ResultReport? = nil,
        _ body: (RunService, any EventSink, CancellationToken, CancellationToken) throws(RunService.StartError) -> RunOutcome
    ) -> ExitCode {
        let token = CancellationToken()
        let rollbackToken = CancellationToken()
        let trap = SignalTrap(token: token) { signo in
            rollbackToken.cancel(reason: "second signal \(signo): rollback stopped")
        }
        _ = trap
        if watchStdin {
            // An agent: if it is killed outright, the sentinel ends the commands it was running.
            _ = GroupSentinel.start()
            // Nothing is ever sent on stdin: EOF (or an error) means the conductor's end is gone.
            Thread.detachNewThread {
                var byte: UInt8 = 0
                while read(STDIN_FILENO, &byte, 1) > 0 {}
                token.cancel(reason: "the conductor went away (standard input closed)")
            }
        }
        let output: any EventSink = json ? JSONLinesSink() : verbose ? HumanRenderer() as any EventSink : CompactRenderer()
        let recorder = EventRecorder()
        let sink: any EventSink = result == nil ? output : EventFanout([output, recorder])
        do {
            let outcome = try body(RunService(registry: CLI.registry), sink, token, rollbackToken)
            result?.write(events: recorder.events, outcome: outcome)
            return outcome.exitCode
        } catch {
            CLI.printError(error.description)
            result?.write(
                events: recorder.events, outcome: RunOutcome(runID: "", status: error.exitCode == .locked ? .locked : .failed, message: error.description))
            return error.exitCode
        }
    }
}

/// Where `--result` goes, and what the run's events alone cannot say.
struct ResultReport {
    var path: String
    var mode: RunMode
    /// The ensemble file given, whose name the result carries.
    var ensemble: String?

    func write(events: [Event], outcome: RunOutcome) {
        let name = ensemble.flatMap { try? EnsembleFile.load(path: $0) }?.name
        let result = RunResult.build(events: events, outcome: outcome, mode: mode, ensemble: name, host: HostName.short, version: CLI.version)
        if path == "-" {
            print(result.json, terminator: "")
            return
        }
        do { try Data(result.json.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            CLI.printError("error: --result \(path): cannot write: \(error.localizedDescription)")
        }
    }
}
