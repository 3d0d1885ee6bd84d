import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-backup-verify`: checks a backup folder as restore will need it: every file's size and SHA-256 against
/// the manifest, the snapshot's seals, every log entry's checksum, and the node count replayed.
struct ZKBackupVerifyAction: ArgumentsDecodable {
    static let name = "zk-backup-verify"
    static let summary = "read-only: check a backup folder (hashes, snapshot seals, log checksums, node count replayed against the manifest)"

    var backup: Template
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? { FactNames(["ensemble", "member", "zxid", "znodes", "files", "bytes"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["check \(backup.display(resolver)): every file's size and SHA-256, the snapshot's seals, every log entry's checksum, the node count replayed"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let path = try context.resolved(backup)
        do {
            let (manifest, contents) = try BackupFolder(path: path).verify()
            let bytes = manifest.files.reduce(Int64(0)) { $0 + $1.bytes }
            return .success(
                "\(path) checks out: \(manifest.files.count) file(s), \(bytes) byte(s), \(contents.replay.nodes) node(s) up to \(manifest.lastZxid) (\(contents.snapshot.seals) snapshot seal(s), \(contents.logs.reduce(0) { $0 + $1.txns.count }) logged transaction(s))",
                facts: [
                    "ensemble": .string(manifest.ensemble), "member": .int(Int64(manifest.member)), "zxid": .string(manifest.lastZxid),
                    "znodes": .int(Int64(manifest.znodes)), "files": .int(Int64(manifest.files.count)), "bytes": .int(bytes),
                ])
        } catch {
            return .failure(cause: .verifyFailed, message: error.description)
        }
    }
}
