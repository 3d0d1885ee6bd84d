import Foundation
import Testing
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTestSupport
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

@testable import ZKRunbookRolling

/// The installer's node-side script, run locally: a copy whose sha256 does not match never lands.
struct InstallerTests {
    /// Folders live as long as the suite value: each test gets its own.
    let scratches = Scratches()

    func scratch(_ label: String) -> String {
        let scratch = Scratch("installer-\(label)")
        scratch.folder("bin")
        scratches.keep(scratch)
        return scratch.path
    }

    func installer(_ directory: String, source: String, claimedSHA: String) throws -> (AgentInstaller, NodePreflight) {
        let path = directory + "/e.json5"
        try Data("{ nodes: [{ id: 1, host: \"127.0.0.1\", clientPort: 2181, agentPath: \"\(directory)/bin/zkrunbook\" }], restartCommand: [\"true\"] }".utf8)
            .write(to: URL(fileURLWithPath: path))
        let ensemble = try EnsembleFile.load(path: path)
        let member = try #require(ensemble.nodes.first)
        let file = InstallPayload.File(name: "zkrunbook", path: source, sha256: claimedSHA, size: 5)
        let installer = AgentInstaller(ensemble: ensemble, payload: InstallPayload(binary: file, runbooks: [], runbooksSource: nil))
        return (installer, installer.preflight(member, agentPath: directory + "/bin/zkrunbook"))
    }

    @Test func aCopyWhoseHashDiffersOnTheNodeIsRemovedAndTheOldBinaryStays() throws {
        let directory = scratch("mismatch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/bin/zkrunbook"
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: target))
        let source = directory + "/new"
        try Data("new!\n".utf8).write(to: URL(fileURLWithPath: source))
        let (installer, check) = try installer(directory, source: source, claimedSHA: String(repeating: "0", count: 64))
        #expect(check.problem == nil, "\(check.problem ?? "")")
        #expect(check.currentBinary == (try SHA256.hex(fileAt: target)))
        let results = installer.install([check], dryRun: false)
        #expect(results.first?.outcome == .failed)
        #expect(results.first?.lines.joined().contains("expected 0000") == true, "\(results.first?.lines ?? [])")
        #expect(FileManager.default.contents(atPath: target) == Data("old\n".utf8), "the old binary is untouched")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/bin") == ["zkrunbook"], "the temporary copy is removed")
    }

    @Test func aMatchingCopyReplacesTheBinaryAtomicallyWithItsMode() throws {
        let directory = scratch("match")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/new"
        try Data("new!\n".utf8).write(to: URL(fileURLWithPath: source))
        let (installer, check) = try installer(directory, source: source, claimedSHA: try SHA256.hex(fileAt: source))
        #expect(check.currentBinary == nil)
        let results = installer.install([check], dryRun: false)
        #expect(results.first?.outcome == .installed, "\(results.first?.lines ?? [])")
        let target = directory + "/bin/zkrunbook"
        #expect(FileManager.default.contents(atPath: target) == Data("new!\n".utf8))
        let mode = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int
        #expect(mode == 0o755)
        let again = installer.install([installer.preflight(check.member, agentPath: target)], dryRun: false)
        #expect(again.first?.outcome == .alreadyCurrent)
    }

    @Test func runbooksArriveByteIdenticalWhateverTheirNamesAndLastLines() throws {
        let directory = scratch("texts")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files: [(String, Data)] = [("it's a \"runbook\" $(id).json5", Data("{ no trailing newline }".utf8)), ("b.json5", Data("x\n\n".utf8))]
        var script = RemoteScript.uploadTextHeader(directory: directory + "/books")
        for (name, contents) in files {
            script += RemoteScript.uploadText(name: name, sha256: SHA256.hex(contents), contents: contents)
        }
        script += RemoteScript.commitTexts(names: files.map(\.0))
        let result = LocalCommandRunner().run(CommandSpec(argv: ["sh", "-s"], standardInput: Data(script.utf8)), cancellation: nil)
        #expect(result.termination == .exited(0), "\(result.stderr.text)")
        for (name, contents) in files {
            #expect(FileManager.default.contents(atPath: directory + "/books/" + name) == contents, "\(name)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/books").count == 2, "no temporary file is left")

        // One wrong hash: nothing is renamed into place, and nothing is left behind.
        var bad = RemoteScript.uploadTextHeader(directory: directory + "/other")
        bad += RemoteScript.uploadText(name: "a.json5", sha256: String(repeating: "a", count: 64), contents: Data("a".utf8))
        bad += RemoteScript.commitTexts(names: ["a.json5"])
        let refused = LocalCommandRunner().run(CommandSpec(argv: ["sh", "-s"], standardInput: Data(bad.utf8)), cancellation: nil)
        #expect(refused.termination == .exited(22))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/other").isEmpty)
    }
}
