import Foundation
import Testing
import ZKRunbookSandbox
import ZKRunbookTestSupport

/// Backups of real data: a few thousand znodes of mixed sizes, sequentials and ephemerals written through
/// kazoo, backed up from the member with the highest zxid, checked, kept N deep; a corrupted copy, a corrupt
/// source and a full disk each fail without touching the backups already there.
@Suite(.serialized, .tags(.realZooKeeper))
struct BackupTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func backups(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// The writer of the test tree (Tests/support/fill-znodes.py): 2000 znodes of mixed sizes, 200 sequential,
    /// 50 ephemeral held by its session until `close()`.
    final class Fill {
        let process: Process
        let input: Pipe
        init(process: Process, input: Pipe) { (self.process, self.input) = (process, input) }
        func close() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    func fill(_ ensemble: SandboxEnsemble, _ workspace: Scratch) throws -> Fill {
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: KazooWitness.python)
        writer.arguments = [repositoryRoot + "/Tests/support/fill-znodes.py", "127.0.0.1:\(ensemble.clientPort(1))", "2000"]
        let input = Pipe()
        FileManager.default.createFile(atPath: workspace.file("fill.out"), contents: nil)
        writer.standardInput = input
        writer.standardOutput = FileHandle(forWritingAtPath: workspace.file("fill.out"))
        try writer.run()
        try poll("the test tree written", timeout: 180) { workspace.text("fill.out").contains("ready") || !writer.isRunning }
        guard workspace.text("fill.out").contains("ready") else {
            throw HarnessError(message: "fill-znodes.py stopped before the tree was written: apt-get install -y python3-kazoo")
        }
        return Fill(process: writer, input: input)
    }

    func flipByte(_ path: String, at offset: Int) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[min(offset, data.count - 1)] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
    }

    @Test func backupsAreCheckedBeforeTheyAreNamedAndAFailedOneLeavesTheOthersAlone() throws {
        let workspace = Scratch("backup")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let file = try ensemble.variant("ensemble-backup.json5") { _ in }
        let state = workspace.file("state")
        let dest = workspace.file("backups")

        // The tree, its ephemerals held open while the backups run.
        let writer = try fill(ensemble, workspace)
        defer { writer.close() }

        func backup(keep: Int = 2, to folder: String? = nil) throws -> ZKRunbookBinary.Result {
            try zkrunbook.run(
                ["run", "backup", "--ensemble", file, "--param", "dest=\(folder ?? dest)", "--param", "keep=\(keep)", "--state-dir", state, "--json"],
                directory: repositoryRoot, timeout: 600)
        }
        var timings: [String] = []
        for round in 1...3 {
            let started = Date()
            let result = try backup()
            timings.append(String(format: "%.2fs", Date().timeIntervalSince(started)))
            #expect(result.status == 0, "backup \(round): \(result.stdout.suffix(2000))")
        }
        let kept = backups(dest)
        #expect(kept.count == 2, "keep=2: the oldest of three removed once the third checked out: \(kept)")
        let newest = dest + "/" + (kept.last ?? "")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: newest + "/manifest.json"))) as? [String: Any])
        let znodes = manifest["znodes"] as? Int ?? 0
        print("backup: 3 rounds (\(timings.joined(separator: ", "))); \(znodes) znodes; count check: \(manifest["countCheck"] ?? "?")")
        #expect((manifest["countCheck"] as? String ?? "").hasPrefix("matched:"), "\(manifest)")
        #expect(znodes >= 2000 + 200 + 50, "the whole tree: \(znodes)")
        #expect(try zkrunbook.run(["run", "backup-verify", "--param", "backup=\(newest)", "--state-dir", state]).status == 0)

        // One byte flipped in a copy: verification names it.
        let snapshot = try #require(backups(newest).first { $0.hasPrefix("snapshot.") })
        try flipByte(newest + "/" + snapshot, at: 200)
        let corrupt = try zkrunbook.run(["run", "backup-verify", "--param", "backup=\(newest)", "--state-dir", state])
        #expect(corrupt.status == 1 && corrupt.stdout.contains("\(snapshot): its SHA-256 is not the manifest's"), "\(corrupt.stdout.suffix(1500))")

        // Every snapshot of the source corrupt: no backup is made, the two there stay, nothing half-written.
        let member = manifest["member"] as? Int ?? 0
        let source = ensemble.directory + "/node\(member)/data/version-2"
        for name in backups(source) where name.hasPrefix("snapshot.") { try flipByte(source + "/" + name, at: 100) }
        let refused = try backup()
        #expect(refused.status == 1 && refused.stdout.contains("checks out"), "\(refused.stdout.suffix(2000))")
        #expect(backups(dest) == kept, "the backups already there are untouched: \(backups(dest))")

        // A full disk: a 1 MiB tmpfs as the destination.
        let small = workspace.folder("small-disk")
        let mounted = try ZKRunbookBinary(path: "/bin/mount").run(["-t", "tmpfs", "-o", "size=1m", "tmpfs", small])
        guard mounted.status == 0 else {
            throw HarnessError(message: "mounting a 1 MiB tmpfs failed (the full-disk test needs root): \(mounted.stderr)")
        }
        defer { _ = try? ZKRunbookBinary(path: "/bin/umount").run([small]) }
        // The same bit flipped back: the source checks out again, and the copy meets the full disk.
        for name in backups(source) where name.hasPrefix("snapshot.") { try flipByte(source + "/" + name, at: 100) }
        let full = try backup(to: small)
        #expect(full.status == 1 && full.stdout.contains("No space left"), "\(full.stdout.suffix(2000))")
        #expect(backups(small).isEmpty, "nothing under a final name, no partial copy: \(backups(small))")
    }
}

