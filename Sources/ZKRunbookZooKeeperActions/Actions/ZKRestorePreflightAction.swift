import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-restore-preflight`: on a node, before a restore stops anything, proves its part possible: room on each
/// data folder's file system for the backup's files beside the data set aside, data folders that can be set
/// aside (a mount point cannot be renamed: its contents are set aside inside it instead, and that is said),
/// and the commands the restore will run there present. Read-only.
///
/// Why before the stop: each of these was found, before, only after every server was stopped — an outage
/// that ended in a rollback instead of a restore.
struct ZKRestorePreflightAction: ArgumentsDecodable {
    static let name = "zk-restore-preflight"
    static let summary = "read-only: room for the backup beside the data, data folders that can be set aside, the stop and start commands present"

    var config: Template
    var backup: Template
    /// The commands the restore runs on this node (argv parameters): their programs must be here.
    var commands: [Template]?
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? { FactNames(["neededBytes", "mountPoints"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "room on the file systems of the data folders of \(config.display(resolver)) for the files of \(backup.display(resolver)); the data folders can be set aside; the stop and start commands are here"
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, backup])
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false, dynamicMayBeMissing: true) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        guard let dataDir = loaded.dataDir else { return .failure(cause: .invalidArgument, message: "\(values[0]) sets no dataDir") }
        let logDir = loaded.dataLogDir ?? dataDir
        let manifest: BackupManifest
        do { manifest = try BackupFolder(path: values[1]).manifest() } catch { return .failure(cause: .verifyFailed, message: error.description) }
        var problems: [String] = []
        var notes: [String] = []

        // Room: the backup's data files go to dataDir, its logs to dataLogDir; on one file system, both.
        var needs: [String: (folder: String, bytes: Int64)] = [:]
        for file in manifest.files {
            let folder = file.kind == "log" ? logDir : dataDir
            let device = Self.fileSystem(of: folder)
            needs[device, default: (folder, 0)].bytes += file.bytes
        }
        var needed: Int64 = 0
        for (_, need) in needs.sorted(by: { $0.value.folder < $1.value.folder }) {
            needed += need.bytes
            guard let free = Self.freeBytes(at: need.folder) else {
                problems.append("cannot read the free space of the file system of \(need.folder)")
                continue
            }
            // A margin of 5% and 16 MiB: the server writes a new log and snapshot as soon as it starts.
            let wanted = need.bytes + need.bytes / 20 + (16 << 20)
            if free < wanted {
                problems.append(
                    "the file system of \(need.folder) has \(Self.mib(free)) free, the backup's files need \(Self.mib(need.bytes)) there (with a margin, \(Self.mib(wanted))): the old data stays beside the restored data; free space or restore elsewhere"
                )
            }
        }

        // Set aside: a folder is renamed on its own file system; a mount point cannot be (EBUSY).
        var mountPoints: [String] = []
        for folder in Array(Set([dataDir, logDir])).sorted() {
            guard FileInfo.stat(folder) != nil else { continue }
            if Self.isMountPoint(folder) {
                mountPoints.append(folder)
                notes.append("\(folder) is a mount point: its contents will be set aside inside it (renames on its own file system), not the folder itself")
            } else if access((folder as NSString).deletingLastPathComponent, W_OK) != 0 {
                problems.append("\((folder as NSString).deletingLastPathComponent) is not writable here: \(folder) cannot be set aside")
            }
        }

        // Commands: the program of each must be here (an absolute path, or on PATH).
        for template in commands ?? [] {
            var words = template.argvWords(context.resolver) ?? []
            if words.isEmpty { words = [try context.resolved(template)] }
            guard let program = words.first, !program.isEmpty else { continue }
            if !Self.isRunnable(program) {
                problems.append("the command \(ShellQuoting.join(words)) cannot run here: \(program) is not an executable file\(program.contains("/") ? "" : " on PATH")")
            }
        }

        let facts: [String: FactValue] = ["neededBytes": .int(needed), "mountPoints": .string(mountPoints.joined(separator: ","))]
        if !problems.isEmpty {
            var refusal = ActionOutcome.failure(cause: .refused, message: "refused before any stop: " + problems.joined(separator: "; "), facts: facts, evidence: notes)
            refusal.changedSomething = false
            return refusal
        }
        return .success(
            "the backup's \(Self.mib(needed)) fit beside the data; the data folders can be set aside; the commands are here" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")),
            facts: facts)
    }

    static func mib(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    /// The nearest existing folder's device: a data folder not made yet lands on its parent's file system.
    static func fileSystem(of path: String) -> String {
        var current = path
        var buffer = stat()
        while stat(current, &buffer) != 0 && current != "/" { current = (current as NSString).deletingLastPathComponent }
        return String(buffer.st_dev)
    }

    static func freeBytes(at path: String) -> Int64? {
        var current = path
        var buffer = statvfs()
        while statvfs(current, &buffer) != 0 {
            if current == "/" { return nil }
            current = (current as NSString).deletingLastPathComponent
        }
        return Int64(buffer.f_bavail) * Int64(buffer.f_frsize)
    }

    /// A folder on another device than its parent is a mount point (a bind mount of a folder on the same
    /// device is not seen this way; its rename fails EBUSY too, and zk-data-aside then says so).
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat()
        var parent = stat()
        guard stat(path, &own) == 0, stat((path as NSString).deletingLastPathComponent, &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev
    }

    static func isRunnable(_ program: String) -> Bool {
        if program.contains("/") { return access(program, X_OK) == 0 }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").contains { access("\($0)/\(program)", X_OK) == 0 }
    }
}
