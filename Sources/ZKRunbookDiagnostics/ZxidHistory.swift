import CZKRunbookBytes
import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// zxid samples kept between runs (STATE/zxid-samples.jsonl), so two runs a day apart give a rate.
/// Bounded: only the file's last `readBytes` are read, and past `maxBytes` it is cut to its newest half,
/// so a cron job every minute for years keeps it a few MiB.
public struct ZxidHistory: Sendable {
    public var path: String
    public var readBytes = 1 << 20
    public var maxBytes = 4 << 20

    public init(stateDirectory: String) { path = stateDirectory + "/zxid-samples.jsonl" }

    /// The file's last `count` bytes from its first whole line.
    func tail(_ count: Int) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(count) ? size - UInt64(count) : 0
        try? handle.seek(toOffset: start)
        guard var data = try? handle.readToEnd() else { return nil }
        if start > 0, let newline = data.firstIndex(of: 0x0A) { data = data[(newline + 1)...] }
        return String(decoding: data, as: UTF8.self)
    }

    public func load(server: String) -> [RolloverEstimate.Sample] {
        guard let text = tail(readBytes) else { return [] }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { line in
            guard let entry = try? decoder.decode(Entry.self, from: Data(line.utf8)), entry.server == server else { return nil }
            return RolloverEstimate.Sample(
                time: Date(timeIntervalSince1970: entry.time), zxid: Zxid(raw: entry.zxid), received: entry.received, uptimeMs: entry.uptimeMs)
        }
    }

    public func append(server: String, sample: RolloverEstimate.Sample) {
        let entry = Entry(server: server, time: sample.time.timeIntervalSince1970, zxid: sample.zxid.raw, received: sample.received, uptimeMs: sample.uptimeMs)
        guard let data = try? JSONEncoder().encode(entry) else { return }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        let size = (try? handle.seekToEnd()) ?? 0
        handle.write(data + Data("\n".utf8))
        try? handle.close()
        if size > UInt64(maxBytes), let newest = tail(maxBytes / 2) {
            try? Data(newest.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }

    /// Seconds to rollover from the oldest kept sample of the current epoch and `now`.
    public func eta(server: String, now: RolloverEstimate.Sample) -> Double? {
        guard let oldest = load(server: server).filter({ $0.zxid.epoch == now.zxid.epoch }).min(by: { $0.time < $1.time }) else { return nil }
        return RolloverEstimate.secondsToRollover(oldest, now)
    }

    struct Entry: Codable {
        var server: String
        var time: Double
        var zxid: UInt64
        var received: Int64?
        var uptimeMs: Int64?
    }
}
