import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The faults a new user found at the edges: a second conductor, a partial view, a locked-down server,
/// a conductor that dies under its agent. Real sandboxes, a real sshd, a real client writing throughout.
@Suite(.serialized, .tags(.realZooKeeper, .ssh, .witness))
struct EdgeSafetyTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func sandbox(_ workspace: Scratch, extra: [String] = []) throws -> SandboxEnsemble {
        try zkrunbook.sandbox(workspace, extra: extra, firstPort: 23_000)
    }

    func runID(in output: String) -> String? {
        jsonLines(output).first { $0["type"] as? String == "run-started" }?["runID"] as? String
    }

    /// Two conductors on one ensemble, with other spellings of the ensemble file and other state
    /// directories, the second started while the first is between nodes: the second is refused with
    /// exit 4 naming the holder, and the servers never have two nodes down at once.
    @Test func aSecondConductorIsRefusedWhereverItStarts() throws {
        let workspace = Scratch("edge-two")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let file = try ensemble.overSSH(ssh, zkrunbook: zkrunbook)
        // The same members in a copy elsewhere (as on a second machine), and the same file spelt otherwise.
        let copy = workspace.file("elsewhere/ensemble.json5")
        try FileManager.default.createDirectory(atPath: workspace.file("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: file, toPath: copy)
        let respelt = ensemble.directory + "/./" + (file as NSString).lastPathComponent

        let witness = try KazooWitness.start(ensemble, in: workspace)
        let counter = DownCounter(ports: (1...3).map(ensemble.clientPort))
        let first = try zkrunbook.start(
            ["run", "rolling-restart", "--ensemble", file, "--json", "--param", "soak=3s", "--state-dir", workspace.file("state-a")],
            directory: repositoryRoot)
        // Mid-roll, between nodes: the first node restarted and passed its gates, the ensemble healthy.
        try poll("the first conductor to finish a node", timeout: 120) {
            jsonLines(first.outputSoFar).contains { $0["type"] as? String == "step-started" && $0["step"] as? String == "soak" }
        }
        let holder = try #require(runID(in: first.outputSoFar))
        let second = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", respelt, "--state-dir", workspace.file("state-b")], directory: repositoryRoot, timeout: 120)
        let third = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", copy], directory: repositoryRoot,
            environment: ["ZKRUNBOOK_STATE_DIR": workspace.file("state-c"), "HOME": workspace.file("home-c")], timeout: 120)
        let done = try first.wait(timeout: 300)
        let down = counter.stop()
        let verdict = try witness.finish()
        print(
            "two conductors: the first exit \(done.status); the second \(second.status), the third \(third.status); at most \(down.maxDown) of 3 servers down at once over \(down.samples) samples; kazoo: \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest write gap \(verdict.longestGapMs) ms"
        )

        #expect(done.status == 0, "\(done.stdout.suffix(3000))")
        for other in [second, third] {
            #expect(other.status == 4, "\(other.stdout.suffix(2000))\n\(other.stderr)")
            #expect(other.stdout.contains("leased to run \(holder)"), "the holder is named: \(other.stdout.suffix(1500))")
            #expect(other.stdout.contains("by pid \(first.pid) on "), "with its pid and host")
            #expect(other.stdout.contains("since 20"), "and since when")
        }
        #expect(down.maxDown == 1, "never two servers down at once (the counter saw \(down.samplesWithADownNode) samples with one down)")
        #expect(down.samplesWithADownNode > 0, "the counter saw the restarts")
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(verdict.acked > 20)
        // The lease is gone with its run: nothing is left held.
        let leases = try zkrunbook.run(["lease", "show", "--ensemble", file])
        #expect(leases.status == 0)
        #expect(leases.stdout.components(separatedBy: ": free").count - 1 == 3, "\(leases.stdout)")
    }

    /// ZooKeeper's default whitelist (srvr only) and no AdminServer: the gates cannot be evaluated, so
    /// the run is refused before anything is touched, with the fix; no election happens.
    @Test func aLockedDownServerIsRefusedBeforeAnyRestart() throws {
        let workspace = Scratch("edge-whitelist")
        let ensemble = try sandbox(workspace, extra: ["--four-letter-words", "default"])
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let file = try ensemble.variant("ensemble-no-admin.json5") { text in
            text = text.replacingOccurrences(of: #"adminPort: \d+, "#, with: "", options: .regularExpression)
        }
        let pidsBefore = ensemble.pids
        let electionsBefore = ensemble.leaderElections
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", file, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 120)
        #expect(run.status == 3, "\(run.stdout.suffix(3000))")
        // The members come from /zookeeper/config through the client protocol, which no whitelist limits: conf
        // is not needed; ruok and mntr, which the gates poll, are.
        #expect(run.stdout.contains("refuses ruok, mntr (no adminPort is given to ask instead)"), "\(run.stdout.suffix(3000))")
        let status = try zkrunbook.run(["status", "--ensemble", file])
        #expect(status.stdout.contains("scope: whole"), "\(status.stdout)")
        #expect(run.stdout.contains("add 4lw.commands.whitelist=srvr,ruok,mntr,conf to zoo.cfg"))
        #expect(run.stdout.contains("refused before any change"))
        #expect(ensemble.pids == pidsBefore, "no server was restarted")
        #expect(ensemble.leaderElections == electionsBefore, "no election happened")
        // With the AdminServer the same gates are evaluable: the plan passes its preflight.
        let plan = try zkrunbook.run(["plan", "rolling-restart", "--ensemble", ensemble.file], directory: repositoryRoot, timeout: 120)
        #expect(plan.stdout.contains("preflight passed"), "\(plan.stdout.prefix(3000))")
    }

    /// A node whose ssh does not answer is found before the first restart, not after the others.
    @Test func anUnreachableNodeIsFoundBeforeTheFirstRestart() throws {
        let workspace = Scratch("edge-ssh")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let closedPort = 1 + ssh.port % 1000
        let file = try ensemble.variant("ensemble-ssh-broken.json5") { text in
            var lines = text.components(separatedBy: "\n")
            for index in lines.indices where lines[index].contains("/zoo.cfg\" },") {
                let block =
                    lines[index].contains("node3/") ? ssh.sshBlock.replacingOccurrences(of: "port: \(ssh.port)", with: "port: \(closedPort)") : ssh.sshBlock
                lines[index] = lines[index].replacingOccurrences(of: "/zoo.cfg\" },", with: "/zoo.cfg\", \(block) },")
            }
            text = lines.joined(separator: "\n")
        }
        let pidsBefore = ensemble.pids
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", file, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 120)
        #expect(run.status == 3, "\(run.stdout.suffix(3000))")
        #expect(run.stdout.contains("node 3 (127.0.0.1, over ssh to root@127.0.0.1:\(closedPort)) cannot be reached"), "\(run.stdout.suffix(2000))")
        #expect(ensemble.pids == pidsBefore, "no server was restarted")
        let leases = try zkrunbook.run(["lease", "show", "--ensemble", ensemble.file])
        #expect(leases.stdout.components(separatedBy: ": free").count - 1 == 3, "all or nothing: the leases taken were given back\n\(leases.stdout)")
    }

    /// A follower checked alone is a partial view that proves a quorum, not an outage; a file that lacks
    /// members is named and refused for a change.
    @Test func aFollowerAloneIsNotAnOutage() throws {
        let workspace = Scratch("edge-follower")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let view = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let leader = try #require(view?["leaderID"] as? Int)
        let follower = (1...3).first { $0 != leader }!
        let endpoint = "127.0.0.1:\(ensemble.clientPort(follower))"

        let alone = try zkrunbook.run(["status", "--server", endpoint])
        #expect(alone.status == 0, "\(alone.stdout)")
        #expect(alone.stdout.contains("verdict: healthy, scope: partial"), "\(alone.stdout)")
        #expect(!alone.stdout.contains("no-quorum"))
        #expect(alone.stdout.contains("a leader with a quorum exists"))
        let doctor = try zkrunbook.run(["doctor", "--server", endpoint, "--state-dir", workspace.file("state")])
        #expect(doctor.status == 0, "\(doctor.stdout)")
        #expect(!doctor.stdout.contains("CRITICAL"))
        let bundle = try zkrunbook.run(
            [
                "collect", "--zoo-cfg", ensemble.zooCfg(follower), "--log-dir", "\(ensemble.directory)/node\(follower)", "--output", workspace.file("bundle"),
                "--state-dir", workspace.file("state"),
            ],
            directory: repositoryRoot, timeout: 120)
        #expect(bundle.status == 0, "\(bundle.stdout.suffix(1500))")
        let archive = try #require(((try? FileManager.default.contentsOfDirectory(atPath: workspace.file("bundle"))) ?? []).first { $0.hasSuffix(".tar.gz") })
        let report = try ZKRunbookBinary(path: "/bin/sh").run(["-c", "tar -xzOf '\(workspace.file("bundle"))/\(archive)' --wildcards '*/report.md'"])
        #expect(report.status == 0)
        #expect(!report.stdout.contains("cannot elect a leader"), "\(report.stdout)")

        // An ensemble file without the leader: named, never "no quorum"; a change is refused.
        let lacking = try ensemble.variant("ensemble-no-leader.json5") { text in
            text = text.components(separatedBy: "\n").filter { !$0.contains("{ id: \(leader),") && !$0.contains("/node\(leader)/zookeeper.log") }.joined(
                separator: "\n")
        }
        let partial = try zkrunbook.run(["status", "--ensemble", lacking])
        #expect(partial.status == 0, "\(partial.stdout)")
        #expect(partial.stdout.contains("server \(leader) (127.0.0.1, participant) is a member as the servers report it, but it is not in the list given"))
        let pidsBefore = ensemble.pids
        let refused = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", lacking, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 120)
        #expect(refused.status == 3, "\(refused.stdout.suffix(2000))")
        #expect(refused.stdout.contains("the membership is not as written (partial view)"), "\(refused.stdout.suffix(2000))")
        #expect(ensemble.pids == pidsBefore)
    }

    /// The conductor SIGKILLed while its agent restarts a node over ssh: the agent learns of it (its
    /// stdin closes), stops before the server is touched, and resume finishes the run.
    @Test func anAgentStopsWithItsConductor() throws {
        let workspace = Scratch("edge-orphan")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let hold = workspace.write("hold", "")
        let reached = workspace.file("reached")
        // The restart waits (long) while the hold file exists: the moment to kill the conductor.
        let slowRestart = workspace.write(
            "slow-restart.sh",
            "#!/bin/sh\nif [ -e \(hold) ]; then echo $$ > \(reached); sleep 120; fi\nexec \(zkrunbook.path) sandbox restart --dir \(ensemble.directory) --node \"$1\"\n"
        )
        chmod(slowRestart, 0o755)
        let file = try ensemble.overSSH(ssh, zkrunbook: zkrunbook)
        let slowFile = workspace.file("ensemble-slow.json5")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let restartLine = try #require(text.components(separatedBy: "\n").first { $0.contains("restartCommand:") })
        try text.replacingOccurrences(of: restartLine, with: "  restartCommand: [\"\(slowRestart)\", \"${node.id}\"],")
            .write(toFile: slowFile, atomically: true, encoding: .utf8)
        let pidsBefore = ensemble.pids
        let conductor = try zkrunbook.start(
            ["run", "rolling-restart", "--ensemble", slowFile, "--json", "--state-dir", workspace.file("state")], directory: repositoryRoot)
        // The shell creates the file before it writes the pid into it: wait for the pid itself.
        var written: Int32?
        try poll("the agent to reach the restart", timeout: 120) {
            written = Int32(((try? String(contentsOfFile: reached, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
            return written != nil
        }
        let restartPID = try #require(written)
        conductor.signal(SIGKILL)
        _ = try conductor.wait(timeout: 30)
        let started = Date()
        try poll("the agent's restart to be stopped after its conductor died", timeout: 60) { kill(restartPID, 0) != 0 }
        let stoppedAfter = Date().timeIntervalSince(started)
        print("orphaned agent: its restart command stopped \(String(format: "%.1f", stoppedAfter)) s after the conductor was killed")
        try poll("no restart-node agent left", timeout: 30) { agentsRunning(in: ensemble.directory).isEmpty }
        #expect(ensemble.pids == pidsBefore, "no server was restarted by the orphaned agent")

        try FileManager.default.removeItem(atPath: hold)
        let runID = try #require(workspace.runIDs.first)
        let resumed = try zkrunbook.run(["resume", runID, "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stdout.suffix(3000))\n\(resumed.stderr)")
        #expect(zip(pidsBefore, ensemble.pids).allSatisfy { $0 != $1 }, "every server restarted once the run was resumed")
    }

    /// `run --once KEY`: a request that already succeeded on the node is reported again, not repeated.
    @Test func theSameRequestTwiceRestartsOnce() throws {
        let workspace = Scratch("edge-once")
        let ensemble = try sandbox(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let restart = "[\"\(zkrunbook.path)\", \"sandbox\", \"restart\", \"--dir\", \"\(ensemble.directory)\", \"--node\", \"1\"]"
        let arguments = [
            "run", "restart-node", "--json", "--once", "conductor-run.restart.node1", "--state-dir", workspace.file("node-state"),
            "--param", "clientPort=\(ensemble.clientPort(1))", "--param", "restartCommand=\(restart)",
        ]
        let before = ensemble.pid(1)
        let first = try zkrunbook.run(arguments, directory: repositoryRoot, timeout: 120)
        #expect(first.status == 0, "\(first.stdout.suffix(2000))")
        let afterFirst = ensemble.pid(1)
        #expect(afterFirst != before)
        let again = try zkrunbook.run(arguments, directory: repositoryRoot, timeout: 120)
        #expect(again.status == 0)
        #expect(again.stdout.contains("already done by run"), "\(again.stdout)")
        #expect(ensemble.pid(1) == afterFirst, "not restarted a second time")
    }
}

/// Pids of restart-node agents whose state directory is inside `directory`.
func agentsRunning(in directory: String) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry in
        guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
        let words = String(decoding: data, as: UTF8.self).split(separator: "\u{0}")
        guard words.contains("restart-node"), words.contains(where: { $0.hasPrefix(directory) }) else { return nil }
        return pid
    }
}

/// Small faults, each seen by a new user.
struct SmallFaultTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    @Test func aClosedPipeEndsQuietly() throws {
        for command in ["--help", "list --actions", "lease --help"] {
            let result = try ZKRunbookBinary(path: "/bin/bash").run([
                "-c", "set -o pipefail; '\(zkrunbook.path)' \(command) | head -c 1 >/dev/null; echo \"status ${PIPESTATUS[0]}\"",
            ])
            #expect(!result.stderr.contains("crashed") && !result.stderr.contains("Fatal error"), "\(command): \(result.stderr)")
            #expect(result.stdout.contains("status 0") || result.stdout.contains("status 141"), "\(command): \(result.stdout)")
        }
    }

    @Test func doctorWithLogsThatMatchNothingIsAnError() throws {
        let workspace = Scratch("doctor-nothing")
        let missing = try zkrunbook.run(["doctor", "--logs", workspace.file("nope")])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no such file or folder"))
        try FileManager.default.createDirectory(atPath: workspace.file("empty"), withIntermediateDirectories: true)
        let empty = try zkrunbook.run(["doctor", "--logs", workspace.file("empty")])
        #expect(empty.status == 2)
        #expect(empty.stderr.contains("holds no ZooKeeper log"))
    }

    @Test func aMisspeltFactIsRejectedByValidate() throws {
        let workspace = Scratch("fact-name")
        let path = workspace.write(
            "bad.json5",
            """
            { name: "bad", description: "a misspelt fact", steps: [
              { id: "gate", description: "wait", action: "wait-until",
                with: { probe: "zk-probe", with: { server: "127.0.0.1:2181" }, fact: "isServing", equals: true } },
            ]}
            """)
        let result = try zkrunbook.run(["validate", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path):3:74: error: probe 'zk-probe' yields no fact 'isServing'"), "\(result.stderr)")
        #expect(result.stderr.contains("did you mean 'serving'?"))
    }

    @Test func aBadEnsembleFileIsAUsageError() throws {
        let workspace = Scratch("bad-ensemble")
        let duplicate = workspace.write("dup.json5", "{ name: \"d\", nodes: [{ id: 1, host: \"a\" }, { id: 1, host: \"b\" }] }\n")
        let run = try zkrunbook.run(["run", "rolling-restart", "--ensemble", duplicate], directory: repositoryRoot)
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(duplicate):1:44: error: node id 1 appears twice"), "\(run.stderr)")
        let missing = try zkrunbook.run(["run", "rolling-restart", "--ensemble", workspace.file("none.json5")], directory: repositoryRoot)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read the ensemble file: no such file"), "\(missing.stderr)")
        // An offline plan touches nothing: a CI job may plan against a production path that is not on its machine.
        let offline = try zkrunbook.run(["plan", "rolling-restart", "--offline", "--ensemble", "/etc/zkrunbook/none.json5"], directory: repositoryRoot)
        #expect(offline.status == 0, "\(offline.stdout)\(offline.stderr)")
        #expect(offline.stdout.contains("ensemble=/etc/zkrunbook/none.json5"), "\(offline.stdout)")
        let offlineBad = try zkrunbook.run(["plan", "rolling-restart", "--offline", "--ensemble", duplicate], directory: repositoryRoot)
        #expect(offlineBad.status == 2, "a file that is there must still be valid")
    }

    /// A bundle written to a full disk leaves nothing under its final name, and says so plainly.
    @Test func aFullDiskLeavesNoTruncatedBundle() throws {
        let workspace = Scratch("bundle-full")
        let mountPoint = workspace.file("full")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try ZKRunbookBinary(path: "/bin/mount").run(["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint])
        guard mount.status == 0 else {
            throw HarnessError(message: "cannot mount a small tmpfs (the test needs root): \(mount.stderr)")
        }
        defer { _ = try? ZKRunbookBinary(path: "/bin/umount").run([mountPoint]) }
        let logs = workspace.file("logs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var noise = ""
        for index in 0..<20_000 { noise += "2026-12-02 10:00:00,000 [main] INFO org.apache.zookeeper.Line \(index) \(UInt64.random(in: 0...UInt64.max))\n" }
        workspace.write("logs/zookeeper.log", noise)
        let config = workspace.write("zoo.cfg", "tickTime=2000\ndataDir=\(workspace.file("data"))\nclientPort=1\n")
        let result = try zkrunbook.run(
            ["collect", "--zoo-cfg", config, "--log-dir", logs, "--output", mountPoint, "--state-dir", workspace.file("state")], directory: repositoryRoot,
            timeout: 120)
        #expect(result.status == 1, "\(result.stdout.suffix(1500))")
        #expect(result.stdout.contains("is full (No space left on device): the bundle was not written"), "\(result.stdout.suffix(1500))")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: mountPoint)) ?? ["?"]
        #expect(left.isEmpty, "nothing left behind: \(left)")
    }

    @Test func relativePathsMeanTheWorkingDirectory() throws {
        let workspace = Scratch("relative")
        try FileManager.default.createDirectory(atPath: workspace.file("conf"), withIntermediateDirectories: true)
        workspace.write("conf/zoo.cfg", "tickTime=2000\ndataDir=data\nclientPort=1\n")
        let result = try zkrunbook.run(
            ["collect", "--zoo-cfg", "conf/zoo.cfg", "--output", "out", "--state-dir", "state"], directory: workspace.path,
            environment: ["ZKRUNBOOK_RUNBOOK_PATH": repositoryRoot + "/runbooks"], timeout: 120)
        #expect(result.status == 0, "\(result.stdout.suffix(1500))\n\(result.stderr)")
        #expect(result.stdout.contains("wrote \(workspace.path)/out/"), "\(result.stdout.suffix(1500))")
        let archives = ((try? FileManager.default.contentsOfDirectory(atPath: workspace.file("out"))) ?? []).filter { $0.hasSuffix(".tar.gz") }
        #expect(archives.count == 1)
    }
}
