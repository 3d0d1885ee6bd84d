import Foundation
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-config-backup`: copies zoo.cfg, its dynamic config file and myid into a named folder on this node,
/// with a manifest, for `zk-config-renumber` and the way back (`zk-config-restore`).
struct ZKConfigBackupAction: ArgumentsDecodable {
    static let name = "zk-config-backup"
    static let summary = "back up zoo.cfg, its dynamic config file and myid into 'backupDir' (kept across runs, for dc-restore)"

    var config: Template
    var backupDir: Template
    var isReadOnly: Bool { false }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["back up \(config.display(resolver)), its dynamic config file if any, myid, and java.env beside it if any, to \(backupDir.display(resolver))"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, backupDir])
        let loaded: ZooConfig
        // A joining server's dynamic file may not exist yet: recorded as absent, so a restore removes it.
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false, dynamicMayBeMissing: true) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        let backup = ConfigBackup(directory: values[1])
        let missing = { (path: String) in !FileManager.default.fileExists(atPath: path) }
        let taken = ConfigBackup.files(of: loaded).flatMap { paths in
            backup.take(paths.filter { !missing($0) }, absent: [ConfigBackup.javaEnvPath(of: loaded)] + paths.filter(missing))
        }
        switch taken {
        case .failure(let problem): return .failure(cause: .backupFailed, message: problem.message)
        case .success(let message): return .success(message, facts: ["backupDir": .string(values[1])])
        }
    }
}
