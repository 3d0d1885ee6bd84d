import Foundation
import Testing
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTestSupport
import ZKRunbookZooKeeperActions

#if canImport(Glibc)
import Glibc
#endif

/// `zk-disk` against real file systems: a roomy one, and a small tmpfs filled up (the disk that fills).
@Suite(.serialized)
struct DiskProbeTests {
    static let runbook = """
        { name: "disk", parameters: { zooCfg: { type: "path", required: true } }, steps: [
          { id: "disk", description: "room on the disks", action: "zk-disk", with: { zooCfg: "${zooCfg}" } },
          { id: "room", description: "10% free for the transaction log", action: "assert", with: { fact: "steps.disk.dataLogDirFreePercent", atLeast: 10 } },
        ] }
        """

    func run(_ zooCfg: String, state: String) throws -> (RunOutcome, [Event]) {
        let registry = try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all)
        let runbook = try RunbookLoader(registry: registry).load(text: Self.runbook, path: "disk.json5")
        let recorder = EventRecorder()
        let outcome = try RunService(registry: registry).start(
            runbook, parameters: ["zooCfg": .path(zooCfg)], options: RunOptions(layout: StateLayout(root: state)), sink: recorder,
            cancellation: CancellationToken())
        return (outcome, recorder.events)
    }

    @Test func measuresRoomAndZooKeepersOwnFiles() throws {
        let scratch = Scratch("disk")
        scratch.write("data/version-2/snapshot.100000000", String(repeating: "s", count: 1000))
        scratch.write("data/version-2/snapshot.200000000", String(repeating: "s", count: 500))
        scratch.write("log/version-2/log.100000001", String(repeating: "l", count: 4096))
        let zooCfg = scratch.write("zoo.cfg", "dataDir=\(scratch.file("data"))\ndataLogDir=\(scratch.file("log"))\nclientPort=2181\n")
        let (outcome, events) = try run(zooCfg, state: scratch.file("state"))
        #expect(outcome.status == .succeeded, "\(outcome.message)")
        let facts = try #require(events.first { $0.type == .stepFinished && $0.step == "disk" }?.facts)
        #expect(facts["snapshots"] == .int(2))
        #expect(facts["snapshotBytes"] == .int(1500))
        #expect(facts["txnLogs"] == .int(1))
        #expect(facts["txnLogBytes"] == .int(4096))
        #expect(facts["sameDisk"] == .bool(true))
        guard case .int(let free)? = facts["dataDirFreeBytes"] else { Issue.record("no free bytes"); return }
        #expect(free > 0)
    }

    @Test func aFullLogDiskIsRefusedBeforeAnyChange() throws {
        let scratch = Scratch("disk-full")
        let mountPoint = scratch.folder("log")
        let mount = try ZKRunbookBinary(path: "/bin/mount").run(["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint])
        guard mount.status == 0 else { throw HarnessError(message: "cannot mount a small tmpfs (the test needs root): \(mount.stderr)") }
        defer { _ = try? ZKRunbookBinary(path: "/bin/umount").run([mountPoint]) }
        // Fill it to the last block, as a transaction log that ran the disk full.
        _ = try ZKRunbookBinary(path: "/bin/sh").run(["-c", "mkdir -p '\(mountPoint)/version-2'; cat /dev/zero > '\(mountPoint)/version-2/log.1' 2>/dev/null; true"])
        let zooCfg = scratch.write("zoo.cfg", "dataDir=\(scratch.folder("data"))\ndataLogDir=\(mountPoint)\n")
        let (outcome, events) = try run(zooCfg, state: scratch.file("state"))
        #expect(outcome.status == .refused, "\(outcome.message)")
        #expect(outcome.message.contains("steps.disk.dataLogDirFreePercent"), "\(outcome.message)")
        let facts = events.first { $0.type == .stepFinished && $0.step == "disk" }?.facts
        #expect(facts?["sameDisk"] == .bool(false))
        #expect(facts?["txnLogBytes"].map { if case .int(let bytes) = $0 { return bytes > 200_000 } else { return false } } == true)
    }
}
