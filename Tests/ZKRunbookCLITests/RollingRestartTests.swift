import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Rolling restarts against real ZooKeeper sandboxes, over a real sshd and locally.
@Suite(.serialized, .tags(.realZooKeeper, .ssh, .witness))
struct RollingRestartTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func sandbox(_ workspace: Scratch, nodes: Int = 3, observers: Int = 0) throws -> SandboxEnsemble {
        try zkrunbook.sandbox(workspace, nodes: nodes, observers: observers, firstPort: 26_000)
    }

    func leader(_ ensemble: SandboxEnsemble) throws -> Int {
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let view = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return try #require(view?["leaderID"] as? Int, "no leader: \(status.stdout)")
    }

    func nodeOrder(_ events: [[String: Any]]) -> [Int] {
        events.filter { $0["type"] as? String == "node-started" }.compactMap { $0["node"] as? Int }
    }

    @Test func threeNodesOverSSHFollowersFirstLeaderLastOneElection() throws {
        let workspace = Scratch("rr-ssh")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let file = try ensemble.overSSH(ssh, zkrunbook: zkrunbook)
        let leaderBefore = try leader(ensemble)
        let electionsBefore = ensemble.leaderElections
        let pidsBefore = ensemble.pids
        let witness = try KazooWitness.start(ensemble, in: workspace)

        let started = Date()
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", file, "--json", "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        let shared = Date().timeIntervalSince(started)
        let verdict = try witness.finish()
        print(
            "rolling restart over ssh: kazoo wrote throughout: \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest write gap \(verdict.longestGapMs) ms"
        )
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\n\(run.stderr)")
        let stream = jsonLines(run.stdout)
        let order = nodeOrder(stream)
        #expect(order.count == 3)
        #expect(order.last == leaderBefore, "the leader must be restarted last")
        #expect(Set(order) == [1, 2, 3])
        #expect(ensemble.leaderElections == electionsBefore + 1, "exactly one new leader is elected: when the old leader restarts")
        #expect(zip(pidsBefore, ensemble.pids).allSatisfy { $0 != $1 }, "every server was restarted")
        let remote = stream.filter { $0["type"] as? String == "run-finished" && $0["parentStep"] != nil }
        #expect(remote.count == 3, "each node's agent reported its run back over ssh")
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file])
        #expect(status.status == 0, "\(status.stdout)")

        // The ensemble's own ssh options come first: ControlMaster=no there gives one connection per command.
        let unshared = try ensemble.variant("ensemble-ssh-unshared.json5") { text in
            text = text.replacingOccurrences(of: "/zoo.cfg\" },", with: "/zoo.cfg\", \(ssh.sshBlock) },")
                .replacingOccurrences(of: "\"StrictHostKeyChecking=yes\"]", with: "\"StrictHostKeyChecking=yes\", \"ControlMaster=no\"]")
        }
        let again = Date()
        let separate = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", unshared, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        #expect(separate.status == 0, "\(separate.stdout.suffix(3000))")
        print(String(format: "rolling restart over ssh: %.2f s with shared connections, %.2f s with ControlMaster=no", shared, Date().timeIntervalSince(again)))
    }

    /// What an operator reads by default: one line per step and per node with its outcome and time, the result;
    /// compared, its numbers and ids aside, with the committed snapshot (Tests/fixtures/run-output).
    @Test func theDefaultOutputFitsAScreen() throws {
        let workspace = Scratch("rr-compact")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        // Without reconfig (the sandbox's default), the plan says the leader's restart costs an election, and why.
        let plan = try zkrunbook.run(["plan", "rolling-restart", "--ensemble", ensemble.file], directory: repositoryRoot, timeout: 120)
        #expect(
            plan.stdout.contains("leads, and its restart will cost an election: reconfig cannot hand it off now")
                && plan.stdout.contains("reconfigEnabled is false"), "\(plan.stdout.suffix(3000))")
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count <= 25, "\(lines.count) lines:\n\(run.stdout)")
        for node in 1...3 { #expect(lines.contains { $0.hasPrefix("  node \(node) (127.0.0.1): done in ") }, "\(run.stdout)") }
        #expect(!run.stdout.contains("node 0") && !run.stdout.contains("${"), "\(run.stdout)")
        // Numbers, ids and paths aside, the shape is the committed one.
        func normalized(_ line: String) -> String {
            var text = line.replacingOccurrences(of: ensemble.file, with: "ENSEMBLE").replacingOccurrences(of: ensemble.directory, with: "DIR")
            for (pattern, with) in [(#"\d{8}T\d{6}Z-[a-z-]+-[0-9a-f]{8}"#, "RUN-ID"), (#"\[[0-9a-f]{16}\]"#, "[IDENTITY]"), (#"\d+(\.\d+)?"#, "N")] {
                text = text.replacingOccurrences(of: pattern, with: with, options: .regularExpression)
            }
            return text
        }
        let snapshot = repositoryRoot + "/Tests/fixtures/run-output/rolling-restart.txt"
        let shape = lines.map(normalized).joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["ZKRUNBOOK_UPDATE_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(atPath: (snapshot as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try shape.write(toFile: snapshot, atomically: true, encoding: .utf8)
        }
        #expect(
            shape == (try? String(contentsOfFile: snapshot, encoding: .utf8)),
            "as committed in \(snapshot) (ZKRUNBOOK_UPDATE_SNAPSHOTS=1 rewrites it):\n\(shape)")
    }

    /// -v gives every event, and what it shows ran is what ran: each agent's command with the run's own id.
    @Test func theVerboseOutputShowsTheCommandsAsRun() throws {
        let workspace = Scratch("rr-verbose")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "-v", "--ensemble", ensemble.file, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let runID = try #require(run.stdout.firstMatch(of: /\d{8}T\d{6}Z-rolling-restart-[0-9a-f]{8}/).map { String($0.output) }, "\(run.stdout.prefix(500))")
        #expect(run.stdout.components(separatedBy: "--param lease=\(runID)").count - 1 == 3, "each node's agent given this run's lease")
        #expect(!run.stdout.contains("${run."), "nothing left unresolved in a live run")
        #expect(run.stdout.split(separator: "\n").count > 60, "the detail")
    }

    @Test func fiveNodesWithAnObserverLocally() throws {
        let workspace = Scratch("rr-five")
        let ensemble = try sandbox(workspace, nodes: 5, observers: 1)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let leaderBefore = try leader(ensemble)
        let electionsBefore = ensemble.leaderElections
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--json", "--state-dir", workspace.file("state")], directory: repositoryRoot,
            timeout: 300)
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\n\(run.stderr)")
        let order = nodeOrder(jsonLines(run.stdout))
        #expect(order.first == 5, "the observer goes first")
        #expect(order.last == leaderBefore)
        #expect(order.count == 5)
        #expect(ensemble.leaderElections == electionsBefore + 1)
        #expect(try zkrunbook.run(["status", "--ensemble", ensemble.file]).status == 0)
    }

    @Test func aNodeThatDoesNotComeBackHaltsTheRestart() throws {
        let workspace = Scratch("rr-bad")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let leaderBefore = try leader(ensemble)
        let first = (1...3).first { $0 != leaderBefore }!
        let config = "\(ensemble.directory)/node\(first)/zoo.cfg"
        try (try String(contentsOfFile: config, encoding: .utf8) + "server.9=this-is-not-a-server-line\n").write(
            toFile: config, atomically: true, encoding: .utf8)
        let pidsBefore = ensemble.pids
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--param", "gateTimeout=8s", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 300)
        #expect(run.status == 1, "\(run.stdout.suffix(3000))")
        #expect(run.stdout.contains("node \(first) did not come back"))
        #expect(run.stdout.contains("HALTED: nodes"), "\(run.stdout.suffix(2000))")
        #expect(run.stdout.contains("last lines of \(ensemble.directory)/node\(first)/zookeeper.log"), "the evidence shows the node's log")
        for node in 1...3 where node != first {
            #expect(ensemble.pid(node) == pidsBefore[node - 1], "node \(node) was touched after the halt")
        }
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file])
        #expect(status.status == 1, "quorum is kept: degraded, not lost\n\(status.stdout)")
    }

    /// Another follower frozen (SIGSTOP) while the first restarts: the first serves again, the gate waits on
    /// the frozen one, and the halt names the frozen one with its evidence — not "node 1 failed".
    @Test func aFollowerFrozenDuringAnothersRestartIsTheOneNamed() throws {
        let workspace = Scratch("rr-frozen")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let leaderBefore = try leader(ensemble)
        let followers = (1...3).filter { $0 != leaderBefore }
        // The first follower restarted is the lower id; the other one freezes as that restart begins.
        let (restarted, frozen) = (followers[0], followers[1])
        let frozenPid = try #require(Int32(ensemble.pid(frozen).trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(frozenPid, SIGCONT) }
        let once = workspace.file("froze")
        let written = try String(contentsOfFile: ensemble.file, encoding: .utf8)
        let restart =
            #"restartCommand: ["sh", "-c", "[ -e '\#(once)' ] || { touch '\#(once)'; kill -STOP \#(frozenPid); }; exec \"$0\" \"$@\"", "\#(zkrunbook.path)", "sandbox", "restart", "--dir", "\#(ensemble.directory)", "--node", "${node.id}"],"#
        let file = workspace.file("freezing.json5")
        let lines = written.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix("  restartCommand:") ? "  " + restart : String($0) }
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("kill -STOP"))
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", file, "--param", "gateTimeout=8s", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 300)
        #expect(run.status == 1, "\(run.stdout.suffix(3000))\(run.stderr)")
        #expect(run.stdout.contains("node \(restarted) serves again as"), "\(run.stdout.suffix(3000))")
        #expect(run.stdout.contains("but server \(frozen) (it is"), "\(run.stdout.suffix(3000))")
        #expect(!run.stdout.contains("node \(restarted) failed, but serves again"), "\(run.stdout.suffix(3000))")
        #expect(run.stdout.contains("last lines of \(ensemble.directory)/node\(frozen)/zookeeper.log"), "the frozen server's log: \(run.stdout.suffix(3000))")
    }

    /// A node's events are shown as its agent writes them: while the first node's restart command still
    /// runs (held until the test releases it), the conductor has already printed that node's restart step.
    @Test func aNodesStepsAreShownWhileItsAgentStillWorks() throws {
        let workspace = Scratch("rr-stream")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let (started, release) = (workspace.file("restart-started"), workspace.file("release"))
        let restart =
            #"restartCommand: ["sh", "-c", "touch '\#(started)'; while [ ! -e '\#(release)' ]; do sleep 0.05; done; exec \"$0\" \"$@\"", "\#(zkrunbook.path)", "sandbox", "restart", "--dir", "\#(ensemble.directory)", "--node", "${node.id}"],"#
        let written = try String(contentsOfFile: ensemble.file, encoding: .utf8)
        let lines = written.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix("  restartCommand:") ? "  " + restart : String($0) }
        let file = workspace.file("held.json5")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let run = try zkrunbook.start(["run", "rolling-restart", "-v", "--ensemble", file, "--state-dir", workspace.file("state")], directory: repositoryRoot)
        // Whatever happens below, the held restart is let go and the conductor ends before the sandbox does.
        defer {
            FileManager.default.createFile(atPath: release, contents: nil)
            if (try? run.wait(timeout: 120)) == nil { run.signal(SIGKILL) }
        }
        try poll("the first node's restart command to start", timeout: 120) { FileManager.default.fileExists(atPath: started) }
        // The agent is still running the restart (it waits for the release); its steps so far are printed.
        let shown = run.outputSoFar
        let first = try #require(shown.split(separator: "\n").first { $0.contains("restart: Restart the server with its restart command") })
        #expect(first.contains("node "), "tagged with its node: \(first)")
        #expect(shown.contains("-> ok: 127.0.0.1:"), "the agent's earlier probe step, with its result: \(shown.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: release))
        FileManager.default.createFile(atPath: release, contents: nil)
        try poll("the run to finish", timeout: 300) { run.outputSoFar.contains("result: ") }
        #expect(run.outputSoFar.contains("result: succeeded"), "\(run.outputSoFar.suffix(2000))")
    }

    /// A node that comes back, but not into the ensemble (here: standalone, its server lines gone): the
    /// gate waits for a quorum Mode until its deadline, then says what it saw.
    @Test func aNodeThatComesBackWrongWaitsThenTimesOutClearly() throws {
        let workspace = Scratch("rr-gate")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let leaderBefore = try leader(ensemble)
        let first = (1...3).first { $0 != leaderBefore }!
        let config = "\(ensemble.directory)/node\(first)/zoo.cfg"
        let standalone = try String(contentsOfFile: config, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("server.") }
        try (standalone.joined(separator: "\n") + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        let started = Date()
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--param", "gateTimeout=4s", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 120)
        #expect(run.status == 1)
        #expect(run.stdout.contains(#"mode is "standalone", expected in ["leader", "follower", "observer"]"#), "\(run.stdout.suffix(2000))")
        #expect(run.stdout.contains("gave up after 4."), "the gate says how long it waited")
        #expect(Date().timeIntervalSince(started) < 60)
    }

    @Test func anEnsembleMissingAVoterIsRefusedBeforeAnyStop() throws {
        let workspace = Scratch("rr-refuse")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let leaderBefore = try leader(ensemble)
        let down = (1...3).first { $0 != leaderBefore }!
        #expect(try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", String(down)]).status == 0)
        let pidsBefore = ensemble.pids
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 120)
        #expect(run.status == 3, "\(run.stdout.suffix(2000))")
        #expect(run.stdout.contains("degraded-but-quorate"))
        #expect(run.stdout.contains("server \(down)"), "the refusal names the missing voter")
        #expect(ensemble.pids == pidsBefore, "nothing was stopped")
    }

    @Test func sshDroppedMidRunHaltsAndResumeFinishes() throws {
        let workspace = Scratch("rr-drop")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        // An agent that, while the hold file exists, says where it is and waits before a run (its lease
        // is taken by then): the moment to cut ssh.
        let hold = workspace.write("hold", "")
        let reached = workspace.file("reached")
        let agent = workspace.write(
            "agent.sh",
            "#!/bin/sh\nif [ -e \(hold) ] && [ \"$1\" = run ]; then echo $$ > \(reached); while [ -e \(hold) ]; do sleep 0.05; done; fi\nexec \(zkrunbook.path) \"$@\"\n"
        )
        chmod(agent, 0o755)
        let file = try ensemble.overSSH(ssh, zkrunbook: zkrunbook, agent: agent)
        let running = try zkrunbook.start(["run", "rolling-restart", "--ensemble", file, "--state-dir", workspace.file("state")], directory: repositoryRoot)
        // The shell creates the file before it writes the pid into it: wait for the pid itself.
        var written: Int32?
        try poll("the agent to start over ssh", timeout: 60) {
            written = Int32(((try? String(contentsOfFile: reached, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
            return written != nil
        }
        let agentPID = try #require(written)
        // Cut the connection: kill the sshd processes serving this session (the agent's ancestors).
        var pid = agentPID
        var killed = 0
        while pid > 1, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) {
            let parent = Int32(stat.split(separator: ")").last!.split(separator: " ")[1])!
            let command = String(decoding: FileManager.default.contents(atPath: "/proc/\(parent)/cmdline") ?? Data(), as: UTF8.self)
            if command.hasPrefix("sshd:") && !command.contains("listener") {
                kill(parent, SIGKILL)
                killed += 1
            }
            pid = parent
        }
        kill(agentPID, SIGKILL)
        #expect(killed > 0, "no sshd session process found above the agent")
        let halted = try running.wait(timeout: 60)
        #expect(halted.status == 1, "\(halted.stdout.suffix(2000))")
        #expect(halted.stdout.contains("[ssh-dropped]") || halted.stdout.contains("connection dropped"), "\(halted.stdout.suffix(2000))")
        try FileManager.default.removeItem(atPath: hold)
        let runID = try #require(workspace.runIDs.first)
        let resumed = try zkrunbook.run(["resume", runID, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stdout.suffix(3000))\n\(resumed.stderr)")
        #expect(try zkrunbook.run(["status", "--ensemble", ensemble.file]).status == 0)
    }

    @Test func sigkillThenResumeFinishesAndSigintStopsCleanly() throws {
        let workspace = Scratch("rr-kill")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let leaderBefore = try leader(ensemble)
        let state = workspace.file("state")
        // SIGKILL while the second node passes its gates; resume finishes from there.
        let running = try zkrunbook.start(["run", "rolling-restart", "--ensemble", ensemble.file, "--json", "--state-dir", state], directory: repositoryRoot)
        try poll("the second node's gates", timeout: 120) {
            let stream = jsonLines((try? String(contentsOfFile: running.outputBase + ".out", encoding: .utf8)) ?? "")
            let order = nodeOrder(stream)
            return order.count == 2
                && stream.contains { $0["type"] as? String == "step-started" && $0["step"] as? String == "imok" && $0["node"] as? Int == order[1] }
        }
        running.signal(SIGKILL)
        _ = try running.wait(timeout: 20)
        let runID = try #require(workspace.runIDs.first)
        let resumed = try zkrunbook.run(["resume", runID, "--state-dir", state, "--json"], directory: repositoryRoot, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stdout.suffix(3000))\n\(resumed.stderr)")
        let resumedOrder = nodeOrder(jsonLines(resumed.stdout))
        #expect(resumedOrder.count == 2, "the first node is not restarted again: \(resumedOrder)")
        #expect(resumedOrder.last == leaderBefore)
        #expect(try zkrunbook.run(["status", "--ensemble", ensemble.file]).status == 0)

        // SIGINT during the first node: a clean stop, exit 130, no further node touched.
        let pidsBefore = ensemble.pids
        let second = try zkrunbook.start(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--json", "--param", "soak=30s", "--state-dir", state], directory: repositoryRoot)
        try poll("the soak of the first node", timeout: 120) {
            let out = (try? String(contentsOfFile: second.outputBase + ".out", encoding: .utf8)) ?? ""
            return jsonLines(out).contains { $0["type"] as? String == "step-started" && $0["step"] as? String == "soak" }
        }
        let third = try zkrunbook.run(["run", "rolling-restart", "--ensemble", ensemble.file, "--state-dir", state], directory: repositoryRoot)
        #expect(third.status == 4, "a second concurrent run is refused: \(third.stderr)")
        #expect(third.stderr.contains("another run holds the lock 'rolling-restart-"))
        second.signal(SIGINT)
        let stopped = try second.wait(timeout: 60)
        #expect(stopped.status == 130)
        #expect(ensemble.pids.filter { !pidsBefore.contains($0) }.count == 1, "exactly one server was restarted before the stop")
        #expect(try zkrunbook.run(["status", "--ensemble", ensemble.file]).status == 0)
    }
}
