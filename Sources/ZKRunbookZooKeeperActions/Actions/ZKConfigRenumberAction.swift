import Foundation
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-config-renumber`: the failover rewrite on this node. The survivors become the only servers,
/// renumbered 1…n in the order given, observers promoted, `peerType` dropped, and myid set to this
/// node's new number. Runs only on a backup `zk-config-backup` took, and reads the old layout from it.
struct ZKConfigRenumberAction: ArgumentsDecodable {
    static let name = "zk-config-renumber"
    static let summary = "rewrite zoo.cfg (or its dynamic file) and myid so the 'survivors' are the only servers, renumbered 1..n"

    var config: Template
    var survivors: Template
    var backupDir: Template
    var isReadOnly: Bool { false }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "rewrite the server list in \(config.display(resolver)) to servers \(survivors.display(resolver)) only, renumbered 1, 2, … in that order "
                + "(observers become voters, peerType removed), and myid to this node's new number; from the backup in \(backupDir.display(resolver))"
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, survivors, backupDir])
        let configPath = values[0]
        let layout: SurvivorLayout
        switch SurvivorLayout.parse(values[1]) {
        case .success(let parsed): layout = parsed
        case .failure(let problem): return .failure(cause: .invalidArgument, message: problem.message)
        }
        let backup = ConfigBackup(directory: values[2])
        let manifest: ConfigBackup.Manifest
        switch backup.load() {
        case .failure(let problem): return .failure(cause: .backupMissing, message: problem.message)
        case .success(nil):
            return .failure(cause: .backupMissing, message: "no backup in \(values[2]): the rewrite runs only after zk-config-backup took one")
        case .success(let found?): manifest = found
        }
        let states = backup.classify(manifest)
        if let foreign = zip(manifest.entries, states).first(where: { $0.1 == .foreign }) {
            return .failure(cause: .changedSinceBackup, message: "\(foreign.0.path) changed since the backup in \(values[2]) and is not what a failover writes: left alone")
        }
        if let earlier = manifest.survivors, earlier != layout.survivors, states.contains(.rewritten) {
            return .failure(
                cause: .invalidArgument,
                message: "an earlier run rewrote these files for survivors \(earlier.map(String.init).joined(separator: ",")), not \(values[1]): run dc-restore first")
        }
        // The old layout comes from the backup copies, so a resumed run computes the same result.
        func original(_ path: String) -> String? {
            manifest.entries.first { $0.path == path }.flatMap { try? String(contentsOfFile: values[2] + "/" + $0.file, encoding: .utf8) }
        }
        guard let configText = original(configPath) else {
            return .failure(cause: .backupMissing, message: "the backup in \(values[2]) does not hold \(configPath)")
        }
        let old: ZooConfig
        do { old = try ZooConfig.parse(configText, path: configPath) } catch { return .failure(cause: .invalidArgument, message: error.description) }
        guard let dataDir = old.dataDir else { return .failure(cause: .invalidArgument, message: "\(configPath) sets no dataDir") }
        if old.usesHierarchicalQuorum {
            return .failure(
                cause: .invalidArgument,
                message: "\(configPath) uses hierarchical quorums (group.N / weight.N name server ids): renumbering would leave them wrong; rewrite it by hand")
        }
        let myidPath = dataDir + "/myid"
        let serversPath = manifest.entries.map(\.path).first { $0 != configPath && $0 != myidPath && !$0.hasSuffix("/java.env") } ?? configPath
        var servers = old.servers
        if serversPath != configPath {
            do { servers = try ZooConfig.parse(original(serversPath) ?? "", path: serversPath).servers } catch {
                return .failure(cause: .invalidArgument, message: error.description)
            }
        }
        guard let oldID = original(myidPath).flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            return .failure(cause: .invalidArgument, message: "the backed-up \(myidPath) holds no server id")
        }
        guard let newID = layout.newID(of: oldID) else {
            return .failure(
                cause: .invalidArgument,
                message: "this node is server \(oldID) (\(myidPath)), not one of the survivors \(values[1]): nothing to do here, and nothing done")
        }
        let entries: [ServerEntry]
        switch layout.entries(from: servers) {
        case .success(let found): entries = found
        case .failure(let problem): return .failure(cause: .invalidArgument, message: "\(serversPath): \(problem.message)")
        }
        var contents: [String: Data] = [
            configPath: Data(SurvivorLayout.rewrite(configText, entries: serversPath == configPath ? entries : []).utf8),
            myidPath: Data("\(newID)\n".utf8),
        ]
        if serversPath != configPath, let text = original(serversPath) {
            contents[serversPath] = Data(SurvivorLayout.rewrite(text, entries: entries).utf8)
        }
        let written: Int
        switch backup.rewrite(manifest, states: states, contents: contents, survivors: layout.survivors) {
        case .success(let count): written = count
        case .failure(let problem): return .failure(cause: .ioError, message: problem.message)
        }
        // Read back as ZooKeeper will: only the survivors, all voting, this node the right number.
        let check: ZooConfig
        do { check = try ZooConfig.load(path: configPath) } catch { return .failure(cause: .verifyFailed, message: error.description) }
        guard check.servers.count == layout.survivors.count, check.observers.isEmpty, check.myid == newID, check.properties["peerType"] == nil else {
            return .failure(
                cause: .verifyFailed,
                message: "read back \(configPath): \(check.servers.count) servers, \(check.observers.count) observers, myid \(check.myid.map(String.init) ?? "none"); expected \(layout.survivors.count) voters and myid \(newID)")
        }
        let lines = entries.map(SurvivorLayout.line)
        return .success(
            "server \(oldID) is now server \(newID) of \(entries.count): " + lines.joined(separator: ", ")
                + (written == 0 ? " (already written by an earlier run)" : ""),
            facts: ["oldId": .int(Int64(oldID)), "newId": .int(Int64(newID)), "servers": .string(lines.joined(separator: "; ")), "written": .int(Int64(written))])
    }
}