extension BackupTests {
    struct Tree: Equatable {
        var persistent: [String: String]
        var ephemeral: [String]
    }

    func dump(_ ensemble: SandboxEnsemble) throws -> Tree {
        let hosts = (1...ensemble.nodes).map { "127.0.0.1:\(ensemble.clientPort($0))" }.joined(separator: ",")
        let result = try ZKRunbookBinary(path: KazooWitness.python).run([repositoryRoot + "/Tests/support/dump-znodes.py", hosts], timeout: 300)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw HarnessError(message: "dump-znodes.py failed: \(result.stderr)")
        }
        return Tree(persistent: object["persistent"] as? [String: String] ?? [:], ephemeral: object["ephemeral"] as? [String] ?? [])
    }

    /// Backup, every data folder wiped and the ensemble started empty, restore: every persistent znode reads
    /// back byte for byte, the ephemerals go once their sessions expire. Then a restore whose third server
    /// cannot start: every server's data folders are put back and the ensemble serves what it held before.
    /// Debian's 3.8 backs up from its data folders; 3.9.3 through its AdminServer's snapshot command.
    @Test(arguments: [nil, "3.9.3"] as [String?])
    func aRestoreBringsBackEveryPersistentZnodeAndAFailedOnePutsAllThreeBack(version: String?) throws {
        let workspace = Scratch("restore")
        var extra: [String] = []
        if let version {
            let jars = Sandbox.jarFolder(version)
            guard FileManager.default.fileExists(atPath: jars + "/zookeeper-\(version).jar") else {
                throw HarnessError(message: "no ZooKeeper \(version) jars in \(jars): run bash packaging/fetch-zookeeper-jars.sh \(version)")
            }
            extra = ["--zookeeper", jars]
        }
        let ensemble = try zkrunbook.sandbox(workspace, extra: extra, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let state = workspace.file("state")
        let dest = workspace.file("backups")
        let counter = workspace.file("starts")
        let wrapper = workspace.write(
            "restart.sh",
            """
            #!/bin/sh
            # Node 3's first start during a restore fails (the test's fault); every other start is real.
            if [ "$1" = 3 ] && [ -e \(workspace.file("fail-node-3")) ]; then rm -f \(workspace.file("fail-node-3")); echo "node 3 refused by the test" >&2; exit 1; fi
            echo "$1" >> \(counter)
            exec "\(zkrunbook.path)" sandbox restart --dir "\(ensemble.directory)" --node "$1"
            """)
        chmod(wrapper, 0o755)
        let file = try ensemble.variant("ensemble-restore.json5", restartCommand: [wrapper, "${node.id}"])
        let name = try #require(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\"").dropFirst().first { $0.hasPrefix("sandbox-") })
            .description

        let writer = try fill(ensemble, workspace)
        let backedUp = try dump(ensemble)
        #expect(
            backedUp.persistent.count >= 2200 && backedUp.ephemeral.count == 50,
            "\(backedUp.persistent.count) persistent, \(backedUp.ephemeral.count) ephemeral")
        let backup = try zkrunbook.run(
            ["run", "backup", "-v", "--ensemble", file, "--param", "dest=\(dest)", "--state-dir", state], directory: repositoryRoot, timeout: 600)
        #expect(backup.status == 0, "\(backup.stdout.suffix(2000))")
        let path = version == nil ? "from its data folders" : "from its AdminServer's snapshot"
        #expect(backup.stdout.contains(path), "\(backup.stdout.suffix(2000))")
        writer.close()
        let folder = dest + "/" + (try #require(backups(dest).first))

        // Every data folder wiped; the ensemble started empty.
        // Each node stopped, not the sandbox brought down: a down gives its ports back to the other suites, and one
        // of their sandboxes would take them during the restore's outage below.
        for node in 1...3 { #expect(try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", String(node)]).status == 0) }
        for node in 1...3 { try FileManager.default.removeItem(atPath: ensemble.directory + "/node\(node)/data/version-2") }
        for node in 1...3 { #expect(try zkrunbook.run(["sandbox", "start", "--dir", ensemble.directory, "--node", String(node)]).status == 0) }
        try poll("the empty ensemble serving", timeout: 90) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }
        #expect(try dump(ensemble).persistent.count < 10, "wiped")

        let arguments = ["run", "restore", "--ensemble", file, "--param", "backup=\(folder)", "--state-dir", state, "--json"]
        let unconfirmed = try zkrunbook.run(arguments + ["--param", "confirm=another"], directory: repositoryRoot, timeout: 120)
        #expect(unconfirmed.status == 3, "confirm must name the ensemble: \(unconfirmed.stdout.suffix(1000))")
        let started = Date()
        let restored = try zkrunbook.run(arguments + ["--param", "confirm=\(name)"], directory: repositoryRoot, timeout: 600)
        let seconds = Date().timeIntervalSince(started)
        #expect(restored.status == 0, "\(restored.stdout.suffix(3000))")
        let check = jsonLines(restored.stdout).first { $0["type"] as? String == "step-finished" && $0["step"] as? String == "check" }
        let after = try dump(ensemble)
        #expect(after.persistent == backedUp.persistent, "every persistent znode byte for byte: \(after.persistent.count) of \(backedUp.persistent.count)")
        try poll("the restored ephemerals gone with their sessions", timeout: 120) { (try? dump(ensemble))?.ephemeral.isEmpty == true }
        print(
            String(
                format: "restore (%@): %.1fs; %d persistent znodes byte for byte; check: %@", version ?? "3.8.0, file path", seconds, after.persistent.count,
                check?["message"] as? String ?? "?"))

        // A restore whose third server cannot start: all three put back as they were.
        let hosts = "127.0.0.1:\(ensemble.clientPort(1))"
        _ = try ZKRunbookBinary(path: KazooWitness.python).run(
            ["-c", "from kazoo.client import KazooClient\nz=KazooClient(hosts='\(hosts)');z.start();z.create('/after-restore', b'kept');z.stop()"])
        let before = try dump(ensemble)
        // The plan says what a restore now would cost: the backup's time, the one znode written since.
        let plan = try zkrunbook.run(
            ["plan", "restore", "--ensemble", file, "--param", "backup=\(folder)", "--param", "confirm=\(name)", "--state-dir", state],
            directory: repositoryRoot,
            timeout: 300)
        let taken = try #require(
            try String(contentsOfFile: folder + "/manifest.json", encoding: .utf8).split(separator: "\"").drop { $0 != "createdAt" }.dropFirst(2).first)
        #expect(
            plan.status == 0 && plan.stdout.contains("the backup was taken \(taken)")
                && plan.stdout.contains("1 znode(s) written since would be lost (/after-restore); 0 deleted since would come back"),
            "\(plan.stdout.suffix(3000))")
        #expect(plan.stdout.contains("afterwards, left for you: each server's data from before the restore"), "\(plan.stdout.prefix(2000))")
        print("plan restore: " + (plan.stdout.split(separator: "\n").first { $0.contains("-> ") && $0.contains("the backup was taken") } ?? "?"))
        FileManager.default.createFile(atPath: workspace.file("fail-node-3"), contents: nil)
        let failed = try zkrunbook.run(arguments + ["--param", "confirm=\(name)"], directory: repositoryRoot, timeout: 600)
        // Said on failure: which step did not succeed and why (the whole output is too long to read in a report).
        let failures = jsonLines(failed.stdout).filter {
            ["failed", "refused", "timed-out"].contains($0["status"] as? String ?? "") || $0["type"] as? String == "run-finished"
        }
        .map { "\($0["type"] ?? "?") \($0["step"] ?? "") \($0["status"] ?? ""): \(String(describing: $0["message"] ?? "").prefix(300))" }
        #expect(
            failed.status == 1 && failed.stdout.contains("node 3 refused by the test") && failed.stdout.contains("rolled-back"),
            "exit \(failed.status): \(failures.joined(separator: "\n"))\n\(failed.stderr.suffix(1000))")
        try poll("the old ensemble serving", timeout: 90) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }
        #expect(try dump(ensemble) == before, "every server serves what it held before the failed restore")
    }
}

