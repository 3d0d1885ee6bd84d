import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-purge`: what `zkCleanup.sh -n N` does, on this node: keeps the newest N snapshots that check out
/// (N at least 3) and every log a restore from the oldest of them needs; removes older snapshots and logs.
/// Nothing is removed unless N snapshots check out.
struct ZKPurgeAction: ArgumentsDecodable {
    static let name = "zk-purge"
    static let summary = "remove snapshots and logs older than the newest N snapshots that check out (N >= 3), as zkCleanup.sh -n N"

    var config: Template
    var keep: Template
    var isReadOnly: Bool { false }
    static var defaults: [String: any ArgumentValue] { ["keep": Template.literal("3")] }
    var yieldedFacts: FactNames? { FactNames(["removed", "freedBytes", "snapshotsLeft", "logsLeft"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["keep the newest \(keep.display(resolver)) snapshots that check out in the data folders of \(config.display(resolver)) and the logs they need; remove older ones"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, keep])
        guard let count = Int(values[1]), count >= 3 else {
            return .failure(cause: .invalidArgument, message: "keep '\(values[1])' must be 3 or more (as zkCleanup.sh requires): fewer leaves no way back from a bad snapshot")
        }
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false, dynamicMayBeMissing: true) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        guard let dataFolder = loaded.snapshotFolder, let logFolder = loaded.logFolder else {
            return .failure(cause: .invalidArgument, message: "\(values[0]) sets no dataDir")
        }
        let manager = FileManager.default
        let snapshots = ((try? manager.contentsOfDirectory(atPath: dataFolder)) ?? []).filter { $0.hasPrefix("snapshot.") }
        let logs = ((try? manager.contentsOfDirectory(atPath: logFolder)) ?? []).filter { $0.hasPrefix("log.") }
        let plan = PurgePlan.removable(snapshots: snapshots, logs: logs, keep: count) { name in
            (try? SnapshotSummary.read(path: dataFolder + "/" + name)) != nil
        }
        guard let oldest = plan.oldestKept else {
            return .success(
                "fewer than \(count) snapshots check out in \(dataFolder): nothing removed",
                facts: ["removed": .int(0), "freedBytes": .int(0), "snapshotsLeft": .int(Int64(snapshots.count)), "logsLeft": .int(Int64(logs.count))])
        }
        var freed: Int64 = 0
        for name in plan.remove {
            let path = (name.hasPrefix("log.") ? logFolder : dataFolder) + "/" + name
            let size = FileInfo.stat(path)?.size ?? 0
            do { try manager.removeItem(atPath: path) } catch {
                return .failure(cause: .ioError, message: "removing \(path): \(error.localizedDescription) (\(freed) byte(s) freed before)")
            }
            freed += size
        }
        let snapshotsLeft = snapshots.count - plan.remove.filter { $0.hasPrefix("snapshot.") }.count
        let logsLeft = logs.count - plan.remove.filter { $0.hasPrefix("log.") }.count
        return .success(
            "kept the newest \(count) snapshots that check out (the oldest at 0x\(String(oldest, radix: 16))) and the logs they need; removed \(plan.remove.count) file(s), \(freed) byte(s)",
            facts: [
                "removed": .int(Int64(plan.remove.count)), "freedBytes": .int(freed), "snapshotsLeft": .int(Int64(snapshotsLeft)),
                "logsLeft": .int(Int64(logsLeft)),
            ])
    }
}
