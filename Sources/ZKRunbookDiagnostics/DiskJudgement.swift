import Foundation
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// Doctor's judgement of a node's disks: free space against the next snapshot and against the growth of
/// ZooKeeper's own files, autopurge, the count of snapshots and logs. Pure: what was measured in, findings out.
public struct DiskJudgement: Sendable {
    public struct Measured: Sendable, Codable, Equatable {
        public var dataFreeBytes: Int64
        public var logFreeBytes: Int64
        public var newestSnapshotBytes: Int64
        public var snapshots: Int
        public var logs: Int
        /// Bytes of snapshots and logs together: what grows.
        public var zookeeperBytes: Int64
        /// `autopurge.purgeInterval` (hours); nil or 0: off.
        public var purgeIntervalHours: Int?

        public init(
            dataFreeBytes: Int64, logFreeBytes: Int64, newestSnapshotBytes: Int64, snapshots: Int, logs: Int, zookeeperBytes: Int64, purgeIntervalHours: Int?
        ) {
            (self.dataFreeBytes, self.logFreeBytes, self.newestSnapshotBytes) = (dataFreeBytes, logFreeBytes, newestSnapshotBytes)
            (self.snapshots, self.logs, self.zookeeperBytes, self.purgeIntervalHours) = (snapshots, logs, zookeeperBytes, purgeIntervalHours)
        }
    }

    /// An earlier measurement: when, and what ZooKeeper's files weighed then.
    public struct Sample: Sendable, Codable, Equatable {
        public var time: Double
        public var zookeeperBytes: Int64
        public init(time: Double, zookeeperBytes: Int64) { (self.time, self.zookeeperBytes) = (time, zookeeperBytes) }
    }

    /// A full disk within this many hours is a warning (within one hour, critical).
    public var horizonHours: Double = 24

    public init(horizonHours: Double = 24) { self.horizonHours = horizonHours }

    /// Measures the node whose zoo.cfg is `path`: free space of dataDir and dataLogDir, its snapshots and logs.
    public static func measure(zooCfg path: String) throws(ZooConfigError) -> Measured {
        let config = try ZooConfig.load(path: path, readMyid: false, dynamicMayBeMissing: true)
        guard let dataDir = config.dataDir, let dataLogDir = config.dataLogDir, let snapshotFolder = config.snapshotFolder, let logFolder = config.logFolder else {
            throw ZooConfigError(path: path, line: nil, message: "no dataDir: nothing to judge")
        }
        guard let data = DiskRoom.of(dataDir), let log = DiskRoom.of(dataLogDir) else {
            throw ZooConfigError(path: path, line: nil, message: "cannot read the file systems of \(dataDir) and \(dataLogDir)")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshotFolder)) ?? []
        let newest = names.filter { $0.hasPrefix("snapshot.") }.max { (Int64($0.dropFirst(9), radix: 16) ?? 0) < (Int64($1.dropFirst(9), radix: 16) ?? 0) }
        let newestBytes = newest.flatMap { try? FileManager.default.attributesOfItem(atPath: snapshotFolder + "/" + $0)[.size] as? NSNumber }?.int64Value ?? 0
        let snapshots = DiskRoom.files(in: snapshotFolder, prefix: "snapshot.")
        let logs = DiskRoom.files(in: logFolder, prefix: "log.")
        return Measured(
            dataFreeBytes: data.free, logFreeBytes: log.free, newestSnapshotBytes: newestBytes, snapshots: Int(snapshots.count), logs: Int(logs.count),
            zookeeperBytes: snapshots.bytes + logs.bytes, purgeIntervalHours: config.properties["autopurge.purgeInterval"].flatMap { Int($0) })
    }

    public func findings(_ now: Measured, at time: Double, earlier: [Sample]) -> [Finding] {
        var out: [Finding] = []
        let free = min(now.dataFreeBytes, now.logFreeBytes)
        let size = { (bytes: Int64) in ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary) }
        if now.newestSnapshotBytes > 0, now.dataFreeBytes < 2 * now.newestSnapshotBytes {
            out.append(
                Finding(
                    id: "disk-snapshot-will-not-fit", severity: .critical, title: "The next snapshot may not fit on the data disk",
                    detail: "\(size(now.dataFreeBytes)) free beside a newest snapshot of \(size(now.newestSnapshotBytes)): a server that cannot write its snapshot stops; free space or purge",
                    count: 1, evidence: ["dataDir free: \(now.dataFreeBytes) bytes", "newest snapshot: \(now.newestSnapshotBytes) bytes"], nextRunbook: "purge"))
        }
        if let first = earlier.filter({ $0.time < time - 60 }).min(by: { $0.time < $1.time }), now.zookeeperBytes > first.zookeeperBytes {
            let rate = Double(now.zookeeperBytes - first.zookeeperBytes) / (time - first.time)
            let hours = Double(free) / rate / 3600
            if hours < horizonHours {
                out.append(
                    Finding(
                        id: "disk-full-soon", severity: hours < 1 ? .critical : .warning,
                        title: String(format: "The disk fills in about %.1f hour(s) at the present growth", hours),
                        detail: "ZooKeeper's files grew from \(size(first.zookeeperBytes)) to \(size(now.zookeeperBytes)) since \(Self.describe(time - first.time)) ago; \(size(free)) free",
                        count: 1, evidence: [String(format: "growth: %.0f bytes/s; free: %lld bytes", rate, free)], nextRunbook: "purge"))
            }
        }
        if (now.purgeIntervalHours ?? 0) <= 0 {
            out.append(
                Finding(
                    id: "autopurge-off", severity: .warning, title: "autopurge is off: snapshots and logs pile up until the disk is full",
                    detail: "\(now.snapshots) snapshot(s) and \(now.logs) log(s) kept; set autopurge.purgeInterval=1 and autopurge.snapRetainCount=3 (rolling-config-change), or run purge from cron",
                    count: 1, evidence: ["autopurge.purgeInterval: \(now.purgeIntervalHours.map(String.init) ?? "not set")"], nextRunbook: "purge"))
        }
        if now.snapshots + now.logs > 100 {
            out.append(
                Finding(
                    id: "many-data-files", severity: .info, title: "\(now.snapshots) snapshots and \(now.logs) logs on this node",
                    detail: "a restart reads only the newest; purge keeps what a restore needs", count: now.snapshots + now.logs, evidence: [], nextRunbook: "purge"))
        }
        return out
    }

    static func describe(_ seconds: Double) -> String {
        seconds < 7200 ? String(format: "%.0f min", seconds / 60) : String(format: "%.1f h", seconds / 3600)
    }
}

/// Measurements of a node's disks kept in the state dir, so that the next doctor sees the growth.
public struct DiskHistory: Sendable {
    public var path: String

    public init(stateDirectory: String) { path = stateDirectory + "/disk-history.json" }

    public func load() -> [DiskJudgement.Sample] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return (try? JSONDecoder().decode([DiskJudgement.Sample].self, from: data)) ?? []
    }

    /// Adds a sample, keeping a week of them.
    public func append(_ sample: DiskJudgement.Sample) {
        let kept = load().filter { $0.time > sample.time - 7 * 86_400 } + [sample]
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? JSONEncoder().encode(kept).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
