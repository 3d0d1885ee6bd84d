import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-config-change`: on this node, sets or removes zoo.cfg keys and sets java.env variables, each file
/// rewritten atomically with its mode and owner, and says whether the server's effective configuration
/// changed (what decides its restart). Membership keys are refused: they change through add-server,
/// remove-server and set-role. Back the files up first (`zk-config-backup`); this action only edits.
struct ZKConfigChangeAction: ArgumentsDecodable {
    static let name = "zk-config-change"
    static let summary = "set or remove zoo.cfg keys and set java.env variables on this node; changed: whether the effective config changed"

    var config: Template
    var set: Template?
    var remove: Template?
    var javaEnv: Template?
    /// The backup this change took first (`zk-config-backup`): a file that already differs from it counts
    /// as changed, so a run resumed after the edit but before the restart still restarts the server.
    var backupDir: Template?
    var isReadOnly: Bool { false }
    var yieldedFacts: FactNames? { FactNames(["changed", "edits", "edited"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        var lines = ["edit \(config.display(resolver)) (and java.env beside it), atomically, mode and owner kept:"]
        if let set { lines.append("  set \(set.display(resolver))") }
        if let remove { lines.append("  remove \(remove.display(resolver))") }
        if let javaEnv { lines.append("  java.env: set \(javaEnv.display(resolver))") }
        return lines
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let path = try context.resolved(config)
        let words = try context.resolved([set, remove, javaEnv].map { $0 ?? Template.literal("") })
        let change: ConfigChange
        switch ConfigChange.parse(set: words[0], remove: words[1], javaEnv: words[2]) {
        case .failure(let problem): return .failure(cause: .invalidArgument, message: problem.message)
        case .success(let parsed): change = parsed
        }
        if let why = (change.set.map(\.key) + change.remove).compactMap(ConfigChange.forbidden).first {
            return .failure(cause: .invalidArgument, message: "refused: " + why)
        }
        let before: NodeConfigSnapshot
        do { before = try NodeConfigSnapshot.read(zooCfg: path) } catch { return .failure(cause: .invalidArgument, message: error.description) }
        let edits = change.effect(on: before)
        let backup = try backupDir.map { (template) throws(ActionOutcome) in try context.resolved(template) }.map(ConfigBackup.init(directory:))
        if edits.isEmpty {
            let since = backup.flatMap { Self.editedSinceBackup($0, [path, before.javaEnvFile]) } ?? []
            if !since.isEmpty {
                return .success(
                    "already as wanted, but \(since.joined(separator: ", ")) differ from the backup taken before this change: an earlier attempt edited them, the server may still run the old values",
                    facts: ["changed": .bool(true), "edits": .string(""), "edited": .int(0)])
            }
            return .success("\(path) and java.env already as wanted: the configuration is unchanged", facts: ["changed": .bool(false), "edits": .string(""), "edited": .int(0)])
        }
        var contents: [String: Data] = [:]
        if edits.contains(where: { $0.file == .zooCfg }) {
            guard let text = Self.text(path) else { return .failure(cause: .ioError, message: "cannot read \(path)") }
            contents[path] = Data(PropertiesEditor.apply(to: text, set: change.set.map { ($0.key, $0.value) }, remove: change.remove).0.utf8)
        }
        if edits.contains(where: { $0.file == .javaEnv }) {
            guard let text = Self.text(before.javaEnvFile) else { return .failure(cause: .ioError, message: "cannot read \(before.javaEnvFile)") }
            contents[before.javaEnvFile] = Data(Self.settingEnvironment(change.javaEnv, in: text).utf8)
        }
        // What the files will hold is recorded beside the backup first: a run resumed after the write finds
        // them "rewritten by this change", not "changed by someone else".
        if let backup, case .failure(let problem) = backup.recordPlanned(contents) {
            return .failure(cause: .backupFailed, message: problem.message)
        }
        for (file, data) in contents.sorted(by: { $0.key < $1.key }) {
            if let failure = write(data, to: file) { return failure }
        }
        let after: NodeConfigSnapshot
        do { after = try NodeConfigSnapshot.read(zooCfg: path) } catch { return .failure(cause: .verifyFailed, message: "read back: \(error.description)") }
        let left = change.effect(on: after)
        guard left.isEmpty else {
            return .failure(cause: .verifyFailed, message: "read back \(path): still to change: " + left.map(\.description).joined(separator: "; "))
        }
        let list = edits.map(\.description).joined(separator: "; ")
        return .success("changed: \(list)", facts: ["changed": .bool(true), "edits": .string(list), "edited": .int(Int64(edits.count))])
    }

    /// Which of `paths` differ from the backup (a file created since it was taken included); nil: no backup.
    static func editedSinceBackup(_ backup: ConfigBackup, _ paths: [String]) -> [String]? {
        guard case .success(let manifest?) = backup.load() else { return nil }
        let states = Dictionary(zip(manifest.entries.map(\.path), backup.classify(manifest)), uniquingKeysWith: { first, _ in first })
        return paths.filter { path in
            if let state = states[path] { return state != .original }
            return (manifest.absent ?? []).contains(path) && FileManager.default.fileExists(atPath: path)
        }
    }

    /// A file's text; a missing file reads as empty (java.env the change creates).
    static func text(_ path: String) -> String? {
        FileInfo.stat(path) == nil ? "" : try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// Writes `data` atomically, the file's mode and owner kept (a new file: 0644, ours).
    private func write(_ data: Data, to path: String) -> ActionOutcome? {
        let info = FileInfo.stat(path)
        do {
            _ = try writeFileAtomically(data, to: path, mode: info?.mode ?? 0o644, uid: info?.uid ?? getuid(), gid: info?.gid ?? getgid())
        } catch {
            return .failure(cause: .ioError, message: error.message)
        }
        return nil
    }

    /// java.env with each variable set: its first `NAME=` or `export NAME=` line replaced (later ones
    /// dropped), or `export NAME="value"` appended; comments and other lines kept.
    static func settingEnvironment(_ variables: [(name: String, value: String)], in text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        for (name, value) in variables {
            let wanted = "export \(name)=\"\(value)\""
            var found = false
            lines = lines.compactMap { line in
                var body = Substring(line.trimmingCharacters(in: .whitespaces))
                if body.hasPrefix("export ") { body = body.dropFirst("export ".count).drop { $0 == " " } }
                guard body.hasPrefix(name + "=") else { return line }
                if found { return nil }
                found = true
                return wanted
            }
            if !found { lines.append(wanted) }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
