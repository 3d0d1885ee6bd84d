import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-data-aside`: before a node is rebuilt or restored, renames its dataDir (and a separate dataLogDir) to
/// `<dir>.replaced-<change>` and makes an empty one in its place, mode and owner kept, myid copied over: the old data stays
/// on the disk for the way back, and the server starts empty and takes a snapshot from the leader. With
/// `back: true` it undoes that: what the rebuilt server wrote is kept as `<dir>.failed-<change>` and the
/// old folder renamed back. Renames only, on one file system: nothing is copied, nothing deleted.
struct ZKDataAsideAction: ArgumentsDecodable {
    static let name = "zk-data-aside"
    static let summary = "move a node's dataDir (and dataLogDir) aside to <dir>.replaced-<change> and start it empty; back: true puts it back"

    var config: Template
    /// Names the kept folders: the conductor's run id.
    var change: Template
    var back: Bool
    var isReadOnly: Bool { false }
    static var defaults: [String: any ArgumentValue] { ["back": false] }
    var yieldedFacts: FactNames? { FactNames(["moved", "keptAs"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        back
            ? ["put the data folders of \(config.display(resolver)) back from <dir>.replaced-\(change.display(resolver)) (what was written since kept as <dir>.failed-…)"]
            : ["rename the dataDir (and dataLogDir) of \(config.display(resolver)) to <dir>.replaced-\(change.display(resolver)) and make empty ones in their place"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, change])
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false, dynamicMayBeMissing: true) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        guard let dataDir = loaded.dataDir else { return .failure(cause: .invalidArgument, message: "\(values[0]) sets no dataDir") }
        guard !values[1].isEmpty, !values[1].contains("/") else { return .failure(cause: .invalidArgument, message: "change '\(values[1])' must be a plain name") }
        let folders = Array(Set([dataDir, loaded.dataLogDir ?? dataDir])).sorted()
        let manager = FileManager.default
        var moved: [String] = []
        var keptAs: [String] = []
        for folder in folders {
            // A mount point cannot be renamed (EBUSY): its contents are set aside inside it, on its own file system.
            let inside = ZKRestorePreflightAction.isMountPoint(folder)
            let kept = inside ? folder + "/.zkrunbook-replaced-" + values[1] : folder + ".replaced-" + values[1]
            let failed = inside ? folder + "/.zkrunbook-failed-" + values[1] : folder + ".failed-" + values[1]
            do {
                if back {
                    guard manager.fileExists(atPath: kept) else { continue }
                    if inside {
                        try Self.moveEntries(of: folder, into: failed)
                        try Self.moveEntries(of: kept, into: folder)
                        try manager.removeItem(atPath: kept)
                    } else {
                        if manager.fileExists(atPath: folder) { try manager.moveItem(atPath: folder, toPath: failed) }
                        try manager.moveItem(atPath: kept, toPath: folder)
                    }
                    moved.append(folder)
                    if manager.fileExists(atPath: failed) { keptAs.append(failed) }
                } else {
                    // A resumed run finds its own rename done: the empty folder is the one it made.
                    if manager.fileExists(atPath: kept) { continue }
                    // A wiped disk has no folder to keep: an empty one is made, nothing is moved.
                    let info = FileInfo.stat(folder)
                    if inside {
                        try Self.moveEntries(of: folder, into: kept)
                    } else {
                        if info != nil { try manager.moveItem(atPath: folder, toPath: kept) }
                        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    }
                    if let info {
                        chmod(folder, info.mode)
                        _ = chown(folder, info.uid, info.gid)
                        moved.append(folder)
                        keptAs.append(kept)
                        // The server's id stays: myid is copied into the empty folder.
                        if manager.fileExists(atPath: kept + "/myid") { try manager.copyItem(atPath: kept + "/myid", toPath: folder + "/myid") }
                    }
                }
            } catch {
                return .failure(cause: .ioError, message: "cannot set \(back ? kept : folder) \(back ? "back" : "aside"): \(error.localizedDescription)")
            }
        }
        if back {
            return .success(
                moved.isEmpty
                    ? "nothing set aside under \(values[1]): nothing to put back"
                    : "put back \(moved.joined(separator: ", "))" + (keptAs.isEmpty ? "" : "; what the failed attempt wrote is left in \(keptAs.joined(separator: ", ")): remove it once you no longer need it"),
                facts: ["moved": .string(moved.joined(separator: ",")), "keptAs": .string(keptAs.joined(separator: ","))])
        }
        return .success(
            moved.isEmpty
                ? "nothing to set aside (\(folders.joined(separator: ", ")): absent, or set aside already); empty folders in place"
                : "moved \(moved.joined(separator: ", ")) aside to \(keptAs.joined(separator: ", ")) (kept for the way back: remove once the result is confirmed); empty folders in their place",
            facts: ["moved": .string(moved.joined(separator: ",")), "keptAs": .string(keptAs.joined(separator: ","))])
    }

    /// Moves every entry of `folder` but zkrunbook's own kept folders into `target` (made, mode 0700): renames
    /// on one file system.
    static func moveEntries(of folder: String, into target: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for name in try manager.contentsOfDirectory(atPath: folder) where !name.hasPrefix(".zkrunbook-") {
            try manager.moveItem(atPath: folder + "/" + name, toPath: target + "/" + name)
        }
    }
}
