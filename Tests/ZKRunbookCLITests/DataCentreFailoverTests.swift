import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The seed's two-DC incident on a real 6-node ensemble: DC-1 holds voters 1, 2, 3; DC-2 holds voters 4, 5
/// and observer 6. DC-1 is cut off (its servers stopped); dc-failover makes DC-2 an ensemble of its own,
/// dc-restore brings the original layout back.
@Suite(.serialized, .tags(.realZooKeeper, .ssh))
struct DataCentreFailoverTests {
    let zkrunbook: ZKRunbookBinary
    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func twoDataCentres(_ workspace: Scratch) throws -> SandboxEnsemble {
        try zkrunbook.sandbox(workspace, nodes: 6, observers: 1, firstPort: 27_000)
    }

    /// Every file a failover may touch on every node, byte for byte.
    func configFiles(_ ensemble: SandboxEnsemble) -> [String: Data] {
        var files: [String: Data] = [:]
        for node in 1...6 {
            for path in [ensemble.zooCfg(node), ensemble.myid(node)] { files[path] = FileManager.default.contents(atPath: path) }
        }
        return files
    }

    /// Modes by node, from srvr (via `zkrunbook status --server`).
    func modes(_ ensemble: SandboxEnsemble, _ nodes: [Int]) throws -> [Int: String] {
        let servers = nodes.map { "127.0.0.1:\(ensemble.clientPort($0))" }.joined(separator: ",")
        let status = try zkrunbook.run(["status", "--server", servers, "--json"])
        let view = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let members = view?["members"] as? [[String: Any]] ?? []
        var out: [Int: String] = [:]
        for (node, member) in zip(nodes, members) { out[node] = (member["facts"] as? [String: Any])?["mode"] as? String ?? "?" }
        return out
    }

