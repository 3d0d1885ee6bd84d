import Foundation
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-config-restore`: puts back what `zk-config-backup` kept (content, mode, owner, checked by hash),
/// then renames the folder `<folder>.restored-<time>`. No backup there: nothing to restore, success.
struct ZKConfigRestoreAction: ArgumentsDecodable {
    static let name = "zk-config-restore"
    static let summary = "restore the files a zk-config-backup folder holds, byte for byte, mode and owner kept"

    var backupDir: Template
    var isReadOnly: Bool { false }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["restore every file backed up in \(backupDir.display(resolver)) (nothing to do if there is no backup), then keep the folder as \(backupDir.display(resolver)).restored-<time>"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let directory = try context.resolved(backupDir)
        switch ConfigBackup(directory: directory).restore() {
        case .failure(let problem): return .failure(cause: .restoreFailed, message: problem.message)
        case .success(let result):
            guard let keptAs = result.keptAs else {
                return .success("no backup in \(directory): nothing to restore", facts: ["restored": .int(0), "unchanged": .int(0)])
            }
            return .success(
                "restored \(result.restored.count) file(s)" + (result.restored.isEmpty ? "" : " (\(result.restored.joined(separator: ", ")))")
                    + ", \(result.unchanged.count) already as backed up; backup kept as \(keptAs)",
                facts: ["restored": .int(Int64(result.restored.count)), "unchanged": .int(Int64(result.unchanged.count)), "keptAs": .string(keptAs)])
        }
    }
}
