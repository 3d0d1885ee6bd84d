import Foundation
import ZKRunbookClient
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-restore-loss`: before a restore, what it would cost: when the backup was taken and how old it is, and
/// the live tree read through the client against the backup's: the znodes written since (lost) and those
/// deleted since (brought back). Reading the backup here also proves, before the first stop, that the check
/// after the restore (which reads it here too) will find it.
struct ZKRestoreLossAction: ArgumentsDecodable {
    static let name = "zk-restore-loss"
    static let summary = "read-only: what a restore from a backup would lose: its age, the live znodes it lacks, the deleted ones it brings back"

    var ensemble: Template
    var backup: Template
    var limit: Template
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["limit": Template.literal("1000000")] }
    var yieldedFacts: FactNames? { FactNames(["taken", "ageSeconds", "zxid", "backupZnodes", "liveZnodes", "lost", "returning"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "read \(backup.display(resolver)) here and the live tree through the client (at most \(limit.display(resolver)) znodes): when the backup was taken, the znodes written since that a restore would lose, those deleted since that it would bring back"
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([ensemble, backup, limit])
        guard let most = Int(values[2]), most >= 1 else { return .failure(cause: .invalidArgument, message: "limit '\(values[2])' must be 1 or more") }
        let manifest: BackupManifest
        let replay: TreeReplay
        do {
            let verified = try BackupFolder(path: values[1]).verify()
            (manifest, replay) = (verified.manifest, verified.contents.replay)
        } catch {
            return .failure(cause: .verifyFailed, message: "\(error.description) (the check after the restore reads the backup here too)")
        }
        let seconds = timeout?.resolve(context.resolver.parameters)?.seconds ?? 60
        let client: ZooKeeperClient
        switch ZooKeeperActions.session(fromSource: values[0], connectTimeout: 3, requestTimeout: seconds, context: context, purpose: "to read the live tree") {
        case .success(let session): client = session
        case .failure(let outcome): return outcome
        }
        defer { client.close() }
        var live: Set<String> = []
        var pending = ["/"]
        do {
            try client.sync("/")
            while let path = pending.popLast() {
                guard live.count < most else {
                    return .failure(
                        cause: .verifyFailed,
                        message: "the live tree holds more than \(most) znode(s): not compared (raise the limit to compare it whole)")
                }
                let children: [String]
                do { children = try client.getChildren(path) } catch .server(.noNode, _) { continue }
                for child in children {
                    let full = (path == "/" ? "" : path) + "/" + child
                    guard RestoreLoss.isClientPath(full) else { continue }
                    live.insert(full)
                    pending.append(full)
                }
            }
        } catch {
            return .failure(cause: .unreachable, message: "reading the live tree: \(error)")
        }
        let ephemerals = Set(replay.ephemerals.values.joined())
        let loss = RestoreLoss(backup: replay.paths, backupEphemerals: ephemerals, live: live)
        // The manifest's time is one of ours (Event.timestamp): read back by its own parser.
        let age = Event.milliseconds(manifest.createdAt).map { max(0, Date().timeIntervalSince1970 - Double($0) / 1000) }
        return .success(
            "the backup was taken \(manifest.createdAt)\(age.map { " (" + Self.age($0) + " ago)" } ?? "") up to zxid \(manifest.lastZxid): "
                + "\(loss.backupZnodes) znode(s) against \(loss.liveZnodes) live; a restore now: " + loss.sentence(),
            facts: [
                "taken": .string(manifest.createdAt), "ageSeconds": .int(Int64(age ?? -1)), "zxid": .string(manifest.lastZxid),
                "backupZnodes": .int(Int64(loss.backupZnodes)), "liveZnodes": .int(Int64(loss.liveZnodes)), "lost": .int(Int64(loss.lost.count)),
                "returning": .int(Int64(loss.returning.count)),
            ])
    }

    /// An age as an operator reads it: the two largest units.
    static func age(_ seconds: Double) -> String {
        let whole = Int(seconds)
        let (days, hours, minutes) = (whole / 86_400, whole % 86_400 / 3600, whole % 3600 / 60)
        if days > 0 { return "\(days) d \(hours) h" }
        if hours > 0 { return "\(hours) h \(minutes) min" }
        if minutes > 0 { return "\(minutes) min \(whole % 60) s" }
        return "\(whole) s"
    }
}
