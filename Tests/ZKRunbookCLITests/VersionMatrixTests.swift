import Foundation
import Testing
import ZKRunbookSandbox
import ZKRunbookTestSupport

/// The same paths on other ZooKeeper versions than Debian's 3.8.0 (which every other suite runs):
/// 3.4.14 (no whitelist, no AdminServer, members only in zoo.cfg), 3.6.3 and 3.9.3.
///
/// Their jars come from packaging/fetch-zookeeper-jars.sh (Tests/run.sh runs it); a missing version
/// fails with what to run, never a silent skip.
@Suite(.serialized, .tags(.realZooKeeper, .witness))
struct VersionMatrixTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    @Test(arguments: ["3.4.14", "3.6.3", "3.9.3"])
    func statusClientRollingRestartAndDoctor(version: String) throws {
        let jars = Sandbox.jarFolder(version)
        guard FileManager.default.fileExists(atPath: jars + "/zookeeper-\(version).jar") else {
            throw HarnessError(message: "no ZooKeeper \(version) jars in \(jars): run bash packaging/fetch-zookeeper-jars.sh \(version)")
        }
        let workspace = Scratch("zk-\(version)")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--zookeeper", jars], firstPort: 28_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }

        // status: every member says it runs this version, and the view is whole (3.4: members from zoo.cfg).
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let view = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(view["verdict"] as? String == "healthy", "\(status.stdout.prefix(2000))")
        let members = view["members"] as? [[String: Any]] ?? []
        let versions = members.compactMap { ($0["facts"] as? [String: Any])?["version"] as? String }
        #expect(versions.count == 3 && versions.allSatisfy { $0.hasPrefix(version) }, "\(versions)")
        let text = try zkrunbook.run(["status", "--ensemble", ensemble.file])
        #expect(text.stdout.contains("scope: whole"), "\(text.stdout)")
        if version.hasPrefix("3.4.") { try membersOf34WithoutZooCfg(ensemble, workspace) }

        // Our client protocol.
        let zk = { (words: [String]) throws -> ZKRunbookBinary.Result in try zkrunbook.run(["zk"] + words + ["--ensemble", ensemble.file]) }
        #expect(try zk(["create", "/matrix", version]).status == 0)
        #expect(try zk(["get", "/matrix"]).stdout == version)
        let config = try zk(["config"])
        if version.hasPrefix("3.4.") {
            #expect(config.status == 1 && config.stderr.contains("before 3.5 keeps its members only in each zoo.cfg"), "\(config.stderr)")
        } else {
            #expect(config.stdout.split(separator: "\n").filter { $0.hasPrefix("server.") }.count == 3, "\(config.stdout)")
        }

        // The rolling restart over a real sshd, a real client writing throughout: followers first, the leader
        // last, nothing lost.
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let overSSH = try ensemble.overSSH(ssh, zkrunbook: zkrunbook)
        let leaderBefore = try #require(view["leaderID"] as? Int)
        let electionsBefore = ensemble.leaderElections
        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", overSSH, "--json", "--param", "soak=1s", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 300)
        let verdict = try witness.finish()
        print(
            "ZooKeeper \(version): rolling restart over ssh exit \(run.status); kazoo: \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest write gap \(verdict.longestGapMs) ms; \(ensemble.leaderElections - electionsBefore) new leader(s)"
        )
        #expect(run.status == 0, "\(run.stdout.suffix(3000))")
        let order = jsonLines(run.stdout).filter { $0["type"] as? String == "node-started" }.compactMap { $0["node"] as? Int }
        #expect(order.count == 3 && order.last == leaderBefore, "\(order)")
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(verdict.acked > 10)
        // On failure, what each server said about elections and its peers: an extra election on a loaded machine
        // (a follower missing syncLimit) reads differently from one a restart caused.
        let electionLines = (1...3).flatMap { node in
            ensemble.log(node).split(separator: "\n").filter {
                $0.contains("LEADING") || $0.contains("FOLLOWING") || $0.contains("LOOKING") || $0.contains("Exception when following")
                    || $0.contains("Timeout") || $0.contains("lost") || $0.contains("shutdown called")
            }.suffix(12).map { "node \(node): \($0.prefix(220))" }
        }
        #expect(
            ensemble.leaderElections - electionsBefore == 1,
            "one election: the leader's own restart; the servers said:\n\(electionLines.joined(separator: "\n"))")
        // The write gate after each node: a write through the ensemble read back from that node, then removed.
        let writes = jsonLines(run.stdout).filter { $0["type"] as? String == "step-finished" && $0["step"] as? String == "write" }
        #expect(writes.count == 3 && writes.allSatisfy { ($0["message"] as? String)?.contains("wrote /zkrunbook/canary/sandbox-") == true }, "\(writes)")
        // The gate closes its session without waiting for the commit: the last canary goes a moment later.
        try poll("the canary to be cleaned up", timeout: 10) { try zk(["ls", "/zkrunbook/canary"]).stdout.isEmpty }

        // doctor reads this version's own log lines.
        let logs = (1...3).map { "\(ensemble.directory)/node\($0)/zookeeper.log" }
        let doctor = try zkrunbook.run(["doctor", "--json"] + logs.flatMap { ["--logs", $0] })
        let findings = (try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any])?["findings"] as? [[String: Any]] ?? []
        // Each server's log judged as that server (its lines name it): the elections summed over the three.
        let elections = findings.filter { $0["id"] as? String == "leader-election" }
        #expect(Set(elections.compactMap { $0["node"] as? String }).count == 3, "one server per log: \(elections.map { $0["node"] ?? "-" })")
        #expect(
            elections.compactMap { $0["count"] as? Int }.reduce(0, +) >= 4,
            "every server's first election and the one after the leader's restart: \(doctor.stdout.prefix(1500))")

        // A support bundle from one node of this version: its four-letter words answered, its logs taken.
        let bundle = try zkrunbook.run(
            [
                "collect", "--zoo-cfg", ensemble.zooCfg(1), "--log-dir", "\(ensemble.directory)/node1", "--output", workspace.file("bundle"),
                "--state-dir", workspace.file("state"),
            ], directory: repositoryRoot, timeout: 120)
        #expect(bundle.status == 0, "\(bundle.stdout.suffix(1500))")
        let archive = try #require(((try? FileManager.default.contentsOfDirectory(atPath: workspace.file("bundle"))) ?? []).first { $0.hasSuffix(".tar.gz") })
        let manifest = try ZKRunbookBinary(path: "/bin/sh").run(["-c", "tar -xzOf '\(workspace.file("bundle"))/\(archive)' --wildcards '*/manifest.json'"])
        #expect(manifest.stdout.contains("4lw/srvr.txt") && manifest.stdout.contains("logs/"), "\(manifest.stdout.prefix(1500))")

        // ZooKeeper's default whitelist (srvr only): 3.6 and 3.9 answer the other words through the AdminServer,
        // 3.4 has no whitelist at all; either way every gate is evaluable and the preflight passes.
        _ = try zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory])
        let locked = try zkrunbook.sandbox(workspace, extra: ["--zookeeper", jars, "--four-letter-words", "default"], firstPort: 28_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", locked.directory]) }
        let statusLocked = try zkrunbook.run(["status", "--ensemble", locked.file])
        #expect(statusLocked.status == 0 && statusLocked.stdout.contains("scope: whole"), "\(statusLocked.stdout)")
        if !version.hasPrefix("3.4.") { #expect(statusLocked.stdout.contains("admin "), "the AdminServer answered: \(statusLocked.stdout)") }
        let plan = try zkrunbook.run(["plan", "rolling-restart", "--ensemble", locked.file], directory: repositoryRoot, timeout: 120)
        #expect(plan.status == 0 && plan.stdout.contains("preflight passed"), "\(plan.stdout.prefix(3000))")
    }

    /// 3.4 lists its members only in zoo.cfg. Without `zooCfg` in the ensemble file, the agent on each node
    /// finds the file the running server was started with (here not Debian's default path); without an agent
    /// either, it says so — never "add conf to the whitelist" to a server that answers conf. A zooCfg that is
    /// not the running server's is named by `diff`.
    func membersOf34WithoutZooCfg(_ ensemble: SandboxEnsemble, _ workspace: Scratch) throws {
        let written = try String(contentsOfFile: ensemble.file, encoding: .utf8)
        let unnamed = workspace.file("no-zoo-cfg.json5")
        try written.replacingOccurrences(of: #", zooCfg: "[^"]*""#, with: "", options: .regularExpression).write(
            toFile: unnamed, atomically: true, encoding: .utf8)
        #expect(!(try String(contentsOfFile: unnamed, encoding: .utf8)).contains("zooCfg"))
        let found = try zkrunbook.run(["status", "--ensemble", unnamed, "--json"])
        let view = try #require(try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [String: Any])
        let source = (view["membership"] as? [String: Any])?["source"] as? String ?? ""
        #expect(view["verdict"] as? String == "healthy" && source.contains("started with"), "\(found.stdout.prefix(2500))")
        #expect(source.contains(ensemble.directory), "\(source)")
        // A runbook's per-node steps get the same file as ${node.zooCfg}.
        let purge = try zkrunbook.run(["plan", "purge", "--ensemble", unnamed], directory: repositoryRoot, timeout: 120)
        for node in 1...3 {
            #expect(purge.stdout.contains("(zoo.cfg: \(ensemble.zooCfg(node)), as its running server was started with)"), "\(purge.stdout.prefix(3000))")
            #expect(purge.stdout.contains("--param config=\(ensemble.zooCfg(node))"), "\(purge.stdout.prefix(3000))")
        }

        let withoutAgent = workspace.file("no-agent.json5")
        try (try String(contentsOfFile: unnamed, encoding: .utf8)).replacingOccurrences(
            of: #"agentPath: "[^"]*""#, with: #"agentPath: "/nonexistent/zkrunbook""#, options: .regularExpression
        )
        .write(toFile: withoutAgent, atomically: true, encoding: .utf8)
        let blind = try zkrunbook.run(["status", "--ensemble", withoutAgent])
        #expect(blind.stdout.contains("ZooKeeper 3.4 lists its members only in zoo.cfg, which could not be read"), "\(blind.stdout)")
        #expect(!blind.stdout.contains("whitelist"), "\(blind.stdout)")
        let refused = try zkrunbook.run(["plan", "rolling-restart", "--ensemble", withoutAgent], directory: repositoryRoot, timeout: 120)
        #expect(
            refused.status == 3 && refused.stdout.contains("give each node's zooCfg") && !refused.stdout.contains("whitelist"), "\(refused.stdout.suffix(2000))"
        )

        let copy = workspace.file("copied-zoo.cfg")
        try FileManager.default.copyItem(atPath: ensemble.zooCfg(1), toPath: copy)
        let misnamed = workspace.file("misnamed.json5")
        try written.replacingOccurrences(of: ensemble.zooCfg(1), with: copy).write(toFile: misnamed, atomically: true, encoding: .utf8)
        let diff = try zkrunbook.run(["diff", "--ensemble", misnamed])
        #expect(diff.status == 1 && diff.stdout.contains("node 1: \(copy) was read, but its server"), "\(diff.stdout)")
        let clean = try zkrunbook.run(["diff", "--ensemble", unnamed])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
    }
}
