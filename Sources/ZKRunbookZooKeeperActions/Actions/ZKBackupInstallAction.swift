import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-backup-install`: on a stopped node whose data folders were set aside (`zk-data-aside`), puts a
/// backup's files in place: the snapshot and epoch files into dataDir/version-2, the logs into
/// dataLogDir/version-2, owned as the data folder is. The backup is checked first; a folder that already
/// holds data is refused (set it aside first: nothing is overwritten).
struct ZKBackupInstallAction: ArgumentsDecodable {
    static let name = "zk-backup-install"
    static let summary = "put a checked backup's snapshot, logs and epoch files into this node's empty data folders"

    var config: Template
    var backup: Template
    var isReadOnly: Bool { false }
    var yieldedFacts: FactNames? { FactNames(["files", "zxid", "znodes"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["check \(backup.display(resolver)), then copy its files into the (empty) version-2 folders of the data folders \(config.display(resolver)) names"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, backup])
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false, dynamicMayBeMissing: true) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        guard let dataDir = loaded.dataDir, let dataFolder = loaded.snapshotFolder, let logFolder = loaded.logFolder else {
            return .failure(cause: .invalidArgument, message: "\(values[0]) sets no dataDir")
        }
        let manifest: BackupManifest
        do { manifest = try BackupFolder(path: values[1]).verify().manifest } catch { return .failure(cause: .verifyFailed, message: error.description) }
        let targets = ["data": dataFolder, "log": logFolder]
        let manager = FileManager.default
        for folder in Set(targets.values) {
            let present = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("snapshot.") || $0.hasPrefix("log.") }
            guard present.isEmpty else {
                return .failure(cause: .invalidArgument, message: "\(folder) already holds \(present.count) data file(s): set the data folders aside first (zk-data-aside)")
            }
        }
        let owner = FileInfo.stat(dataDir)
        var copied = 0
        for file in manifest.files {
            guard let folder = targets[file.kind] else { return .failure(cause: .invalidArgument, message: "\(file.name): unknown kind '\(file.kind)' in the manifest") }
            do {
                try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let digest = try copyFileAtomically(
                    from: values[1] + "/" + file.name, to: folder + "/" + file.name, mode: 0o644, uid: owner?.uid ?? getuid(), gid: owner?.gid ?? getgid())
                guard digest == file.sha256 else { return .failure(cause: .verifyFailed, message: "\(folder)/\(file.name): copied bytes differ from the backup's") }
                copied += 1
            } catch let error as FileCopyError {
                return .failure(cause: .ioError, message: "copying \(file.name) into \(folder): \(error.message)")
            } catch {
                return .failure(cause: .ioError, message: "creating \(folder): \(error.localizedDescription)")
            }
        }
        return .success(
            "installed \(copied) file(s) of \(values[1]) (\(manifest.znodes) node(s) up to \(manifest.lastZxid))",
            facts: ["files": .int(Int64(copied)), "zxid": .string(manifest.lastZxid), "znodes": .int(Int64(manifest.znodes))])
    }
}
