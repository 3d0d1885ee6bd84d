import Foundation
import ZKRunbookTestSupport
import Testing

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
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: KazooWitness.python)
        writer.arguments = [repositoryRoot + "/Tests/support/fill-znodes.py", "127.0.0.1:\(ensemble.clientPort(1))", "2000"]
        let input = Pipe()
        let output = workspace.file("fill.out")
        FileManager.default.createFile(atPath: output, contents: nil)
        writer.standardInput = input
        writer.standardOutput = FileHandle(forWritingAtPath: output)
        try writer.run()
        defer { try? input.fileHandleForWriting.close() }
        try poll("the test tree written", timeout: 180) { workspace.text("fill.out").contains("ready") || !writer.isRunning }
        #expect(workspace.text("fill.out").contains("ready"), "fill-znodes.py stopped: is python3-kazoo installed?")

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
