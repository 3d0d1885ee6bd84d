import Foundation
import Testing
import ZKRunbookSandbox
import ZKRunbookTestSupport

/// rolling-upgrade on real servers of each version, laid out side by side (`sandbox up --versions`), with an
/// independent client (kazoo) writing throughout: 3.6.3 to 3.8.0 to 3.9.3; 3.4.14 to 3.6.3 where real 3.4
/// followers hold transaction logs and no snapshot; a release that cannot start, put back; forbidden jumps
/// refused before any change.
@Suite(.serialized, .tags(.realZooKeeper, .witness))
struct UpgradeTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func jars(_ version: String) throws -> String {
        let folder = Sandbox.jarFolder(version)
        guard FileManager.default.fileExists(atPath: folder + "/zookeeper-\(version).jar") else {
            throw HarnessError(message: "no ZooKeeper \(version) jars in \(folder): run bash packaging/fetch-zookeeper-jars.sh \(version)")
        }
        return folder
    }

    /// What `status --json` says: each server's srvr version (release number) by id, and the leader.
    func releases(_ ensemble: SandboxEnsemble) throws -> (versions: [Int: String], leader: Int?, verdict: String?) {
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let view = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        var versions: [Int: String] = [:]
        for member in view["members"] as? [[String: Any]] ?? [] {
            guard let id = (member["member"] as? [String: Any])?["id"] as? Int, let version = (member["facts"] as? [String: Any])?["version"] as? String
            else { continue }
            versions[id] = String(version.prefix { $0 != "-" })
        }
        return (versions, view["leaderID"] as? Int, view["verdict"] as? String)
    }

    func links(_ ensemble: SandboxEnsemble) -> [String] { (1...3).map { ensemble.sandbox.linkedVersion($0) ?? "?" } }

    func upgrade(_ ensemble: SandboxEnsemble, to version: String, _ extra: [String] = []) throws -> ZKRunbookBinary.Result {
        try zkrunbook.run(
            ["run", "rolling-upgrade", "--ensemble", ensemble.file, "--param", "version=\(version)", "--param", "canarySoak=2s", "--json"] + extra,
            directory: repositoryRoot, timeout: 400)
    }

    func order(_ run: ZKRunbookBinary.Result, step: String = "upgrade-each-node") -> [Int] {
        jsonLines(run.stdout).filter { $0["type"] as? String == "node-started" && $0["parentStep"] as? String == step }.compactMap { $0["node"] as? Int }
    }

    @Test func fromThreeSixThroughThreeEightToThreeNineLeaderLastNothingLost() throws {
        let workspace = Scratch("upgrade-36-39")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--zookeeper", try jars("3.6.3"), "--versions", "3.8.0,3.9.3"], firstPort: 35_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        _ = try jars("3.9.3")
        #expect(try releases(ensemble).versions == [1: "3.6.3", 2: "3.6.3", 3: "3.6.3"])

        // Skipping 3.8 is refused before any change: exit 3, every node still on its release.
        let skip = try upgrade(ensemble, to: "3.9.3")
        #expect(skip.status == 3 && skip.stdout.contains("skips 3.8"), "\(skip.stdout.suffix(2000))")
        #expect(links(ensemble) == ["3.6.3", "3.6.3", "3.6.3"])

        // 3.8.0 by the side-by-side layout (a link switched); 3.9.3 by an install command with ${version}, as a
        // package pin would be (here `ln -sfn`, the same switch done by a command): the way back is the command
        // again with the version the server ran.
        let command = try ensemble.variant("ensemble-command.json5") { text in
            let directory = ensemble.directory
            text = text.replacingOccurrences(
                of: "install: { link: \"\(directory)/node${node.id}/zookeeper\", versions: \"\(directory)/opt/zookeeper-${version}\" },",
                with: "install: { command: [\"ln\", \"-sfn\", \"\(directory)/opt/zookeeper-${version}\", \"\(directory)/node${node.id}/zookeeper\"] },")
        }
        #expect(try String(contentsOfFile: command, encoding: .utf8).contains("install: { command: [\"ln\""))
        let witness = try KazooWitness.start(ensemble, in: workspace)
        for (target, file) in [("3.8.0", ensemble.file), ("3.9.3", command)] {
            if target == "3.9.3" {
                // A mixed ensemble, as a halted upgrade leaves one: node 1 moved by hand. status and diff say so, and
                // the run below leaves node 1 alone.
                try FileManager.default.removeItem(atPath: ensemble.sandbox.currentLink(1))
                try FileManager.default.createSymbolicLink(
                    atPath: ensemble.sandbox.currentLink(1), withDestinationPath: ensemble.sandbox.releaseFolder("3.9.3"))
                #expect(try zkrunbook.run(["sandbox", "restart", "--node", "1", "--dir", ensemble.directory, "--wait"]).status == 0)
                let status = try zkrunbook.run(["status", "--ensemble", ensemble.file])
                #expect(status.stdout.contains("releases: MIXED: 3.8.0 on servers 2, 3; 3.9.3 on server 1"), "\(status.stdout)")
                let diff = try zkrunbook.run(["diff", "--ensemble", ensemble.file], directory: repositoryRoot)
                #expect(diff.status == 1 && diff.stdout.contains("releases-differ: mixed releases: 3.8.0 on servers 2, 3; 3.9.3 on server 1"), "\(diff.stdout)")
            }
            let before = try releases(ensemble)
            let pidOne = ensemble.pid(1)
            let electionsBefore = ensemble.leaderElections
            let run = try zkrunbook.run(
                ["run", "rolling-upgrade", "--ensemble", file, "--param", "version=\(target)", "--param", "canarySoak=2s", "--json"], directory: repositoryRoot,
                timeout: 400)
            #expect(run.status == 0, "\(target): \(run.stdout.suffix(4000))")
            let after = try releases(ensemble)
            #expect(after.versions == [1: target, 2: target, 3: target], "srvr after the run to \(target): \(after.versions)")
            #expect(links(ensemble) == [target, target, target])
            let nodes = order(run)
            #expect(nodes.count == 3 && nodes.last == before.leader, "the leader (\(before.leader ?? -1)) last: \(nodes)")
            #expect(ensemble.leaderElections - electionsBefore <= 1, "at most one election per run (the leader's own restart)")
            let canary = jsonLines(run.stdout).filter {
                ($0["step"] as? String) == "canary-log" && $0["type"] as? String == "step-finished" && $0["status"] as? String == "succeeded"
            }
            if target == "3.8.0" {
                // The canary: the first node soaked and its log was read; the others were not held.
                #expect(canary.count == 1 && canary.first?["node"] as? Int == nodes.first, "only the first node is the canary: \(canary)")
            } else {
                #expect(ensemble.pid(1) == pidOne, "node 1 already ran 3.9.3: not restarted")
                #expect(run.stdout.contains("ran ln -sfn \(ensemble.directory)/opt/zookeeper-3.9.3"), "the install command, ${version} filled in")
            }
        }
        let verdict = try witness.finish()
        print("3.6.3 to 3.8.0 to 3.9.3: kazoo \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest gap \(verdict.longestGapMs) ms")
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(verdict.acked > 10)

        // Run again: every server on the target, nothing to do, nothing restarted.
        let again = try upgrade(ensemble, to: "3.9.3")
        #expect(again.status == 0 && again.stdout.contains("every server already runs 3.9.3: nothing to do"), "\(again.stdout.suffix(1500))")
        #expect(order(again).isEmpty)
        // Back across a release line: refused before any change.
        let back = try upgrade(ensemble, to: "3.8.0")
        #expect(back.status == 3 && back.stdout.contains("crosses release lines"), "\(back.stdout.suffix(1500))")
        #expect(links(ensemble) == ["3.9.3", "3.9.3", "3.9.3"])
    }

    /// 3.8.0 to 3.9.3 on a reconfig ensemble: the leader, upgraded last, hands its leadership to an upgraded
    /// follower before its own restart and gets its vote back on 3.9.3; every member's /zookeeper/config lists
    /// the servers as before; kazoo loses no acknowledged write.
    @Test func anUpgradeHandsTheLeaderOffToAnUpgradedFollower() throws {
        let workspace = Scratch("upgrade-hand-off")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--reconfig", "--versions", "3.9.3"], firstPort: 35_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        _ = try jars("3.9.3")
        func servers() throws -> [[String]] { try ensemble.membership(zkrunbook) }
        let before = try servers()
        let leader = try #require(try releases(ensemble).leader)
        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try upgrade(ensemble, to: "3.9.3")
        let verdict = try witness.finish()
        #expect(run.status == 0, "\(run.stdout.suffix(4000))")
        #expect(try releases(ensemble).versions == [1: "3.9.3", 2: "3.9.3", 3: "3.9.3"])
        let handedOff = jsonLines(run.stdout).filter {
            $0["type"] as? String == "step-finished" && $0["step"] as? String == "hand-off" && $0["status"] as? String == "succeeded"
        }
        #expect(handedOff.compactMap { $0["node"] as? Int } == [leader], "the leader, server \(leader), handed off: \(run.stdout.suffix(3000))")
        let handedBack = jsonLines(run.stdout).filter {
            $0["type"] as? String == "step-finished" && $0["step"] as? String == "hand-back" && $0["status"] as? String == "succeeded"
        }
        #expect(handedBack.compactMap { $0["node"] as? Int } == [leader])
        #expect(try servers() == before, "the membership as before the upgrade, read from every member")
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        print(
            "3.8.0 to 3.9.3 with the leader handed off: kazoo \(verdict.acked) acknowledged, \(verdict.lost.count) lost, longest gap \(verdict.longestGapMs) ms"
        )
    }

    @Test func fromThreeFourWhereFollowersHoldLogsAndNoSnapshot() throws {
        let workspace = Scratch("upgrade-34-36")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--zookeeper", try jars("3.4.14"), "--versions", "3.6.3"], firstPort: 35_500)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        _ = try jars("3.6.3")
        #expect(try zkrunbook.run(["zk", "create", "/before-upgrade", "kept", "--ensemble", ensemble.file]).status == 0)
        for index in 0..<50 {
            #expect(try zkrunbook.run(["zk", "create", "/before-upgrade/n\(index)", "x", "--ensemble", ensemble.file]).status == 0)
        }
        // Real 3.4 followers that synced by diff write no snapshot (only logs): the layout ZOOKEEPER-3056 is about.
        func files(_ node: Int) -> [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: ensemble.directory + "/node\(node)/data/version-2")) ?? []
        }
        let bare = (1...3).filter { node in files(node).contains { $0.hasPrefix("log.") } && !files(node).contains { $0.hasPrefix("snapshot.") } }
        try #require(!bare.isEmpty, "no 3.4.14 node without a snapshot: \((1...3).map { files($0) })")

        // Without zkrunbook's preflight: 3.6.3 on a scratch copy of such a node's data does not start.
        let copy = workspace.file("scratch-copy")
        try FileManager.default.copyItem(atPath: ensemble.directory + "/node\(bare[0])/data", toPath: copy)
        let refused = try startQuorumPeer(version: "3.6.3", id: bare[0], dataDir: copy, workspace: workspace)
        #expect(refused.contains("No snapshot found, but there are log entries"), "\(refused.suffix(1500))")
        // doctor on what that server wrote: the incident named, with the fix (and zkrunbook's runbook for it).
        let doctor = try zkrunbook.run(
            ["doctor", "--logs", workspace.file("scratch.log"), "--json", "--state-dir", workspace.file("doctor-state")], directory: repositoryRoot)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any], "\(doctor.stdout.prefix(800))")
        let findings = report["findings"] as? [[String: Any]] ?? []
        let noSnapshot = try #require(findings.first { $0["id"] as? String == "no-snapshot-with-logs" }, "\(findings.compactMap { $0["id"] })")
        #expect(noSnapshot["severity"] as? String == "critical" && (noSnapshot["detail"] as? String ?? "").contains("snapshot.trust.empty=true"))
        #expect(findings.contains { $0["id"] as? String == "database-not-loaded" })

        let plan = try zkrunbook.run(
            ["plan", "rolling-upgrade", "--ensemble", ensemble.file, "--param", "version=3.6.3"], directory: repositoryRoot, timeout: 120)
        #expect(plan.status == 0, "\(plan.stdout.suffix(2000))")
        #expect(plan.stdout.contains("checked before any change: version-known, from-3.4.6, election-alg, multi-address, snapshot-trust-empty, 4lw-whitelist"))
        for node in bare { #expect(plan.stdout.contains("node \(node)'s zoo.cfg gets snapshot.trust.empty=true with its new version"), "\(node)") }
        #expect(plan.stdout.contains("a final roll removes snapshot.trust.empty"))

        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try upgrade(ensemble, to: "3.6.3")
        let verdict = try witness.finish()
        print("3.4.14 to 3.6.3 (node(s) \(bare) without a snapshot): exit \(run.status); kazoo \(verdict.acked) acknowledged, \(verdict.lost.count) lost")
        #expect(run.status == 0, "\(run.stdout.suffix(4000))")
        #expect(try releases(ensemble).versions == [1: "3.6.3", 2: "3.6.3", 3: "3.6.3"])
        for node in 1...3 {
            let config = try String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)
            #expect(!config.contains("snapshot.trust.empty"), "node \(node)'s zoo.cfg still carries it")
            #expect(files(node).contains { $0.hasPrefix("snapshot.") }, "node \(node) holds a snapshot: \(files(node))")
        }
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(try zkrunbook.run(["zk", "get", "/before-upgrade", "--ensemble", ensemble.file]).stdout == "kept")
        let children = try zkrunbook.run(["zk", "ls", "/before-upgrade", "--ensemble", ensemble.file])
        #expect(children.stdout.split(separator: "\n").count == 50, "\(children.stdout)")
    }

    /// Starts ZooKeeper `version` as server `id` of a three-server ensemble on `dataDir` (ports of its own, no
    /// peers: it loads its data before it looks for them) until it exits; its output.
    func startQuorumPeer(version: String, id: Int, dataDir: String, workspace: Scratch) throws -> String {
        let ports = (0..<7).map { _ in freePort() }
        let config = workspace.file("scratch.cfg")
        let servers = (1...3).map { "server.\($0)=127.0.0.1:\(ports[$0]):\(ports[$0 + 3])" }
        try (["tickTime=2000", "initLimit=5", "syncLimit=2", "dataDir=\(dataDir)", "clientPort=\(ports[0])", "admin.enableServer=false"] + servers)
            .joined(separator: "\n").write(toFile: config, atomically: true, encoding: .utf8)
        let log = workspace.file("scratch.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Sandbox.javaCommand())
        process.arguments = ["-cp", try Sandbox.classpath(zookeeperJars: try jars(version)), "org.apache.zookeeper.server.quorum.QuorumPeerMain", config]
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let text = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        if exited.wait(timeout: .now() + 90) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            throw HarnessError(message: "ZooKeeper \(version) kept running on the copy: \(text().suffix(1500))")
        }
        return text()
    }

    func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 ? getsockname(fd, pointer, &length) : -1
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func aReleaseThatCannotStartIsPutBackAndForbiddenJumpsChangeNothing() throws {
        let workspace = Scratch("upgrade-broken")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--versions", "3.9.3"], firstPort: 36_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let start = try releases(ensemble)
        #expect(start.versions == [1: "3.8.0", 2: "3.8.0", 3: "3.8.0"])

        // electionAlg other than 3 in a zoo.cfg: refused before any change, with what to do.
        let config = ensemble.zooCfg(2)
        let original = try String(contentsOfFile: config, encoding: .utf8)
        try (original + "electionAlg=0\n").write(toFile: config, atomically: true, encoding: .utf8)
        let pids = (1...3).map(ensemble.pid)
        let refused = try upgrade(ensemble, to: "3.9.3")
        #expect(refused.status == 3 && refused.stdout.contains("electionAlg=0") && refused.stdout.contains("never in a roll"), "\(refused.stdout.suffix(2000))")
        #expect(links(ensemble) == ["3.8.0", "3.8.0", "3.8.0"] && (1...3).map(ensemble.pid) == pids, "nothing changed, nothing restarted")
        try original.write(toFile: config, atomically: true, encoding: .utf8)

        // A broken install of 3.9.3 (its main jar is not a jar): the first node cannot start on it, is put back on
        // 3.8.0 and serves; the others are not touched.
        let jar = ensemble.sandbox.releaseFolder("3.9.3") + "/lib/zookeeper-3.9.3.jar"
        try FileManager.default.removeItem(atPath: jar)
        try "not a jar\n".write(toFile: jar, atomically: true, encoding: .utf8)
        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try upgrade(ensemble, to: "3.9.3", ["--param", "gateTimeout=20s"])
        let verdict = try witness.finish()
        #expect(run.status == 1, "\(run.stdout.suffix(3000))")
        let first = try #require(order(run).first)
        let after = try releases(ensemble)
        #expect(after.versions == [1: "3.8.0", 2: "3.8.0", 3: "3.8.0"] && after.verdict == "healthy", "\(after)")
        #expect(links(ensemble) == ["3.8.0", "3.8.0", "3.8.0"])
        #expect(order(run) == [first], "halted at the first node: \(order(run))")
        for node in (1...3) where node != first { #expect(ensemble.pid(node) == pids[node - 1], "node \(node) was not touched") }
        let events = jsonLines(run.stdout)
        let rolledBack = events.filter { $0["type"] as? String == "step-finished" && ($0["step"] as? String) == "release-back-check" }
        #expect(rolledBack.first?["status"] as? String == "succeeded", "the old release checked back: \(rolledBack)")
        // The evidence: what the server said when it could not start on the broken release.
        #expect(run.stdout.contains("Could not find or load main class") || run.stdout.contains("ClassNotFoundException"), "\(run.stdout.suffix(3000))")
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
    }
}