    func zkCli(_ workspace: Scratch, port: Int, _ commands: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: Self.zkCli) else {
            throw HarnessError(message: "no \(Self.zkCli): apt-get install -y zookeeper (the failover test writes through it)")
        }
        let input = workspace.write("zkcli-\(port).txt", commands + "\nquit\n")
        let result = try ZKRunbookBinary(path: "/bin/sh").run(["-c", "exec \(Self.zkCli) -server 127.0.0.1:\(port) < \(input)"], timeout: 60)
        return result.stdout + result.stderr
    }

    @Test func dataCentreOneLostFailOverWriteAndRestoreByteIdentical() throws {
        let workspace = Scratch("dc-failover")
        let ensemble = try twoDataCentres(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let file = try ensemble.overSSH(ssh, zkrunbook: zkrunbook)
        let original = configFiles(ensemble)
        let backupDir = workspace.file("backups")
        let failoverArguments = [
            "run", "dc-failover", "--ensemble", file, "--param", "survivors=4,5,6", "--param", "backupDir=\(backupDir)", "--state-dir", workspace.file("state"),
        ]

        // Nothing to fix while the whole ensemble serves: refused, nothing touched.
        let early = try zkrunbook.run(failoverArguments, directory: repositoryRoot, timeout: 120)
        #expect(early.status == 3, "\(early.stdout.suffix(1500))")
        #expect(early.stdout.contains("survivors-not-serving"))
        #expect(configFiles(ensemble) == original)

        for node in 1...3 { #expect(try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", String(node)]).status == 0) }
        try poll("the DC-2 servers to stop serving", timeout: 30) { (try? modes(ensemble, [4, 5, 6]))?.values.allSatisfy { $0 == "not-serving" } ?? false }

        // doctor advises the failover only from a file that says which data centre each node is in.
        let placed = try ensemble.variant("ensemble-placed.json5") { text in
            for node in 1...6 { text = text.replacingOccurrences(of: "{ id: \(node), ", with: "{ id: \(node), dataCentre: \"DC-\(node <= 3 ? 1 : 2)\", ") }
        }
        let unplaced = try zkrunbook.run(["doctor", "--ensemble", ensemble.file])
        #expect(unplaced.stdout.contains("start the stopped servers first"), "\(unplaced.stdout)")
        #expect(!unplaced.stdout.contains("zkrunbook run dc-failover"))
        let doctor = try zkrunbook.run(["doctor", "--ensemble", placed])
        #expect(doctor.status == 1)
        #expect(doctor.stdout.contains("CRITICAL: The ensemble cannot elect a leader"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("zkrunbook run dc-failover --ensemble FILE --param survivors=4,5,6"), "\(doctor.stdout)")

        // The dry run asks every survivor for real (read-only) and changes nothing.
        let plan = try zkrunbook.run(
            ["plan", "dc-failover", "--ensemble", file, "--param", "survivors=4,5,6", "--param", "backupDir=\(backupDir)"], directory: repositoryRoot,
            timeout: 120)
        #expect(plan.status == 0, "\(plan.stdout.suffix(2000))")
        #expect(plan.stdout.components(separatedBy: "0 of 6 ports of servers 1,2,3 answer from this node").count == 4, "\(plan.stdout.prefix(4000))")
        #expect(configFiles(ensemble) == original && !FileManager.default.fileExists(atPath: backupDir))

        let started = Date()
        let failover = try zkrunbook.run(failoverArguments + ["--json"], directory: repositoryRoot, timeout: 300)
        let failoverSeconds = Date().timeIntervalSince(started)
        #expect(failover.status == 0, "\(failover.stdout.suffix(4000))\n\(failover.stderr)")
        let events = jsonLines(failover.stdout)
        let checks = events.filter { $0["type"] as? String == "step-finished" && $0["step"] as? String == "reach" }
        #expect(checks.count == 3, "each survivor checked the lost servers itself")
        #expect(checks.allSatisfy { ($0["message"] as? String ?? "").hasPrefix("0 of 6 ports") }, "\(checks.map { $0["message"] ?? "" })")
        let restarts = events.filter { $0["type"] as? String == "node-started" && $0["parentStep"] as? String == "restart-survivors" }
        #expect(restarts.compactMap { $0["node"] as? Int } == [4, 5, 6], "one at a time, in the order given")

        let after = try modes(ensemble, [4, 5, 6])
        #expect(after.values.filter { $0 == "leader" }.count == 1 && after.values.filter { $0 == "follower" }.count == 2, "\(after)")
        let observerConfig = try String(contentsOfFile: ensemble.zooCfg(6), encoding: .utf8)
        let servers = observerConfig.split(separator: "\n").filter { $0.hasPrefix("server.") }
        #expect(
            servers == [
                "server.1=127.0.0.1:\(ensemble.base + 104):\(ensemble.base + 204)", "server.2=127.0.0.1:\(ensemble.base + 105):\(ensemble.base + 205)",
                "server.3=127.0.0.1:\(ensemble.base + 106):\(ensemble.base + 206)",
            ], "\(servers)")
        #expect(!observerConfig.contains("peerType"), "the observer is promoted")
        for (node, newID) in [(4, "1\n"), (5, "2\n"), (6, "3\n")] {
            #expect(try String(contentsOfFile: ensemble.myid(node), encoding: .utf8) == newID)
        }
        let untouched = try String(decoding: #require(original[ensemble.zooCfg(6)]), as: UTF8.self)
            .split(separator: "\n").filter { !$0.hasPrefix("server.") && !$0.hasPrefix("peerType") }
        #expect(observerConfig.split(separator: "\n").filter { !$0.hasPrefix("server.") } == untouched, "every other line is kept")
        for node in 1...3 { #expect(FileManager.default.contents(atPath: ensemble.zooCfg(node)) == original[ensemble.zooCfg(node)]) }

        // A write while DC-1 is gone: it must survive the way back.
        #expect(try zkCli(workspace, port: ensemble.clientPort(5), "create /written-during-failover dc2").contains("Created /written-during-failover"))

        // DC-1 comes back: the restore starts its servers itself, after the survivors have their old config.
        let restored = Date()
        let restore = try zkrunbook.run(
            [
                "run", "dc-restore", "--ensemble", file, "--param", "survivors=4,5,6", "--param", "backupDir=\(backupDir)", "--state-dir",
                workspace.file("state"),
            ],
            directory: repositoryRoot, timeout: 300)
        let restoreSeconds = Date().timeIntervalSince(restored)
        #expect(restore.status == 0, "\(restore.stdout.suffix(4000))\n\(restore.stderr)")
        #expect(configFiles(ensemble) == original, "every config file is byte-identical to its backup")
        let kept = try FileManager.default.contentsOfDirectory(atPath: backupDir).sorted()
        #expect(kept.count == 3 && kept.allSatisfy { $0.contains(".restored-") }, "\(kept)")
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file])
        #expect(status.status == 0 && status.stdout.contains("verdict: healthy"), "\(status.stdout)")
        #expect(try modes(ensemble, [6]) == [6: "observer"])
        #expect(
            try zkCli(workspace, port: ensemble.clientPort(1), "get /written-during-failover").contains("dc2"), "DC-1 serves the write made during the failover"
        )
        print(
            "dc-failover took \(String(format: "%.1f", failoverSeconds)) s, dc-restore \(String(format: "%.1f", restoreSeconds)) s (6 nodes, agents over ssh)")
    }

    /// The restart command of every node, wrapped: a marker file makes it fail once, or kill the conductor.
    func injectable(_ ensemble: SandboxEnsemble) throws -> String {
        let marker = ensemble.directory + "/inject-${node.id}"
        let script =
            "if [ -e \(marker).fail ]; then rm -f \(marker).fail; echo injected restart failure >&2; exit 1; fi; "
            + "if [ -e \(marker).crash ]; then rm -f \(marker).crash; kill -9 $PPID; exit 1; fi; "
            + "exec \(zkrunbook.path) sandbox restart --dir \(ensemble.directory) --node ${node.id}"
        return try ensemble.variant("ensemble-injectable.json5") { text in
            let start = try #require(text.range(of: "  restartCommand: ["))
            let end = try #require(text.range(of: "],\n", range: start.upperBound..<text.endIndex))
            text.replaceSubrange(start.lowerBound..<end.upperBound, with: "  restartCommand: [\"/bin/sh\", \"-c\", \"\(script)\"],\n")
        }
    }

    @Test func aSurvivorWhoseRestartFailsRollsEverySurvivorBack() throws {
        let workspace = Scratch("dc-rollback")
        let ensemble = try twoDataCentres(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let file = try injectable(ensemble)
        let original = configFiles(ensemble)
        for node in 1...3 { _ = try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", String(node)]) }
        try poll("the DC-2 servers to stop serving", timeout: 30) { (try? modes(ensemble, [4, 5, 6]))?.values.allSatisfy { $0 == "not-serving" } ?? false }
        _ = FileManager.default.createFile(atPath: ensemble.directory + "/inject-5.fail", contents: nil)
        let pidsBefore = ensemble.pids

        let run = try zkrunbook.run(
            [
                "run", "dc-failover", "--ensemble", file, "--param", "survivors=4,5,6", "--param", "backupDir=\(workspace.file("backups"))", "--state-dir",
                workspace.file("state"),
            ],
            directory: repositoryRoot, timeout: 300)
        #expect(run.status == 1, "\(run.stdout.suffix(3000))")
        #expect(run.stdout.contains("injected restart failure"), "the failed restart's stderr is shown")
        #expect(run.stdout.contains("rolled back 1 step(s)"), "\(run.stdout.suffix(2000))")
        #expect(configFiles(ensemble) == original, "every survivor is back on its backup, byte for byte")
        for node in 4...6 { #expect(ensemble.pid(node) != pidsBefore[node - 1], "node \(node) was restarted on its restored config") }
        let after = try modes(ensemble, [4, 5, 6])
        #expect(after.values.allSatisfy { $0 == "not-serving" }, "back to the two-DC layout, without DC-1: \(after)")
    }

    @Test func aConductorKilledMidRestartResumesWithTheNextSurvivor() throws {
        let workspace = Scratch("dc-resume")
        let ensemble = try twoDataCentres(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let file = try injectable(ensemble)
        for node in 1...3 { _ = try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", String(node)]) }
        try poll("the DC-2 servers to stop serving", timeout: 30) { (try? modes(ensemble, [4, 5, 6]))?.values.allSatisfy { $0 == "not-serving" } ?? false }
        // The restart of node 5 kills the conductor (SIGKILL: no rollback, no cleanup), as a crash would.
        _ = FileManager.default.createFile(atPath: ensemble.directory + "/inject-5.crash", contents: nil)
        let state = workspace.file("state")

        let crashed = try zkrunbook.run(
            [
                "run", "dc-failover", "--ensemble", file, "--param", "survivors=4,5,6", "--param", "backupDir=\(workspace.file("backups"))", "--state-dir",
                state,
            ],
            directory: repositoryRoot, timeout: 300)
        #expect(
            crashed.status != 0 && !crashed.stdout.split(separator: "\n").contains { $0.hasPrefix("result:") },
            "the conductor died mid-run: \(crashed.stdout.suffix(1500))")
        let runID = try #require(workspace.runIDs.first { $0.contains("dc-failover") })
        let pid4 = ensemble.pid(4)

        let resumed = try zkrunbook.run(["resume", runID, "-v", "--state-dir", state], directory: repositoryRoot, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stdout.suffix(3000))\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming: nodes 4 already done"), "\(resumed.stdout.prefix(3000))")
        #expect(ensemble.pid(4) == pid4, "node 4 is not restarted twice")
        let after = try modes(ensemble, [4, 5, 6])
        #expect(after.values.filter { $0 == "leader" }.count == 1 && after.values.filter { $0 == "follower" }.count == 2, "\(after)")
    }
}