extension BackupTests {
    /// With snapCount=100 every node holds many snapshots and logs; purge keep=3 leaves the newest three and
    /// the logs they need on every node, and a server restarted afterwards loads the same tree.
    @Test func purgeKeepsTheNewestThreeSnapshotsAndWhatTheyNeed() throws {
        let workspace = Scratch("purge")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        for node in 1...3 {
            var text = try String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)
            text += "snapCount=100\n"
            try text.write(toFile: ensemble.zooCfg(node), atomically: true, encoding: .utf8)
            #expect(try zkrunbook.run(["sandbox", "restart", "--dir", ensemble.directory, "--node", String(node), "--wait"], timeout: 120).status == 0)
        }
        try poll("the ensemble healthy with snapCount=100", timeout: 60) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }
        let writer = try fill(ensemble, workspace)
        writer.close()
        let folder = { (node: Int) in ensemble.directory + "/node\(node)/data/version-2" }
        let files = { (node: Int, prefix: String) in self.backups(folder(node)).filter { $0.hasPrefix(prefix) } }
        let before = try dump(ensemble)
        let snapshotsBefore = (1...3).map { files($0, "snapshot.").count }
        #expect(snapshotsBefore.allSatisfy { $0 > 3 }, "snapCount=100 made many snapshots: \(snapshotsBefore)")

        let file = try ensemble.variant("ensemble-purge.json5") { _ in }
        let refused = try zkrunbook.run(
            ["run", "purge", "--ensemble", file, "--param", "keep=2", "--state-dir", workspace.file("state")], directory: repositoryRoot)
        #expect(refused.status == 1 && refused.stdout.contains("must be 3 or more"), "\(refused.stdout.suffix(1000))")
        let purge = try zkrunbook.run(
            ["run", "purge", "--ensemble", file, "--param", "keep=3", "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        #expect(purge.status == 0, "\(purge.stdout.suffix(2000))")
        for node in 1...3 {
            let snapshots = files(node, "snapshot.")
            #expect(snapshots.count == 3, "node \(node): \(snapshots)")
            let oldest = snapshots.compactMap { Int64($0.dropFirst("snapshot.".count), radix: 16) }.min() ?? 0
            let logs = files(node, "log.").compactMap { Int64($0.dropFirst("log.".count), radix: 16) }
            #expect(logs.filter { $0 <= oldest }.count <= 1, "node \(node): at most the one log holding the transactions after the oldest snapshot: \(logs)")
        }
        print("purge keep=3: snapshots per node \(snapshotsBefore) -> \((1...3).map { files($0, "snapshot.").count })")
        #expect(try zkrunbook.run(["sandbox", "restart", "--dir", ensemble.directory, "--node", "1", "--wait"], timeout: 120).status == 0)
        try poll("the ensemble healthy after node 1's restart", timeout: 60) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }
        let alone = try ZKRunbookBinary(path: KazooWitness.python).run(
            [repositoryRoot + "/Tests/support/dump-znodes.py", "127.0.0.1:\(ensemble.clientPort(1))"], timeout: 300)
        let tree = try JSONSerialization.jsonObject(with: Data(alone.stdout.utf8)) as? [String: Any]
        #expect((tree?["persistent"] as? [String: String]) == before.persistent, "server 1, restarted on what purge left, serves the same tree")
    }
}

