import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-disk`: how much room the node's dataDir and dataLogDir have left, and how much ZooKeeper keeps there.
///
/// A full transaction-log disk stops a server from writing (it leaves the quorum), so a guard such as
/// `dataLogDirFreePercent atLeast 10` keeps a runbook from restarting into one.
struct ZKDiskAction: ArgumentsDecodable {
    static let name = "zk-disk"
    static let summary = "read-only: free space of the dataDir and dataLogDir in 'zooCfg', and the bytes of snapshots and transaction logs"

    var zooCfg: Template
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? {
        FactNames([
            "dataDir", "dataLogDir", "dataDirFreeBytes", "dataDirFreePercent", "dataLogDirFreeBytes", "dataLogDirFreePercent", "snapshotBytes",
            "snapshots", "txnLogBytes", "txnLogs", "sameDisk",
        ])
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["read dataDir and dataLogDir from \(zooCfg.display(resolver)): free space of each, and the bytes of snapshots and transaction logs"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let path = try context.resolved(zooCfg)
        let config: ZooConfig
        do { config = try ZooConfig.load(path: path, readMyid: false) } catch { return .failure(cause: .invalidArgument, message: error.description) }
        guard let dataDir = config.dataDir, let dataLogDir = config.dataLogDir else {
            return .failure(cause: .invalidArgument, message: "\(path) sets no dataDir")
        }
        guard let data = DiskRoom.of(dataDir), let log = DiskRoom.of(dataLogDir) else {
            return .failure(cause: .fileMissing, message: "cannot read the file systems of \(dataDir) and \(dataLogDir): \(String(cString: strerror(errno)))")
        }
        let snapshots = DiskRoom.files(in: dataDir + "/version-2", prefix: "snapshot.")
        let logs = DiskRoom.files(in: dataLogDir + "/version-2", prefix: "log.")
        let facts: [String: FactValue] = [
            "dataDir": .string(dataDir), "dataLogDir": .string(dataLogDir), "dataDirFreeBytes": .int(data.free), "dataDirFreePercent": .double(data.percent),
            "dataLogDirFreeBytes": .int(log.free), "dataLogDirFreePercent": .double(log.percent), "snapshots": .int(snapshots.count),
            "snapshotBytes": .int(snapshots.bytes), "txnLogs": .int(logs.count), "txnLogBytes": .int(logs.bytes), "sameDisk": .bool(data.device == log.device),
        ]
        let room = { (room: DiskRoom) in String(format: "%.1f%% free (%@)", room.percent, ByteCountFormatter.string(fromByteCount: room.free, countStyle: .binary)) }
        return .success(
            "dataDir \(dataDir): \(room(data)), \(snapshots.count) snapshot(s); dataLogDir \(dataLogDir): \(room(log)), \(logs.count) transaction log(s)",
            facts: facts)
    }
}

/// Free space of the file system a path is on, and what ZooKeeper's own files there weigh.
public struct DiskRoom: Sendable {
    public var free: Int64
    public var percent: Double
    public var device: UInt64

    public static func of(_ path: String) -> DiskRoom? {
        var vfs = statvfs()
        var info = stat()
        guard statvfs(path, &vfs) == 0, stat(path, &info) == 0, vfs.f_blocks > 0 else { return nil }
        let free = Int64(vfs.f_bavail) * Int64(vfs.f_frsize)
        return DiskRoom(free: free, percent: Double(vfs.f_bavail) / Double(vfs.f_blocks) * 100, device: UInt64(info.st_dev))
    }

    /// Count and total bytes of the files in `directory` whose names start with `prefix`.
    public static func files(in directory: String, prefix: String) -> (count: Int64, bytes: Int64) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(prefix) }
        let bytes = names.reduce(Int64(0)) { total, name in
            var info = stat()
            return total + (stat(directory + "/" + name, &info) == 0 ? Int64(info.st_size) : 0)
        }
        return (Int64(names.count), bytes)
    }
}
