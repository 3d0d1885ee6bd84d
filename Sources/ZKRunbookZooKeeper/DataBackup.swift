import Foundation

/// What a backup folder holds: written last (its presence means the copy is complete) and read by verify
/// and restore.
public struct BackupManifest: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// Its name in the backup folder and in version-2 of the data (or log) folder.
        public var name: String
        /// `data` (dataDir/version-2) or `log` (dataLogDir/version-2).
        public var kind: String
        public var bytes: Int64
        public var sha256: String

        public init(name: String, kind: String, bytes: Int64, sha256: String) { (self.name, self.kind, self.bytes, self.sha256) = (name, kind, bytes, sha256) }
    }

    public var format: Int
    public var ensemble: String
    public var member: Int
    public var createdAt: String
    public var snapshotZxid: String
    public var lastZxid: String
    /// Nodes after replaying the logs on the snapshot up to `lastZxid`.
    public var znodes: Int
    /// What the server said (srvr) just before the copy, and whether the count was compared at that zxid.
    public var reportedZxid: String?
    public var reportedZnodes: Int?
    public var countCheck: String
    public var files: [File]

    public init(
        ensemble: String, member: Int, createdAt: String, snapshotZxid: Int64, lastZxid: Int64, znodes: Int, reportedZxid: Int64?, reportedZnodes: Int?,
        countCheck: String, files: [File]
    ) {
        format = 1
        (self.ensemble, self.member, self.createdAt, self.znodes, self.countCheck, self.files) = (ensemble, member, createdAt, znodes, countCheck, files)
        self.snapshotZxid = "0x" + String(snapshotZxid, radix: 16)
        self.lastZxid = "0x" + String(lastZxid, radix: 16)
        self.reportedZxid = reportedZxid.map { "0x" + String($0, radix: 16) }
        self.reportedZnodes = reportedZnodes
    }
}

/// Which files of a data folder make a consistent copy, decided from the names alone: the newest snapshot,
/// every log from the one that holds the transaction after it on, and the epoch files.
public enum BackupSelection {
    public static func zxid(of name: String, prefix: String) -> Int64? {
        name.hasPrefix(prefix) ? Int64(name.dropFirst(prefix.count), radix: 16) : nil
    }

    /// Snapshot names, newest first.
    public static func snapshots(_ names: [String]) -> [String] {
        names.filter { zxid(of: $0, prefix: "snapshot.") != nil }.sorted { zxid(of: $0, prefix: "snapshot.")! > zxid(of: $1, prefix: "snapshot.")! }
    }

    /// The logs a restore from the snapshot at `snapshotZxid` needs: the last log starting at or before the
    /// transaction after it, and every later one.
    public static func logs(_ names: [String], after snapshotZxid: Int64) -> [String] {
        let sorted = names.compactMap { name in zxid(of: name, prefix: "log.").map { (name, $0) } }.sorted { $0.1 < $1.1 }
        let startIndex = sorted.lastIndex { $0.1 <= snapshotZxid + 1 } ?? 0
        return sorted.isEmpty ? [] : sorted[startIndex...].map(\.0)
    }

    /// The backups of `ensemble` in a folder, oldest first, beyond the newest `keep`: what may be removed.
    public static func expired(_ folders: [String], ensemble: String, keep: Int) -> [String] {
        let mine = folders.filter { $0.hasPrefix(ensemble + "-") }.sorted()
        return Array(mine.dropLast(max(1, keep)))
    }
}

/// What `zkCleanup.sh -n N` removes, decided from names and which snapshots check out: every snapshot older
/// than the oldest of the newest N that check out, and every log older than the one holding the transaction
/// after that snapshot. A snapshot that does not check out is never counted as kept.
public enum PurgePlan {
    public static func removable(snapshots: [String], logs: [String], keep: Int, checksOut: (String) -> Bool) -> (remove: [String], oldestKept: Int64?) {
        let newestFirst = BackupSelection.snapshots(snapshots)
        var kept: [String] = []
        for name in newestFirst where kept.count < keep {
            if checksOut(name) { kept.append(name) }
        }
        guard kept.count == keep, let oldest = kept.last, let oldestZxid = BackupSelection.zxid(of: oldest, prefix: "snapshot.") else {
            return ([], nil)
        }
        let oldSnapshots = newestFirst.filter { (BackupSelection.zxid(of: $0, prefix: "snapshot.") ?? .max) < oldestZxid }
        let needed = Set(BackupSelection.logs(logs, after: oldestZxid))
        let oldLogs = logs.filter { name in !needed.contains(name) && (BackupSelection.zxid(of: name, prefix: "log.") ?? .max) <= oldestZxid }
        return (oldSnapshots + oldLogs.sorted(), oldestZxid)
    }
}
