import Foundation
import ZKRunbookEngine

#if canImport(Glibc)
import Glibc
#endif

/// `zk-config-backup`: copies zoo.cfg, its dynamic config file and myid into a named folder on this node,
/// with a manifest, for `zk-config-renumber` and the way back (`zk-config-restore`).
struct ZKConfigBackupAction: ActionKind {
    let name = "zk-config-backup"
    let summary = "back up zoo.cfg, its dynamic config file and myid into 'backupDir' (kept across runs, for dc-restore)"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        let reader = arguments.reader
        guard let config = reader.template("config", required: true), let backupDir = reader.template("backupDir", required: true) else { return nil }
        return PreparedConfigBackup(config: config, backupDir: backupDir)
    }
}

struct PreparedConfigBackup: PreparedAction {
    var config: Template
    var backupDir: Template
    var isReadOnly: Bool { false }
    var templates: [Template] { [config, backupDir] }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["back up \(config.display(resolver)), its dynamic config file if any, and myid to \(backupDir.display(resolver))"]
    }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let values: [String]
        switch context.resolveAll([config, backupDir]) {
        case .success(let resolved): values = resolved
        case .failure(let outcome): return outcome
        }
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        let backup = ConfigBackup(directory: values[1])
        switch ConfigBackup.files(of: loaded).flatMap({ backup.take($0) }) {
        case .failure(let problem): return .failure(cause: .backupFailed, message: problem.message)
        case .success(let message): return .success(message, facts: ["backupDir": .string(values[1])])
        }
    }
}

/// `zk-config-renumber`: the failover rewrite on this node. The survivors become the only servers,
/// renumbered 1…n in the order given, observers promoted, `peerType` dropped, and myid set to this
/// node's new number. Runs only on a backup `zk-config-backup` took, and reads the old layout from it.
struct ZKConfigRenumberAction: ActionKind {
    let name = "zk-config-renumber"
    let summary = "rewrite zoo.cfg (or its dynamic file) and myid so the 'survivors' are the only servers, renumbered 1..n"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        let reader = arguments.reader
        let config = reader.template("config", required: true)
        let survivors = reader.template("survivors", required: true)
        let backupDir = reader.template("backupDir", required: true)
        guard let config, let survivors, let backupDir else { return nil }
        return PreparedConfigRenumber(config: config, survivors: survivors, backupDir: backupDir)
    }
}

struct PreparedConfigRenumber: PreparedAction {
    var config: Template
    var survivors: Template
    var backupDir: Template
    var isReadOnly: Bool { false }
    var templates: [Template] { [config, survivors, backupDir] }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "rewrite the server list in \(config.display(resolver)) to servers \(survivors.display(resolver)) only, renumbered 1, 2, … in that order "
                + "(observers become voters, peerType removed), and myid to this node's new number; from the backup in \(backupDir.display(resolver))"
        ]
    }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let values: [String]
        switch context.resolveAll([config, survivors, backupDir]) {
        case .success(let resolved): values = resolved
        case .failure(let outcome): return outcome
        }
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
        let serversPath = manifest.entries.map(\.path).first { $0 != configPath && $0 != myidPath } ?? configPath
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

/// `zk-config-restore`: puts back what `zk-config-backup` kept (content, mode, owner, checked by hash),
/// then renames the folder `<folder>.restored-<time>`. No backup there: nothing to restore, success.
struct ZKConfigRestoreAction: ActionKind {
    let name = "zk-config-restore"
    let summary = "restore the files a zk-config-backup folder holds, byte for byte, mode and owner kept"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        guard let backupDir = arguments.reader.template("backupDir", required: true) else { return nil }
        return PreparedConfigRestore(backupDir: backupDir)
    }
}

struct PreparedConfigRestore: PreparedAction {
    var backupDir: Template
    var isReadOnly: Bool { false }
    var templates: [Template] { [backupDir] }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["restore every file backed up in \(backupDir.display(resolver)) (nothing to do if there is no backup), then keep the folder as \(backupDir.display(resolver)).restored-<time>"]
    }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let directory: String
        switch context.resolve(backupDir) {
        case .success(let value): directory = value
        case .failure(let outcome): return outcome
        }
        switch ConfigBackup(directory: directory).restore() {
        case .failure(let problem): return .failure(cause: .restoreFailed, message: problem.message)
        case .success(let result):
            guard let keptAs = result.keptAs else {
                return .success("no backup in \(directory): nothing to restore", facts: ["restored": .int(0), "unchanged": .int(0)])
            }
            return .success(
                "restored \(result.restored.count) file(s)" + (result.restored.isEmpty ? "" : " (\(result.restored.joined(separator: ", ")))")
                    + ", \(result.unchanged.count) already as backed up; backup kept as \(keptAs)",
                facts: ["restored": .int(Int64(result.restored.count)), "unchanged": .int(Int64(result.unchanged.count)), "keptAs": .string(keptAs)])
        }
    }
}

