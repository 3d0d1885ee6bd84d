import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One run per ensemble for every runbook that changes it, on real servers: a second conductor started from
/// a copy of the ensemble file with other state folders is refused before it changes anything, naming the
/// first; a run whose journal cannot be written stops before its next change.
@Suite(.serialized, .tags(.realZooKeeper))
struct FenceTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    /// A rolling restart holds its first node stopped (its restart command stops it, then waits for a file);
    /// meanwhile remove-server, a second rolling restart, restore, purge, dc-failover and dc-restore, from a copy of the file whose nodes name other
    /// stateDirs and with another --state-dir, are refused at the lease before any check could call the
    /// ensemble "degraded": exit 4, naming the first run; neither changed anything. The first then completes;
    /// kazoo loses no write.
    @Test func aSecondConductorFromACopyWithOtherStateFoldersIsRefusedBeforeAnyChange() throws {
        let workspace = Scratch("fence")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--reconfig"], firstPort: 25_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let go = workspace.file("go")
        let held = try ensemble.variant(
            "ensemble-held.json5",
            restartCommand: [
                "sh", "-c",
                "\"$0\" sandbox stop --dir \"$1\" --node \"$3\" && touch \"$2.stopped\" && while [ ! -e \"$2\" ]; do sleep 0.05; done; exec \"$0\" sandbox start --dir \"$1\" --node \"$3\"",
                zkrunbook.path,
                ensemble.directory, go, "${node.id}",
            ])
        let copy = try ensemble.variant("copy-other-state.json5") { text in
            text = text.replacingOccurrences(of: "/state\"", with: "/state-of-another-conductor\"")
        }
        #expect(try String(contentsOfFile: copy, encoding: .utf8).contains("state-of-another-conductor"))
        let witness = try KazooWitness.start(ensemble, in: workspace, name: "witness-fence")

        let first = try zkrunbook.start(
            ["run", "rolling-restart", "--ensemble", held, "--json", "--state-dir", workspace.file("state-a")], directory: repositoryRoot)
        try poll("the first run's lease, and its first node stopped", timeout: 120) {
            first.outputSoFar.contains("\"lease-taken\"") && FileManager.default.fileExists(atPath: go + ".stopped")
        }
        let runID = try #require(jsonLines(first.outputSoFar).first { $0["type"] as? String == "run-started" }?["runID"] as? String)

        // Every runbook that changes an ensemble meets the same lease: membership, data and layout changes too
        // (dc-failover leases only its survivors, here 1 and 2: node 1 is held).
        let seconds: [(String, [String])] = [
            ("remove-server", ["--param", "server=3"]), ("rolling-restart", []),
            ("restore", ["--param", "backup=\(workspace.file("no-backup"))", "--param", "confirm=x"]), ("purge", []),
            ("dc-failover", ["--param", "survivors=1,2"]), ("dc-restore", ["--param", "survivors=1,2"]),
        ]
        for (runbook, extra) in seconds {
            let second = try zkrunbook.run(
                ["run", runbook, "--ensemble", copy, "--json", "--state-dir", workspace.file("state-b")] + extra, directory: repositoryRoot, timeout: 120)
            #expect(second.status == 4, "\(runbook): \(second.stdout.suffix(2000))\n\(second.stderr)")
            let events = jsonLines(second.stdout)
            let finished = events.last { $0["type"] as? String == "run-finished" }
            let message = finished?["message"] as? String ?? ""
            #expect(
                message.contains("before any change") && message.contains("leased to run \(runID)") && message.contains("by pid \(first.pid)"), "\(message)")
            let changing = events.filter { $0["type"] as? String == "attempt-started" && $0["parentStep"] == nil }.compactMap { $0["step"] as? String }
            #expect(changing.isEmpty, "\(runbook) began a step: \(changing)")
        }
        FileManager.default.createFile(atPath: go, contents: nil)
        let done = try first.wait(timeout: 600)
        #expect(done.status == 0, "\(done.stdout.suffix(3000))\n\(done.stderr)")
        let members = try zkrunbook.run(["status", "--ensemble", ensemble.file])
        #expect(members.status == 0 && members.stdout.contains("verdict: healthy"), "server 3 is still a member: \(members.stdout)")
        let verdict = try witness.finish()
        print(
            "fence: second conductors refused while the first held the lease; kazoo: \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest gap \(verdict.longestGapMs) ms"
        )
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")

        // Released at the end: the copy's rolling restart now runs.
        let after = try zkrunbook.run(["lease", "show", "--ensemble", copy])
        #expect(after.status == 0 && after.stdout.components(separatedBy: ": free").count == 4, "\(after.stdout)")
    }

    /// The state folder on a 256 KiB tmpfs: a step whose record (300 KB of output) does not fit fails the
    /// journal; the next changing step never runs, and the run says so. `show` reads the journal; with room
    /// again, `resume` finishes the run.
    @Test func aRunWhoseJournalFillsItsDiskStopsBeforeItsNextChangeAndResumes() throws {
        let workspace = Scratch("journal-full")
        let state = workspace.folder("state")
        let mounted = try ZKRunbookBinary(path: "/bin/mount").run(["-t", "tmpfs", "-o", "size=256k", "tmpfs", state])
        guard mounted.status == 0 else { throw HarnessError(message: "mounting a 256 KiB tmpfs failed (this test needs root): \(mounted.stderr)") }
        defer { _ = try? ZKRunbookBinary(path: "/bin/umount").run([state]) }
        let marker = workspace.file("second-change")
        let runbook = workspace.write(
            "fills.json5",
            """
            {
              name: "fills",
              description: "a change whose record is too large for the state folder, then another change",
              steps: [
                { id: "big", description: "print 300 KB", action: "exec", with: { argv: ["sh", "-c", "head -c 300000 /dev/zero | tr '\\\\0' x"] } },
                { id: "next", description: "a second change", action: "exec", with: { argv: ["touch", "\(marker)"] } },
              ],
            }
            """)
        let run = try zkrunbook.run(["run", runbook, "--state-dir", state], timeout: 60)
        #expect(run.status == 1, "\(run.stdout.suffix(2000))\n\(run.stderr)")
        #expect(run.stdout.contains("the journal cannot be written") && run.stdout.contains("stopped before step 'next'"), "\(run.stdout.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: marker), "the second change ran with no journal")
        let runID = try #require(((try? FileManager.default.contentsOfDirectory(atPath: state + "/runs")) ?? []).first)
        let show = try zkrunbook.run(["show", runID, "--state-dir", state])
        #expect(show.status == 0, "\(show.stdout)\n\(show.stderr)")

        let grown = try ZKRunbookBinary(path: "/bin/mount").run(["-o", "remount,size=4m", state])
        #expect(grown.status == 0, "\(grown.stderr)")
        let resumed = try zkrunbook.run(["resume", runID, "--state-dir", state], timeout: 60)
        #expect(resumed.status == 0, "\(resumed.stdout.suffix(2000))\n\(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: marker))
    }

    /// Every server bound to 127.0.0.2 (every address of its zoo.cfg), nothing on 127.0.0.1: the agents ask each server
    /// where the kernel says it listens, so a rolling restart completes; and a stop command that does not
    /// stop fails the stop instead of passing on a refused 127.0.0.1.
    @Test func serversBoundToAnotherAddressAreCheckedWhereTheyListen() throws {
        let workspace = Scratch("bound")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 25_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        // Client, quorum, election and admin addresses alike: the whole ensemble moved to 127.0.0.2.
        for node in 1...3 {
            let text = try String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)
            try text.replacingOccurrences(of: "127.0.0.1", with: "127.0.0.2").write(toFile: ensemble.zooCfg(node), atomically: true, encoding: .utf8)
            #expect(try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", String(node)], timeout: 60).status == 0)
        }
        for node in 1...3 { #expect(try zkrunbook.run(["sandbox", "start", "--dir", ensemble.directory, "--node", String(node)], timeout: 60).status == 0) }
        let bound = try ensemble.variant("ensemble-bound.json5") { text in
            text = text.replacingOccurrences(of: "host: \"127.0.0.1\"", with: "host: \"127.0.0.2\"")
        }
        try poll("the servers serving on 127.0.0.2", timeout: 90) { (try? zkrunbook.run(["status", "--ensemble", bound]))?.status == 0 }
        #expect(try zkrunbook.run(["status", "--server", "127.0.0.1:\(ensemble.clientPort(1))"]).status != 0, "nothing answers on 127.0.0.1")

        let rolled = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", bound, "--param", "gateTimeout=60s", "--state-dir", workspace.file("state")], directory: repositoryRoot,
            timeout: 400)
        #expect(rolled.status == 0, "\(rolled.stdout.suffix(3000))\n\(rolled.stderr)")

        // A stop command that stops nothing: the wait for "no longer answers" meets the server at 127.0.0.2.
        let leave = try zkrunbook.run(
            [
                "run", "zoo-cfg-leave-node", "--param", "clientPort=\(ensemble.clientPort(3))", "--param", "stopCommand=[\"true\"]",
                "--param", "stopTimeout=3s", "--state-dir", workspace.file("state"),
            ], directory: repositoryRoot, timeout: 60)
        #expect(leave.status != 0, "a stop that did not stop passed: \(leave.stdout.suffix(2000))")
        #expect(ensemble.sandbox.runningNodes() == [1, 2, 3])
    }

    /// Three servers on one host whose agents share one state folder: each node's backup of its files for a
    /// config change is kept per server (config-change/RUN-clientPort), so node 2's is not taken for node 1's
    /// (it was refused: "a failover may be in place").
    @Test func serversSharingOneStateFolderEachKeepTheirOwnRecords() throws {
        let workspace = Scratch("shared-state")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 25_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let shared = workspace.folder("node-state")
        let file = try ensemble.variant("ensemble-shared-state.json5") { text in
            for node in 1...3 { text = text.replacingOccurrences(of: "\(ensemble.directory)/node\(node)/state\"", with: "\(shared)\"") }
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "stateDir: \"\(shared)\"").count == 4)
        let run = try zkrunbook.run(
            ["run", "rolling-config-change", "--ensemble", file, "--param", "set=maxClientCnxns=60", "--state-dir", workspace.file("state")],
            directory: repositoryRoot,
            timeout: 600)
        #expect(run.status == 0, "\(run.stdout.suffix(3000))")
        for node in 1...3 { #expect(try String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8).contains("maxClientCnxns=60")) }
        let kept = (try? FileManager.default.contentsOfDirectory(atPath: shared + "/config-change")) ?? []
        #expect(Set(kept.compactMap { $0.split(separator: "-").last.map(String.init) }) == Set((1...3).map { String(ensemble.clientPort($0)) }), "\(kept)")
    }

    /// add-server 4 (file 1,2,3,4) and add-server 5 (file 1,2,3,5) started 0.3 s apart: one adds its server,
    /// the other is refused before it changes anything, and the membership is exactly the winner's file
    /// (both used to end "rolled-back" with both servers voting).
    @Test func twoAddServersAtOnceAddOneServer() throws {
        let workspace = Scratch("two-adds")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--reconfig", "--spares", "2"], firstPort: 25_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let files = [4: try ensemble.file(listing: [1, 2, 3, 4]), 5: try ensemble.file(listing: [1, 2, 3, 5])]
        let witness = try KazooWitness.start(ensemble, in: workspace, name: "witness-two-adds")
        func start(_ server: Int) throws -> ZKRunbookBinary.Running {
            try zkrunbook.start(
                ["run", "add-server", "--ensemble", files[server]!, "--param", "server=\(server)", "--state-dir", workspace.file("state-\(server)")],
                directory: repositoryRoot)
        }
        let four = try start(4)
        Thread.sleep(forTimeInterval: 0.3)  // the stagger under test, not a wait for readiness
        let five = try start(5)
        let results = [4: try four.wait(timeout: 600), 5: try five.wait(timeout: 600)]
        let winners = results.filter { $0.value.status == 0 }.map(\.key)
        #expect(
            winners.count == 1,
            "4: exit \(results[4]!.status)\n\(results[4]!.stdout.suffix(1500))\n5: exit \(results[5]!.status)\n\(results[5]!.stdout.suffix(1500))")
        guard let winner = winners.first else { return }
        let loser = winner == 4 ? 5 : 4
        let refused = results[loser]!
        #expect([3, 4].contains(refused.status), "\(refused.stdout.suffix(2000))")
        #expect(refused.stdout.contains("before any change"), "\(refused.stdout.suffix(2000))")
        let asWritten = try zkrunbook.run(["status", "--ensemble", files[winner]!])
        #expect(asWritten.status == 0 && asWritten.stdout.contains("verdict: healthy"), "\(asWritten.stdout)")
        #expect(try zkrunbook.run(["status", "--ensemble", files[loser]!]).status != 0, "server \(loser) is no member")
        let verdict = try witness.finish()
        print(
            "two add-servers 0.3 s apart: server \(winner) added, \(loser) refused (exit \(refused.status)); kazoo: \(verdict.acked) writes, \(verdict.lost.count) lost"
        )
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
    }

    /// The first node's agent is SIGKILLed after its restart command ran, while it waits for the server: the
    /// conductor halts. `resume` asks that node again, and its agent continues the killed run from its own
    /// journal at the wait instead of starting over: the node is restarted once, not twice.
    @Test func aResumeAfterAKilledAgentDoesNotRestartItsNodeAgain() throws {
        let workspace = Scratch("killed-agent")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 25_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let counter = workspace.file("restarts")
        let first = workspace.file("first")
        // Every call counted; the first only stops its server (the test starts it again after the kill).
        let file = try ensemble.variant(
            "ensemble-killed.json5",
            restartCommand: [
                "sh", "-c",
                "echo \"$3\" >> \"$1\"; if [ ! -e \"$4\" ]; then \"$0\" sandbox stop --dir \"$2\" --node \"$3\" && echo \"$3\" > \"$4\"; else exec \"$0\" sandbox restart --dir \"$2\" --node \"$3\"; fi",
                zkrunbook.path, counter, ensemble.directory, "${node.id}", first,
            ])
        let state = workspace.file("state")
        let conductor = try zkrunbook.start(
            ["run", "rolling-restart", "--ensemble", file, "--json", "--state-dir", state, "--param", "gateTimeout=60s"], directory: repositoryRoot)
        try poll("the first node stopped by its restart command", timeout: 120) { FileManager.default.fileExists(atPath: first) }
        let node = try #require(Int(try String(contentsOfFile: first, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed while it waits, not while its restart step is still ending: the node's events reach the
        // conductor as the agent writes them, so its journaled end of the restart step is seen first.
        try poll("node \(node)'s restart step journaled as done", timeout: 60) {
            jsonLines(conductor.outputSoFar).contains {
                $0["type"] as? String == "step-finished" && $0["step"] as? String == "restart" && $0["node"] as? Int == node
                    && $0["status"] as? String == "succeeded"
            }
        }
        let agents = processes(commandLineContaining: "clientPort=\(ensemble.clientPort(node))").filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("restart-node")
        }
        #expect(agents.count == 1, "the agent of node \(node): \(agents)")
        for pid in agents { kill(pid, SIGKILL) }
        let halted = try conductor.wait(timeout: 300)
        #expect(halted.status != 0, "\(halted.stdout.suffix(2000))")
        let runID = try #require(jsonLines(halted.stdout).first { $0["type"] as? String == "run-started" }?["runID"] as? String)
        #expect(try zkrunbook.run(["sandbox", "start", "--dir", ensemble.directory, "--node", String(node), "--wait"], timeout: 120).status == 0)

        let resumed = try zkrunbook.run(["resume", runID, "--json", "--state-dir", state], directory: repositoryRoot, timeout: 600)
        #expect(resumed.status == 0, "\(resumed.stdout.suffix(3000))")
        let calls = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(calls.filter { $0 == String(node) }.count == 1, "node \(node) restarted \(calls.filter { $0 == String(node) }.count) times: \(calls)")
        #expect(Set(calls) == Set(["1", "2", "3"]), "\(calls)")
        #expect(jsonLines(resumed.stdout).contains { $0["type"] as? String == "run-resumed" && $0["parentStep"] != nil }, "the node's agent resumed its run")
    }
}
