import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// A backup folder on disk: its manifest, and the check that what it holds is what the manifest says and
/// what ZooKeeper would load (every file's size and SHA-256, the snapshot's seals, every log entry's
/// checksum, the node count after replaying the logs).
public struct BackupFolder: Sendable {
    public var path: String
    public var manifestPath: String { path + "/manifest.json" }

    public init(path: String) { self.path = path }

    public func manifest() throws(DataFileError) -> BackupManifest {
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw DataFileError(manifestPath, "no manifest: not a complete backup (an interrupted one never gets one)")
        }
        do { return try JSONDecoder().decode(BackupManifest.self, from: data) } catch {
            throw DataFileError(manifestPath, "not a backup manifest: \(error)")
        }
    }

    func write(_ manifest: BackupManifest) throws(FileCopyError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        _ = try writeFileAtomically((try? encoder.encode(manifest)) ?? Data(), to: manifestPath, mode: 0o644, uid: getuid(), gid: getgid())
    }

    /// What the files hold, read and checked: the snapshot, the logs, and the tree replayed to the end.
    public struct Contents: Sendable {
        public var snapshot: SnapshotSummary
        public var logs: [TxnLogSummary]
        public var replay: TreeReplay
        /// The node count at the checkpoint asked for (the zxid the server reported), on the way to the end.
        public var nodesAtCheckpoint: Int?
    }

    /// Parses the snapshot and logs named in `files` inside this folder.
    /// `snapshot`: the snapshot already read (a backup checks each file once).
    func read(
        _ files: [BackupManifest.File], sample: DataSample = .none, snapshot read: SnapshotSummary? = nil, checkpoint: Int64? = nil
    ) throws(DataFileError) -> Contents {
        guard let snapshotFile = files.first(where: { $0.name.hasPrefix("snapshot.") }) else { throw DataFileError(path, "no snapshot in the backup") }
        let snapshot: SnapshotSummary
        if let read { snapshot = read } else { snapshot = try SnapshotSummary.read(path: path + "/" + snapshotFile.name, sample: sample) }
        var logs: [TxnLogSummary] = []
        for file in files where file.name.hasPrefix("log.") {
            logs.append(try TxnLogSummary.read(path: path + "/" + file.name, sample: sample))
        }
        let ordered = logs.sorted(by: { $0.firstZxid < $1.firstZxid })
        var replay = TreeReplay(snapshot)
        var atCheckpoint: Int?
        if let checkpoint {
            for log in ordered { replay.apply(log.txns, upTo: checkpoint) }
            atCheckpoint = replay.nodes
        }
        for log in ordered { replay.apply(log.txns) }
        return Contents(snapshot: snapshot, logs: logs, replay: replay, nodesAtCheckpoint: atCheckpoint)
    }

    /// Checks every file against the manifest and the formats; the replayed node count against the manifest's.
    public func verify(sample: DataSample = .none) throws(DataFileError) -> (manifest: BackupManifest, contents: Contents) {
        let manifest = try manifest()
        for file in manifest.files {
            let filePath = path + "/" + file.name
            guard let info = FileInfo.stat(filePath) else { throw DataFileError(filePath, "missing from the backup") }
            guard info.size == file.bytes else { throw DataFileError(filePath, "\(info.size) byte(s), the manifest says \(file.bytes)") }
            guard let digest = try? SHA256.hex(fileAt: filePath), digest == file.sha256 else {
                throw DataFileError(filePath, "its SHA-256 is not the manifest's: the copy is corrupt")
            }
        }
        let contents = try read(manifest.files, sample: sample)
        guard contents.replay.nodes == manifest.znodes else {
            throw DataFileError(path, "replaying the logs on the snapshot gives \(contents.replay.nodes) node(s), the manifest says \(manifest.znodes)")
        }
        return (manifest, contents)
    }
}