/// `zk-peer-reach`: from this node, do the servers named in `peers` answer on the election (and, to prove
/// them cut off, quorum) ports zoo.cfg gives them? Those ports are the links ZooKeeper itself needs, so they say whether a data centre
/// is cut off (`expect: "unreachable"`) or back (`expect: "reachable"`).
struct ZKPeerReachAction: ActionKind {
    let name = "zk-peer-reach"
    let summary = "read-only: from this node, try the election (and quorum) ports zoo.cfg gives the servers in 'peers'; asExpected against 'expect'"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        let reader = arguments.reader
        let config = reader.template("config", required: true)
        let peers = reader.template("peers", required: true)
        let expect = reader.template("expect") ?? Template.literal("unreachable", at: reader.location)
        let timeout = reader.duration("timeout")
        guard let config, let peers else { return nil }
        return PreparedPeerReach(config: config, peers: peers, expect: expect, timeout: timeout)
    }
}

struct PreparedPeerReach: PreparedAction {
    var config: Template
    var peers: Template
    /// "unreachable" (every port refused or silent) or "reachable" (every port answers).
    var expect: Template
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    var templates: [Template] { [config, peers, expect] }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "connect from this node to the election ports (and, to prove them cut off, the quorum ports) of servers \(peers.display(resolver)) "
                + "as \(config.display(resolver)) gives them; expected: all \(expect.display(resolver))"
        ]
    }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let values: [String]
        switch context.resolveAll([config, peers, expect]) {
        case .success(let resolved): values = resolved
        case .failure(let outcome): return outcome
        }
        guard values[2] == "reachable" || values[2] == "unreachable" else {
            return .failure(cause: .invalidArgument, message: "expect must be \"reachable\" or \"unreachable\", found '\(values[2])'")
        }
        let ids: [Int]
        switch SurvivorLayout.parse(values[1], name: "peers") {
        case .success(let parsed): ids = parsed.survivors
        case .failure(let problem): return .failure(cause: .invalidArgument, message: problem.message)
        }
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        var entries: [ServerEntry] = []
        for id in ids {
            guard let entry = loaded.servers.first(where: { $0.id == id }) else {
                return .failure(cause: .invalidArgument, message: "server \(id) is not in the server list of \(values[0])")
            }
            entries.append(entry)
        }
        let seconds = limits(timeout, context.resolver).connectTimeout
        // Every server listens on its election port; only a leader listens on its quorum port, so that one
        // counts when proving a server is cut off, never when proving it is back.
        let wantReachable = values[2] == "reachable"
        let targets = entries.flatMap { entry in
            [("server \(entry.id) election port", Endpoint(host: entry.host, port: entry.electionPort))]
                + (wantReachable ? [] : [("server \(entry.id) quorum port", Endpoint(host: entry.host, port: entry.quorumPort))])
        }
        let answers = Parallel.map(targets) { target -> String? in
            switch SocketClient.connect(target.1, timeout: seconds) {
            case .success(let fd):
                close(fd)
                return nil
            case .failure(let error): return error.description
            }
        }
        let reachable = zip(targets, answers).filter { $0.1 == nil }.map { "\($0.0.0) (\($0.0.1))" }
        let unreachable = zip(targets, answers).compactMap { pair in pair.1.map { "\(pair.0.0): \($0)" } }
        let asExpected = wantReachable ? unreachable.isEmpty : reachable.isEmpty
        var summary = "\(reachable.count) of \(targets.count) ports of servers \(values[1]) answer from this node"
        if !reachable.isEmpty && values[2] == "unreachable" { summary += ": " + reachable.joined(separator: ", ") }
        if !unreachable.isEmpty && values[2] == "reachable" { summary += "; no answer: " + unreachable.joined(separator: "; ") }
        return .success(
            summary,
            facts: [
                "checked": .int(Int64(targets.count)), "reachable": .int(Int64(reachable.count)), "asExpected": .bool(asExpected),
                "reachablePorts": .string(reachable.joined(separator: "; ")), "unreachablePorts": .string(unreachable.joined(separator: "; ")),
            ])
    }
}
