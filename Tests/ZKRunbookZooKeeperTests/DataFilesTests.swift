import Foundation
import Testing
import ZKRunbookZooKeeper

/// The snapshot and log readers on bytes made here, and the backup's choice of files from names alone.
struct DataFilesTests {
    @Test func adler32AsJavaComputesIt() {
        var checksum = Adler32()
        Array("Wikipedia".utf8).withUnsafeBytes { checksum.update($0) }
        #expect(checksum.value == 0x11E6_0398)
        var large = Adler32()
        [UInt8](repeating: 0xFF, count: 100_000).withUnsafeBytes { large.update($0) }
        // zlib.adler32(b"\xff" * 100000)
        #expect(large.value == 0x149A_302C)
    }

    /// The SIMD sums over a megabyte fed in uneven pieces (blocks of 32 split, runs of 5552 crossed) give what
    /// zlib gives: python3 -c "import zlib; print(hex(zlib.adler32(bytes(((i*7)+(i>>8))%256 for i in range(1000003)))))"
    @Test func adler32InPiecesAsZlibComputesIt() {
        let bytes = (0..<1_000_003).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 8)) }
        for piece in [1, 31, 33, 5551, 5553, 65_536, 1_000_003] {
            var checksum = Adler32()
            bytes.withUnsafeBytes { all in
                var start = 0
                while start < all.count {
                    let end = min(start + piece, all.count)
                    checksum.update(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                    start = end
                }
            }
            #expect(checksum.value == 0xC884_F4B3, "pieces of \(piece)")
        }
    }

    /// A minimal snapshot as FileSnap writes it: header, no sessions, no ACLs, the root and /a, the seal.
    func snapshotBytes(corruptAt: Int? = nil) -> [UInt8] {
        var out: [UInt8] = []
        func int(_ value: Int32) { out += withUnsafeBytes(of: value.bigEndian, Array.init) }
        func long(_ value: Int64) { out += withUnsafeBytes(of: value.bigEndian, Array.init) }
        func string(_ text: String) {
            int(Int32(text.utf8.count))
            out += Array(text.utf8)
        }
        func node(_ path: String, owner: Int64) {
            string(path)
            int(2)
            out += [1, 2]
            long(-1)
            for _ in 0..<4 { long(0) }
            for _ in 0..<3 { int(0) }
            long(owner)
            long(0)
        }
        int(0x5A4B_534E)
        int(2)
        long(0)
        int(0)
        int(0)
        node("", owner: 0)
        node("/a", owner: 0)
        node("/e", owner: 7)
        string("/")
        var checksum = Adler32()
        out.withUnsafeBytes { checksum.update($0) }
        long(Int64(checksum.value))
        string("/")
        if let corruptAt { out[corruptAt] ^= 1 }
        return out
    }

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let folder = NSTemporaryDirectory() + "zkr-datafiles-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aSnapshotIsReadAndACorruptOneNamedWithItsByte() throws {
        let good = try SnapshotSummary.read(path: try write(snapshotBytes(), "snapshot.1f"))
        #expect(good.zxid == 0x1F && good.nodes == 3 && good.seals == 1 && good.ephemerals == [7: ["/e"]])
        do {
            _ = try SnapshotSummary.read(path: try write(snapshotBytes(corruptAt: 40), "snapshot.1f"))
            Issue.record("a flipped byte went unnoticed")
        } catch {
            #expect("\(error)".contains("does not match the content") && "\(error)".contains("the file is corrupt"), "\(error)")
        }
        do {
            _ = try SnapshotSummary.read(path: try write(Array(snapshotBytes().prefix(60)), "snapshot.1f"))
            Issue.record("a truncated snapshot went unnoticed")
        } catch {
            #expect("\(error)".contains("truncated or corrupt"), "\(error)")
        }
    }

    @Test func theReplayRemovesAClosedSessionsEphemerals() throws {
        let snapshot = try SnapshotSummary.read(path: try write(snapshotBytes(), "snapshot.1f"))
        var replay = TreeReplay(snapshot)
        replay.apply(
            [
                LoggedTxn(zxid: 0x20, session: 9, effects: [.create(path: "/b", ephemeralOwner: 9)]),
                LoggedTxn(zxid: 0x21, session: 7, effects: [.closeSession]),
                LoggedTxn(zxid: 0x22, session: 9, effects: [.delete(path: "/a")]),
            ], upTo: 0x21)
        #expect(replay.nodes == 3 && replay.zxid == 0x21, "/e gone with session 7, /b there, /a not yet deleted")
    }

    @Test func theBackupTakesTheLogHoldingTheNextTransactionAndEveryLaterOne() {
        let names = ["log.1", "log.100000001", "log.100000900", "snapshot.0", "snapshot.1000008cc", "acceptedEpoch"]
        #expect(BackupSelection.snapshots(names) == ["snapshot.1000008cc", "snapshot.0"])
        #expect(BackupSelection.logs(names, after: 0x1_0000_08CC) == ["log.100000001", "log.100000900"], "the transaction after it is in log.100000001")
        #expect(BackupSelection.logs(names, after: 0x1_0000_0950) == ["log.100000900"])
        #expect(BackupSelection.logs(names, after: 0x1_0000_0500) == ["log.100000001", "log.100000900"])
        #expect(BackupSelection.logs(names, after: 0) == ["log.1", "log.100000001", "log.100000900"])
        #expect(BackupSelection.expired(["zk-0002-b", "zk-0001-a", "zk-0003-c", "other-0001"], ensemble: "zk", keep: 2) == ["zk-0001-a"])
    }
}

struct RestoreLossTests {
    /// Written since: lost; deleted since: back; the backup's ephemerals counted apart; ZooKeeper's own
    /// subtree and the root in neither.
    @Test func aRestoreLosesWhatWasWrittenSinceAndBringsBackWhatWasDeleted() {
        let loss = RestoreLoss(
            backup: ["", "/zookeeper", "/zookeeper/quota", "/app", "/app/a", "/app/gone", "/app/lock-1"], backupEphemerals: ["/app/lock-1"],
            live: ["/zookeeper", "/zookeeper/config", "/app", "/app/a", "/app/new", "/app/new/child"])
        #expect(loss.lost == ["/app/new", "/app/new/child"])
        #expect(loss.returning == ["/app/gone"])
        #expect(loss.returningEphemerals == 1)
        #expect((loss.backupZnodes, loss.liveZnodes) == (4, 4))
        #expect(
            loss.sentence(examples: 1)
                == "2 znode(s) written since would be lost (/app/new, …); 1 deleted since would come back (/app/gone); 1 ephemeral(s) would come back until their old sessions expire"
        )
    }
}
