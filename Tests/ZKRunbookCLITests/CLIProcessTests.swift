import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The zkrunbook binary end to end: exit codes, signals, resume after SIGKILL, the lock, JSON output.
@Suite(.serialized)
struct CLIProcessTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    /// A step appending NAME to the log, undone by appending undo-NAME.
    static func loggingStep(_ name: String, log: String) -> String {
        """
        { id: "\(name)", description: "\(name)", action: "exec", with: { argv: ["/bin/sh", "-c", "echo \(name) >> \(log)"] },
          rollback: [{ description: "undo \(name)", action: "exec", with: { argv: ["/bin/sh", "-c", "echo undo-\(name) >> \(log)"] } }] },
        """
    }

    /// one, two, then a step that logs "wait" and blocks while `gate` exists, then three.
    static func blockingRunbook(log: String, gate: String, marker: String = "zkr-blocker") -> String {
        """
        { name: "blocking", steps: [
          \(loggingStep("one", log: log))
          \(loggingStep("two", log: log))
          { id: "wait", description: "blocks while the gate exists", action: "exec", timeout: "2m",
            with: { argv: ["/bin/bash", "-c", "echo wait >> \(log); while [ -e \(gate) ]; do sleep 0.05; done", "\(marker)"] } },
          \(loggingStep("three", log: log))
        ] }
        """
    }

    /// From a folder that is not the repository: the build tree's binary finds the repository's runbooks, `list`
    /// says where it looked and shows what an operator runs (the node side with --all), and a misspelt name
    /// gets the nearest one.
    @Test func runbooksAreFoundWhereverTheBinaryIsRunFrom() throws {
        let list = try zkrunbook.run(["list"], directory: "/", environment: ["ZKRUNBOOK_RUNBOOK_PATH": ""])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("runbooks from: ./runbooks, \(repositoryRoot)/runbooks"), "\(list.stdout.prefix(400))")
        #expect(list.stdout.contains("  rolling-restart ") && list.stdout.contains("[needs --param ensemble=…]"), "\(list.stdout)")
        #expect(!list.stdout.contains("  restart-node ") && list.stdout.contains("node-side runbook(s) that agents run"), "\(list.stdout)")
        let all = try zkrunbook.run(["list", "--all"], directory: "/", environment: ["ZKRUNBOOK_RUNBOOK_PATH": ""])
        #expect(all.stdout.contains("  restart-node ") && all.stdout.contains("\(repositoryRoot)/runbooks/restart-node.json5"), "\(all.stdout)")
        let validate = try zkrunbook.run(["validate", "rolling-restart"], directory: "/", environment: ["ZKRUNBOOK_RUNBOOK_PATH": ""])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let misspelt = try zkrunbook.run(["plan", "rolling-restat"], directory: "/", environment: ["ZKRUNBOOK_RUNBOOK_PATH": ""])
        #expect(misspelt.status == 2 && misspelt.stderr.contains("did you mean 'rolling-restart'?"), "\(misspelt.stderr)")
        #expect(misspelt.stderr.contains("ZKRUNBOOK_RUNBOOK_PATH"), "the error says how to set the folders: \(misspelt.stderr)")
    }

    @Test func versionAndHelpOnEverySubcommand() throws {
        let version = try zkrunbook.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("zkrunbook "))
        for command in ["list", "validate", "plan", "run", "resume"] {
            let help = try zkrunbook.run([command, "--help"])
            #expect(help.status == 0, "\(command) --help")
            #expect(help.stdout.contains("Usage: zkrunbook \(command)"), "\(command) --help")
        }
        // Every subcommand the binary lists (what shell completion offers) has its own help.
        let commands = try zkrunbook.run(["--commands"]).stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-") }
        #expect(commands.count >= 12 && commands.contains("identity"), "\(commands)")
        for command in commands {
            let help = try zkrunbook.run([command, "--help"])
            #expect(help.status == 0 && help.stdout.contains("Usage: zkrunbook \(command)"), "\(command) --help: \(help.stdout.prefix(200))")
        }
        let runHelp = try zkrunbook.run(["run", "--help"])
        #expect(runHelp.stdout.contains("130  interrupted"))
        let bad = try zkrunbook.run(["run", "x", "--dryrun"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown option --dryrun; did you mean --dry-run?"))
        let unknown = try zkrunbook.run(["rnu"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("did you mean 'run'?"))
    }

    @Test func validateGivesFileLineColumnAndExit2() throws {
        let workspace = Scratch("validate")
        let bad = workspace.write(
            "bad.json5",
            """
            {
              name: "bad",
              steps: [
                { id: "a", description: "d", action: "exec", with: { argv: ["true"] }, tiemout: "5s" },
                { id: "a", description: "d", action: "sleep", with: { duration: "10 parsecs" } },
              ],
            }
            """)
        let result = try zkrunbook.run(["validate", bad])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(bad):4:76: error: unknown key 'tiemout' in step 'a'; did you mean 'timeout'?"), "\(result.stderr)")
        #expect(result.stderr.contains("\(bad):5:5: error: duplicate step id 'a'"), "\(result.stderr)")
        #expect(result.stderr.contains("\(bad):5:69: error: 'duration' in the 'with' of step 'a': expected a duration"), "\(result.stderr)")
        let syntax = workspace.write("syntax.json5", "{ name: 'x',\n  steps: [ { id: 'a' } \n")
        let syntaxResult = try zkrunbook.run(["validate", syntax])
        #expect(syntaxResult.status == 2)
        #expect(syntaxResult.stderr.contains("\(syntax):3:1: error: unterminated array"), "\(syntaxResult.stderr)")
        let shipped = try zkrunbook.run(["validate", repositoryRoot + "/runbooks"])
        #expect(shipped.status == 0, "\(shipped.stderr)")
    }

    @Test func badParametersExit2AndRunNothing() throws {
        let workspace = Scratch("params")
        let marker = workspace.file("ran")
        let runbook = workspace.write(
            "p.json5",
            """
            { name: "p", parameters: { wait: { type: "duration", default: "1s" } },
              steps: [{ id: "a", description: "d", action: "exec", with: { argv: ["touch", "\(marker)"] } }] }
            """)
        let unknown = try zkrunbook.run(["run", runbook, "--param", "wiat=5s", "--state-dir", workspace.file("state")])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown parameter 'wiat' for runbook 'p'; did you mean 'wait'?"))
        let parsecs = try zkrunbook.run(["run", runbook, "--param", "wait=10 parsecs", "--state-dir", workspace.file("state")])
        #expect(parsecs.status == 2)
        #expect(parsecs.stderr.contains("parameter 'wait': expected a duration such as 500ms"))
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(workspace.runIDs.isEmpty)
    }

    @Test func sigintMidStepStopsItRollsBackInReverseAndExits130() throws {
        let workspace = Scratch("sigint")
        let log = workspace.file("log")
        let gate = workspace.write("gate", "")
        let marker = "zkr-sigint-\(getpid())"
        let runbook = workspace.write("r.json5", Self.blockingRunbook(log: log, gate: gate, marker: marker))
        let running = try zkrunbook.start(["run", runbook, "--state-dir", workspace.file("state")])
        try poll("the blocking step to start") { workspace.text("log").contains("wait") }
        running.signal(SIGINT)
        let result = try running.wait(timeout: 20)
        #expect(result.status == 130, "\(result.stdout)\n\(result.stderr)")
        #expect(workspace.text("log") == "one\ntwo\nwait\nundo-two\nundo-one\n")
        #expect(processes(named: "/bin/bash", commandLineContaining: marker).isEmpty, "the interrupted step's process is still running")
        let journal = workspace.text("state/runs/\(workspace.runIDs[0])/journal.jsonl")
        #expect(journal.contains(#""status":"interrupted""#))
        #expect(result.stdout.contains("interrupted by SIGINT"))
    }

    @Test func sigkillThenResumeFinishesTheRun() throws {
        let workspace = Scratch("sigkill")
        let log = workspace.file("log")
        let gate = workspace.write("gate", "")
        let runbook = workspace.write("r.json5", Self.blockingRunbook(log: log, gate: gate))
        let running = try zkrunbook.start(["run", runbook, "--state-dir", workspace.file("state")])
        try poll("the blocking step to start") { workspace.text("log").contains("wait") }
        running.signal(SIGKILL)
        _ = try running.wait(timeout: 10)
        try FileManager.default.removeItem(atPath: gate)
        let runID = try #require(workspace.runIDs.first)
        let resumed = try zkrunbook.run(["resume", runID, "--state-dir", workspace.file("state")])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming at step 3/4 'wait'; 2 step(s) already done"))
        #expect(workspace.text("log").hasPrefix("one\ntwo\nwait\n"))
        #expect(workspace.text("log").hasSuffix("wait\nthree\n"))
        #expect(workspace.text("log").components(separatedBy: "one\n").count == 2, "step one ran twice")
        let again = try zkrunbook.run(["resume", runID, "--state-dir", workspace.file("state")])
        #expect(again.status == 2)
        #expect(again.stderr.contains("cannot be resumed: it finished successfully"))
    }

    @Test func aSecondConcurrentRunIsRefusedWithExit4() throws {
        let workspace = Scratch("lock")
        let log = workspace.file("log")
        let gate = workspace.write("gate", "")
        let runbook = workspace.write("r.json5", Self.blockingRunbook(log: log, gate: gate))
        let first = try zkrunbook.start(["run", runbook, "--state-dir", workspace.file("state")])
        try poll("the first run to hold the lock") { workspace.text("log").contains("wait") }
        let second = try zkrunbook.run(["run", runbook, "--state-dir", workspace.file("state")])
        #expect(second.status == 4)
        #expect(second.stderr.contains("another run holds the lock 'node'"))
        #expect(second.stderr.contains("pid \(first.pid), run \(workspace.runIDs[0])"), "\(second.stderr)")
        try FileManager.default.removeItem(atPath: gate)
        #expect(try first.wait(timeout: 20).status == 0)
        #expect(workspace.runIDs.count == 1, "the refused run left a journal")
    }

    @Test func tenMegabytesOfOutputAndATimedOutProcessTree() throws {
        let workspace = Scratch("output")
        let marker = "zkr-orphan-\(getpid())"
        let runbook = workspace.write(
            "r.json5",
            """
            { name: "o", steps: [
              { id: "chatty", description: "10 MB on stdout", action: "exec", timeout: "30s",
                with: { argv: ["/bin/sh", "-c", "head -c 10485760 /dev/zero | tr '\\\\0' x"], maxOutputBytes: 65536 } },
              { id: "tree", description: "a grandchild that sleeps forever", action: "exec", timeout: "1s",
                with: { argv: ["/bin/bash", "-c", "(exec -a \(marker) sleep 300) & sleep 300"] } },
            ] }
            """)
        let started = Date()
        let result = try zkrunbook.run(["run", runbook, "--json", "--state-dir", workspace.file("state")], timeout: 60)
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 60, "the 300 s sleepers were not torn down")
        let events = jsonLines(result.stdout)
        #expect(events.count == result.stdout.split(separator: "\n").count, "a line of --json output is not JSON")
        #expect(events.allSatisfy { $0["schema"] as? Int == 1 })
        let chatty = events.first { $0["type"] as? String == "step-finished" && $0["step"] as? String == "chatty" }
        #expect(chatty?["status"] as? String == "succeeded")
        #expect((chatty?["facts"] as? [String: Any])?["stdoutBytes"] as? Int == 10_485_760)
        let timeout = events.first { $0["type"] as? String == "attempt-failed" }
        #expect(timeout?["cause"] as? String == "timeout")
        #expect(processes(named: marker).isEmpty, "a grandchild outlived the step's timeout")
        #expect(events.last?["type"] as? String == "run-finished")
    }

    @Test func planShowsTheExactCommandsAndChangesNothing() throws {
        let workspace = Scratch("plan")
        let config = workspace.write("zoo.cfg", "tickTime=2000\nclientPort=2181\n")
        let result = try zkrunbook.run(
            ["plan", "zoo-cfg-set", "--param", "config=\(config)", "--param", "key=4lw.commands.whitelist", "--param", "value=srvr, ruok"],
            directory: repositoryRoot)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("run: grep -Fxc -- '4lw.commands.whitelist=srvr, ruok' \(config)"))
        #expect(result.stdout.contains("rollback: restore-config"))
        #expect(workspace.text("zoo.cfg") == "tickTime=2000\nclientPort=2181\n")
    }

    /// A line break inside a value stays inside its line, shown as \\r and \\n: one event is one line.
    @Test func aLineBreakInAValueIsShownNotPrinted() throws {
        let workspace = Scratch("line-break")
        let runbook = workspace.write(
            "echo.json5",
            """
            { name: "echo", parameters: { note: { type: "string", required: true } },
              steps: [{ id: "say", description: "say ${note}", action: "exec", with: { argv: ["/bin/echo", "${note}"] } }] }
            """)
        let result = try zkrunbook.run(["plan", runbook, "--param", "note=first\r\nsecond"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("parameters: note=first\\r\\nsecond\n"), "\(result.stdout)")
        #expect(result.stdout.contains("say first\\r\\nsecond"), "\(result.stdout)")
        #expect(!result.stdout.split(separator: "\n").contains { $0.hasPrefix("second") }, "\(result.stdout)")
    }

    /// Two files that name the same members, in another order and spelling of host case, are one ensemble.
    @Test func identityIsTheMembersNotThePath() throws {
        let workspace = Scratch("identity")
        let first = workspace.write(
            "a.json5", "{ name: \"a\", nodes: [{ id: 1, host: \"ZK1\" }, { id: 2, host: \"zk2\", clientPort: 2182 }], restartCommand: [\"true\"] }")
        let second = workspace.write(
            "b.json5", "{ name: \"b\", nodes: [{ id: 7, host: \"zk2\", clientPort: 2182 }, { id: 9, host: \"zk1\" }], restartCommand: [\"true\"] }")
        let other = workspace.write("c.json5", "{ name: \"a\", nodes: [{ id: 1, host: \"zk1\" }], restartCommand: [\"true\"] }")
        let result = try zkrunbook.run(["identity", "--ensemble", first, "--ensemble", second, "--ensemble", other, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let ids = jsonLines(result.stdout).compactMap { $0["identity"] as? String }
        #expect(ids.count == 3 && ids[0] == ids[1] && ids[0] != ids[2], "\(result.stdout)")
        let missing = try zkrunbook.run(["identity", "--ensemble", workspace.file("none.json5")])
        #expect(missing.status == 2)
    }

    /// An agent (stdin held by its conductor) SIGKILLed while its step's command runs: the command's whole
    /// process group ends with it (the sentinel), not only once someone notices the orphan. A grandchild
    /// that ignores SIGTERM is SIGKILLed after the grace.
    @Test func aKilledAgentsCommandDiesWithIt() throws {
        let workspace = Scratch("killed-agent-orphan")
        let pids = workspace.file("pids")
        let runbook = workspace.file("long.json5")
        try """
        { name: "long", steps: [
          { id: "restart", description: "a restart that takes long", action: "exec", timeout: "10m",
            with: { argv: ["/bin/sh", "-c", "sleep 300 & echo $! >> \(pids); (trap '' TERM; exec sleep 301) & echo $! >> \(pids); wait"] } },
        ]}
        """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let agent = try zkrunbook.start(
            ["run", runbook, "--stop-when-stdin-closes", "--state-dir", workspace.file("state")], holdStandardInput: true)
        func started() -> [Int32] {
            ((try? String(contentsOfFile: pids, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        }
        try poll("the step's two sleeps started", timeout: 30) { started().count == 2 }
        let children = started()
        #expect(children.allSatisfy { kill($0, 0) == 0 })
        agent.signal(SIGKILL)
        _ = try agent.wait(timeout: 10)
        /// Gone, or a zombie waiting for init to reap it.
        func gone(_ pid: Int32) -> Bool {
            guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).first == "Z"
        }
        try poll("both sleeps gone after their agent was killed", timeout: 20) { children.allSatisfy(gone) }
    }
}