extension BackupTests {
    /// doctor --zoo-cfg on a node whose data disk (a 1 MiB tmpfs) cannot hold another 600 KiB snapshot, with
    /// autopurge off: both named, with purge as the next runbook.
    @Test func doctorNamesADataDiskThatCannotHoldTheNextSnapshot() throws {
        let workspace = Scratch("doctor-disk")
        let disk = workspace.folder("disk")
        let mounted = try ZKRunbookBinary(path: "/bin/mount").run(["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk])
        guard mounted.status == 0 else { throw HarnessError(message: "mounting a 1 MiB tmpfs failed (this test needs root): \(mounted.stderr)") }
        defer { _ = try? ZKRunbookBinary(path: "/bin/umount").run([disk]) }
        try FileManager.default.createDirectory(atPath: disk + "/version-2", withIntermediateDirectories: true)
        try Data(count: 600 << 10).write(to: URL(fileURLWithPath: disk + "/version-2/snapshot.100000000"))
        let config = workspace.write(
            "zoo.cfg",
            "tickTime=2000\ndataDir=\(disk)\nclientPort=1\nadmin.enableServer=false\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n"
        )
        let doctor = try zkrunbook.run(["doctor", "--zoo-cfg", config, "--json", "--state-dir", workspace.file("state")])
        #expect(doctor.status == 1, "\(doctor.stdout)\n\(doctor.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any]
        let findings = (report?["findings"] as? [[String: Any]]) ?? []
        let ids = findings.compactMap { $0["id"] as? String }
        #expect(ids.contains("disk-snapshot-will-not-fit") && ids.contains("autopurge-off"), "\(ids)")
        #expect(findings.first { $0["id"] as? String == "disk-snapshot-will-not-fit" }?["nextRunbook"] as? String == "purge")
    }
}

extension BackupTests {
    /// What a restore needs is proven on every node before the first stop: a stop command that is not there,
    /// and a data folder whose file system (an 8 MiB tmpfs mounted on it) has no room for the backup beside
    /// the data, each refuse the restore (exit 3) with every server still running as it was. The same
    /// mount point grown to 200 MiB (the backup holds a 64 MiB preallocated log) is restored: its contents set aside inside it, since it cannot be renamed.
    @Test func aRestoreThatCannotBeDoneIsRefusedBeforeAnyStopAndAMountPointIsRestored() throws {
        let workspace = Scratch("restore-preflight")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let state = workspace.file("state")
        let writer = try fill(ensemble, workspace)
        writer.close()
        let file = try ensemble.variant("ensemble-restore.json5") { _ in }
        let name = try #require(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\"").dropFirst().first { $0.hasPrefix("sandbox-") })
            .description
        let dest = workspace.file("backups")
        let backup = try zkrunbook.run(
            ["run", "backup", "-v", "--ensemble", file, "--param", "dest=\(dest)", "--state-dir", state], directory: repositoryRoot, timeout: 600)
        #expect(backup.status == 0, "\(backup.stdout.suffix(2000))")
        let folder = dest + "/" + (try #require(backups(dest).first))
        let backedUp = try dump(ensemble)
        func restore(_ file: String) throws -> ZKRunbookBinary.Result {
            try zkrunbook.run(
                ["run", "restore", "-v", "--ensemble", file, "--param", "backup=\(folder)", "--param", "confirm=\(name)", "--state-dir", state],
                directory: repositoryRoot,
                timeout: 600)
        }

        let noStop = try ensemble.variant("ensemble-no-stop.json5") { text in
            text = text.replacingOccurrences(of: "stopCommand: [\"", with: "stopCommand: [\"/nonexistent/zookeeper-stop\", \"")
        }
        var pids = ensemble.pids
        let missing = try restore(noStop)
        #expect(missing.status == 3, "\(missing.stdout.suffix(2000))")
        #expect(missing.stdout.contains("/nonexistent/zookeeper-stop is not an executable file"), "\(missing.stdout.suffix(2000))")
        #expect(ensemble.pids == pids, "a server was stopped or restarted")

        // Node 2's data folder becomes an 8 MiB tmpfs holding the same files.
        let data = ensemble.directory + "/node2/data"
        #expect(try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", "2"]).status == 0)
        try FileManager.default.moveItem(atPath: data, toPath: data + "-on-disk")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        let mounted = try ZKRunbookBinary(path: "/bin/mount").run(["-t", "tmpfs", "-o", "size=8m", "tmpfs", data])
        guard mounted.status == 0 else { throw HarnessError(message: "mounting an 8 MiB tmpfs failed (this test needs root): \(mounted.stderr)") }
        defer { _ = try? ZKRunbookBinary(path: "/bin/umount").run(["-l", data]) }
        #expect(try ZKRunbookBinary(path: "/bin/cp").run(["-a", data + "-on-disk/.", data]).status == 0)
        #expect(try zkrunbook.run(["sandbox", "start", "--dir", ensemble.directory, "--node", "2"]).status == 0)
        try poll("the ensemble healthy with node 2 on its tmpfs", timeout: 90) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }
        pids = ensemble.pids
        let full = try restore(file)
        #expect(full.status == 3, "\(full.stdout.suffix(2000))")
        #expect(full.stdout.contains("the file system of \(data) has") && full.stdout.contains("refused before any stop"), "\(full.stdout.suffix(2000))")
        #expect(ensemble.pids == pids, "a server was stopped or restarted")

        #expect(try ZKRunbookBinary(path: "/bin/mount").run(["-o", "remount,size=200m", data]).status == 0)
        let restored = try restore(file)
        #expect(restored.status == 0, "\(restored.stdout.suffix(3000))")
        #expect(restored.stdout.contains("\(data) is a mount point"), "said before the stop: \(restored.stdout.suffix(3000))")
        #expect(backups(data).contains { $0.hasPrefix(".zkrunbook-replaced-") }, "\(backups(data))")
        #expect(try dump(ensemble).persistent == backedUp.persistent)
    }
}

extension BackupTests {
    /// A fresh ensemble, no write yet: its zxid 0x100000000 names a new epoch with no transaction in it, so a
    /// backup whose logs end at 0x0 misses nothing (it was refused as "transactions are missing").
    @Test func aFreshEnsembleWithNoWriteIsBackedUp() throws {
        let workspace = Scratch("fresh-backup")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let file = try ensemble.variant("ensemble-fresh.json5") { _ in }
        let dest = workspace.file("backups")
        let backup = try zkrunbook.run(
            ["run", "backup", "-v", "--ensemble", file, "--param", "dest=\(dest)", "--state-dir", workspace.file("state")], directory: repositoryRoot,
            timeout: 300)
        #expect(backup.status == 0, "\(backup.stdout.suffix(2000))")
        let folder = try #require(backups(dest).first)
        let verify = try zkrunbook.run(
            ["run", "backup-verify", "--param", "backup=\(dest)/\(folder)", "--state-dir", workspace.file("state")], directory: repositoryRoot)
        #expect(verify.status == 0, "\(verify.stdout.suffix(2000))")
    }
}
