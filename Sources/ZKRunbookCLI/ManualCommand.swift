import Foundation
import ZKRunbookEngine
import ZKRunbookJSON5

/// `zkrunbook manual 1|5|ensemble`: the man pages zkrunbook(1), zkrunbook-runbook(5) and
/// zkrunbook-ensemble(5), as roff, written from the
/// tables the program itself runs on — the subcommands and their --help, the exit codes, the registered
/// actions with the facts they report, parameter types and comparison operators — so they cannot drift.
enum ManualCommand {
    static let usage = "Usage: zkrunbook manual 1|5|ensemble"
    static let help = """
        \(usage)

        Prints a man page as roff: 1 is zkrunbook(1), the commands; 5 is zkrunbook-runbook(5), the runbook
        format with every action and the facts it reports; ensemble is zkrunbook-ensemble(5), the ensemble
        file, key by key. The packages install all three; to read one here: zkrunbook manual 5 | man -l -

        Options:
          -h, --help  show this help
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(arguments, valueOptions: [], flagOptions: [], usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return .success
        }
        switch parsed.positionals {
        case ["1"]: print(commandsPage(), terminator: "")
        case ["5"], ["runbook"]: print(runbookPage(), terminator: "")
        case ["ensemble"], ["5", "ensemble"]: print(ensemblePage(), terminator: "")
        default:
            throw UsageError(message: "name the page: 1 (the commands), 5 (the runbook format) or ensemble (the ensemble file)", usage: usage)
        }
        return .success
    }

    static var date: String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }

    // MARK: zkrunbook(1)

    static func commandsPage() -> String {
        var page = Roff()
        page.header("ZKRUNBOOK", section: 1, title: "User Commands", date: date)
        page.section("NAME")
        page.text("zkrunbook \\- runbook automation for Apache ZooKeeper ensembles")
        page.section("SYNOPSIS")
        page.raw(".PP")
        for command in Subcommand.all {
            page.raw(".B zkrunbook \(command.name)")
            page.raw(Roff.escape(([command.arguments].filter { !$0.isEmpty } + ["[options]"]).joined(separator: " ")))
            page.raw(".br")
        }
        page.section("DESCRIPTION")
        page.text(
            """
            zkrunbook runs declarative runbooks (JSON5, see zkrunbook-runbook(5)) against the servers of an Apache
            ZooKeeper ensemble, one node at a time: each step's guards are checked on live facts just before it
            runs, it has a timeout and retries, completed steps are undone in reverse when a later one fails, a
            plan shows exactly what a run would do, and a journal lets an interrupted run resume. The same binary
            is the agent on every node and the conductor that drives them over ssh.
            """)
        page.section("COMMANDS")
        for command in Subcommand.all {
            page.raw(".SS \"\(Roff.escape(([command.name, command.arguments].filter { !$0.isEmpty }).joined(separator: " ")))\"")
            page.text(command.summary)
            page.preformatted(command.helpText)
        }
        page.section("EXIT STATUS")
        for code in ExitCode.all { page.item(String(code.rawValue), code.meaning) }
        page.section("ENVIRONMENT")
        page.items(Self.environment)
        page.section("FILES")
        page.items(Self.files)
        page.section("EXAMPLES")
        page.text("Probe an ensemble and write the metrics node_exporter reads:")
        page.preformatted("zkrunbook status --ensemble /etc/zkrunbook/ensemble.json5 --prometheus /var/lib/prometheus/node-exporter/zookeeper.prom")
        page.text("See what a rolling restart would do, then do it, then follow it from another terminal:")
        page.preformatted(
            "zkrunbook plan rolling-restart --ensemble /etc/zkrunbook/ensemble.json5\nzkrunbook run rolling-restart --ensemble /etc/zkrunbook/ensemble.json5\nzkrunbook runs"
        )
        page.text("Resume a run that was interrupted (its id is printed at its start and by runs):")
        page.preformatted("zkrunbook resume 20261203T120000Z-rolling-restart-1a2b3c4d")
        page.text("A diagnostics bundle of every server, and doctor's findings over it:")
        page.preformatted("zkrunbook collect --ensemble /etc/zkrunbook/ensemble.json5 --output /tmp/support")
        page.section("SEE ALSO")
        page.text(
            "zkrunbook-runbook(5), zkrunbook-ensemble(5), systemd.timer(5), zkServer.sh from Apache ZooKeeper, and the README in /usr/share/doc/zkrunbook.")
        return page.text
    }

    // MARK: zkrunbook-runbook(5)

    /// The facts an action reports, read from an instance prepared with no arguments (a declared action
    /// stands placeholders in for what is missing); nil when the action cannot say without its arguments.
    static func facts(of kind: any ActionKind) -> FactNames? {
        guard let node = try? JSON5Parser.parse("{}", file: "manual"),
            let reader = ObjectReader(node, context: "the manual", diagnostics: DiagnosticCollector())
        else { return nil }
        let arguments = ActionArguments(reader: reader, registry: CLI.registry, stepID: "manual", asProbe: false)
        return kind.prepare(arguments)?.yieldedFacts
    }

    static func runbookPage() -> String {
        var page = Roff()
        page.header("ZKRUNBOOK-RUNBOOK", section: 5, title: "File Formats", date: date)
        page.section("NAME")
        page.text("zkrunbook-runbook \\- the runbook format zkrunbook runs")
        page.section("SYNOPSIS")
        page.preformatted(
            """
            { name: "NAME", description: "…", lock: "node",
              parameters: { NAME: { type: "string", required: true, description: "…" } },
              steps: [
                { id: "ID", description: "…", action: "ACTION", with: { … },
                  guards: [ { probe: "PROBE", with: { … }, fact: "FACT", equals: VALUE } ],
                  timeout: "30s", retries: { count: 3, backoff: "1s" }, rollback: ["ID"] },
              ],
              rollbacks: [ { id: "ID", action: "ACTION", with: { … } } ] }
            """)
        page.section("DESCRIPTION")
        page.text(
            """
            A runbook is one JSON5 file (comments, trailing commas and unquoted keys allowed). zkrunbook validate
            checks it offline and reports every problem as file:line:column with what was expected; an unknown
            key is an error, with the nearest known key suggested. Strings may hold templates: ${NAME} is a
            parameter, ${steps.ID.FACT} a fact an earlier step reported, ${node.FIELD} a field of the node a
            per-node step runs on; $${ is a literal ${. Durations are written as 500ms, 30s, 10m or 2h.
            """)
        page.section("TOP-LEVEL KEYS")
        page.items(topLevelKeys)
        page.section("PARAMETERS")
        page.text(
            "Each parameter has type (required), required, default, description and secret (a secret's value is shown as *** in every event, the journal included). Types:"
        )
        for type in ParameterType.allCases { page.item(type.rawValue, parameterMeaning(type)) }
        page.section("STEP KEYS")
        page.items(stepKeys)
        page.section("CONDITIONS")
        page.text(
            "A guard or when names a fact — from a probe (probe and its with), from an earlier step (steps.ID.FACT) or a parameter (params.NAME) — and exactly one comparison: "
                + Condition.Operator.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        page.section("ACTIONS")
        page.text(
            "Read-only actions may also serve as guard probes and run in a plan; the others run only in a run. Each lists the facts it reports where it declares them."
        )
        for kind in CLI.registry.all {
            var text = kind.summary
            if let facts = facts(of: kind) {
                let names = facts.names.sorted() + facts.prefixes.map { $0 + "N" }
                if !names.isEmpty { text += ". Facts: " + names.joined(separator: ", ") + "." }
            }
            page.item(kind.name, text)
        }
        page.section("EXAMPLES")
        page.text("The shipped runbooks are in /usr/share/zkrunbook/runbooks; zkrunbook list shows them, zkrunbook plan NAME shows what one would do.")
        page.section("SEE ALSO")
        page.text("zkrunbook(1), zkrunbook-ensemble(5)")
        return page.text
    }

    /// The variables the program reads (Journal, RunbookLocator, Sandbox).
    static let environment: [(String, String)] = [
        (
            "ZKRUNBOOK_RUNBOOK_PATH",
            "Folders (colon-separated) where a runbook named without a path is looked up, before ./runbooks, /etc/zkrunbook/runbooks and /usr/share/zkrunbook/runbooks."
        ),
        (
            "ZKRUNBOOK_STATE_DIR",
            "Journals, backups, locks and zxid samples, when --state-dir is not given (default /var/lib/zkrunbook for root, else ~/.local/state/zkrunbook)."
        ),
        ("ZKRUNBOOK_ZOOKEEPER_JARS", "Where sandbox up --zookeeper VERSION finds other ZooKeeper versions' jars (default ~/.cache/zkrunbook/zookeeper-jars)."),
        ("ZK_HOME", "An Apache ZooKeeper installation the sandbox starts servers from, instead of Debian's jars."),
        ("JAVA, JAVA_HOME", "The java the sandbox runs: $JAVA, else $JAVA_HOME/bin/java, else java on PATH."),
    ]

    /// Where the packages put things, and where runs keep theirs.
    static let files: [(String, String)] = [
        ("/usr/share/zkrunbook/runbooks", "The shipped runbooks."),
        ("/etc/zkrunbook/runbooks", "Local runbooks, looked up before the shipped ones."),
        ("/var/lib/zkrunbook", "Journals (resume, runs, show), backups, locks, node leases and zxid samples."),
        ("/usr/share/zkrunbook/prometheus/zookeeper-alerts.yml", "Alert rules for the series status --prometheus writes."),
        ("/usr/share/zkrunbook/grafana/zookeeper-dashboard.json", "A Grafana dashboard for the same series."),
    ]

    /// The runbook's own keys, as the loader reads them (RunbookLoader).
    static let topLevelKeys: [(String, String)] = [
        ("name", "The runbook's name (required)."),
        ("description", "One line for zkrunbook list."),
        ("lock", "What a run locks: a name (a template), so two runs of the same lock exclude each other."),
        ("defaultTimeout", "The timeout of a step that gives none."),
        ("afterwards", "What is left for the operator once a run succeeds (templates): a plan says it first, a run last."),
        ("parameters", "An object of parameter specifications (below)."),
        ("steps", "The steps, run in order (required)."),
        ("rollbacks", "Steps that only undo: named by a step's rollback list, run in reverse order when a later step fails."),
        (
            "lease",
            "{ ensemble, ttl, nodes }: the members' lease a run that changes an ensemble holds from before its first change to its end (nodes: only those member ids)."
        ),
    ]

    /// A step's keys, as the loader reads them (RunbookLoader.readStep).
    static let stepKeys: [(String, String)] = [
        ("id", "Unique in the runbook; facts are read as ${steps.ID.FACT}."),
        ("description", "What the step does, in the plan and the events."),
        ("action", "One of the actions below (required)."),
        ("with", "The action's arguments."),
        (
            "guards",
            "Conditions checked on live facts just before the step runs; one that fails refuses the run (exit 3) before anything changes. A guard that cannot be evaluated refuses too."
        ),
        ("when", "A condition that skips the step when it does not hold."),
        ("timeout", "How long the step may take."),
        ("retries", "{ count, backoff, factor, maxBackoff }: attempts after the first, and the wait between them."),
        ("onFailure", "abort (the default: roll back and stop) or continue (a non-critical step)."),
        ("rollback", "Ids of rollbacks steps that undo this one."),
        ("rollbackWhenFailed", "Also undo this step when it fails itself (it may have changed something before failing)."),
        (
            "keepWhenLaterFails",
            "A later step's failure leaves this step, and every step before it, in place: the run halts at what it reached, and only the steps after it are undone (each roll of enable-quorum-tls)."
        ),
        (
            "include",
            "Alone in a step's place: { include: \"parts/NAME.json5\" } stands for the steps of that part file ({ part, description, parameters, steps }, a path relative to the including file), checked as if written there. A part that declares parameters ({ NAME: \"what it is\" }) uses them as ${part.NAME}, and each include gives every one in with: { NAME: \"value\" } (a value true or false that is the whole string becomes a boolean)."
        ),
    ]

    static func parameterMeaning(_ type: ParameterType) -> String {
        switch type {
        case .string: return "Any text."
        case .int: return "A whole number."
        case .duration: return "500ms, 30s, 10m, 2h."
        case .bool: return "true or false."
        case .path: return "A file or folder path."
        case .argv: return "A command as a JSON array of strings; \"${p}\" as a whole argv element stands for all of them."
        }
    }
}

/// Builds a man page: every text escaped, so a line of --help that starts with ' or . stays text.
struct Roff {
    private(set) var text = ""

    static func escape(_ line: String) -> String {
        var out = line.replacingOccurrences(of: "\\", with: "\\e")
        if out.hasPrefix(".") || out.hasPrefix("'") { out = "\\&" + out }
        return out
    }

    mutating func raw(_ line: String) { text += line + "\n" }
    mutating func header(_ name: String, section: Int, title: String, date: String) {
        raw(".TH \(name) \(section) \"\(date)\" \"zkrunbook \(CLI.version)\" \"\(title)\"")
    }
    mutating func section(_ name: String) { raw(".SH \"\(name)\"") }
    /// Prose: filled by the formatter; template-like \- kept as written by the caller.
    mutating func text(_ prose: String) {
        raw(".PP")
        for line in prose.split(separator: "\n", omittingEmptySubsequences: false) {
            let kept = String(line)
            raw(kept.contains("\\-") ? kept : Self.escape(kept))
        }
    }
    mutating func item(_ tag: String, _ body: String) {
        raw(".TP")
        raw(".B \(Self.escape(tag))")
        raw(Self.escape(body))
    }
    mutating func items(_ table: [(String, String)]) {
        for (tag, body) in table { item(tag, body) }
    }
    mutating func preformatted(_ block: String) {
        raw(".PP")
        raw(".nf")
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) { raw(Self.escape(String(line))) }
        raw(".fi")
    }
}
