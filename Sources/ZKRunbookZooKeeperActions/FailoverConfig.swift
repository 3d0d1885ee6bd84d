import Foundation
import ZKRunbookJSON5
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// The configuration a data-centre failover gives the surviving servers: only the survivors, renumbered
/// 1…n in the order the operator listed them, observers promoted to voters, `peerType` dropped.
///
/// Every other line of zoo.cfg (and of its dynamic config file) stays as it was, comments and order
/// included, so the file an operator reviews afterwards differs only where the failover had to change it.
public struct SurvivorLayout: Sendable, Hashable {
    /// Old server ids, in their new order: `survivors[0]` becomes server 1.
    public var survivors: [Int]

    public init(survivors: [Int]) { self.survivors = survivors }

    /// "4,5,6" → [4, 5, 6]; a reason for anything else, naming the argument as `name`.
    public static func parse(_ text: String, name: String = "survivors") -> Result<SurvivorLayout, InputProblem> {
        var ids: [Int] = []
        for part in text.split(separator: ",") {
            let word = part.trimmingCharacters(in: .whitespaces)
            guard let id = Int(word), (0...255).contains(id) else {
                return .failure(InputProblem("\(name) must be server ids separated by commas, such as 4,5,6; found '\(text)'"))
            }
            guard !ids.contains(id) else { return .failure(InputProblem("server \(id) is named twice in \(name) '\(text)'")) }
            ids.append(id)
        }
        guard !ids.isEmpty else { return .failure(InputProblem("\(name) is empty: name server ids, such as 4,5,6")) }
        return .success(SurvivorLayout(survivors: ids))
    }

    public func newID(of oldID: Int) -> Int? { survivors.firstIndex(of: oldID).map { $0 + 1 } }

    /// The survivors' entries from the old server list, renumbered and made voters.
    public func entries(from servers: [ServerEntry]) -> Result<[ServerEntry], InputProblem> {
        var out: [ServerEntry] = []
        for (index, id) in survivors.enumerated() {
            guard var entry = servers.first(where: { $0.id == id }) else {
                let known = servers.map { String($0.id) }.joined(separator: ", ")
                return .failure(InputProblem("server \(id) is not in the server list (servers \(known))"))
            }
            entry.id = index + 1
            entry.role = .participant
            out.append(entry)
        }
        return .success(out)
    }

    /// `server.N=host:quorum:election[;[clientAddress:]clientPort]`, as ZooKeeper reads it.
    public static func line(_ entry: ServerEntry) -> String {
        let host = entry.host.contains(":") ? "[\(entry.host)]" : entry.host
        var text = "server.\(entry.id)=\(host):\(entry.quorumPort):\(entry.electionPort)"
        if entry.role == .observer { text += ":observer" }
        if let port = entry.clientPort { text += ";" + (entry.clientAddress.map { "\($0):" } ?? "") + String(port) }
        return text
    }

    /// `text` with its server lines replaced by `entries` (where the first server line was) and any
    /// `peerType` line removed; every other line kept byte for byte.
    public static func rewrite(_ text: String, entries: [ServerEntry]) -> String {
        var out: [String] = []
        var placed = false
        let lines = text.components(separatedBy: "\n")
        for (index, line) in lines.enumerated() {
            let key = line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if key.hasPrefix("server.") && !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                if !placed {
                    out += entries.map(Self.line)
                    placed = true
                }
                continue
            }
            if key == "peerType" { continue }
            // The text after a final newline is an empty "line"; it is the newline itself, kept below.
            if index == lines.count - 1 && line.isEmpty { break }
            out.append(line)
        }
        return out.joined(separator: "\n") + (text.hasSuffix("\n") || text.isEmpty ? "\n" : "")
    }
}

/// The files a failover changes on one node, kept in a folder with a manifest, for the way back.
///
/// The manifest is written last, so a folder with a manifest holds a complete backup. It also records,
/// before any file is rewritten, the hash each file will have after the rewrite: a run that crashed
/// half-way can tell "not yet rewritten" from "rewritten" from "changed by someone else".
public struct ConfigBackup: Sendable {
    public struct Entry: Codable, Sendable, Hashable {
        /// Where the file lives on the node.
        public var path: String
        /// Its copy inside the backup folder.
        public var file: String
        public var sha256: String
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        /// The hash after the failover rewrote it, once a rewrite was planned.
        public var rewrittenSHA256: String?
    }

    public struct Manifest: Codable, Sendable {
        public var createdAt: String
        public var entries: [Entry]
        /// The survivors of the rewrite planned or done, in their new order.
        public var survivors: [Int]?
        /// Files that did not exist when the backup was taken (java.env a change may create): the way back
        /// removes them.
        public var absent: [String]?
        /// The hash a change recorded for each of those absent files before creating it.
        public var created: [String: String]?
    }

    public var directory: String
    public var manifestPath: String { directory + "/manifest.json" }

    public init(directory: String) { self.directory = directory }

    public func load() -> Result<Manifest?, InputProblem> {
        guard FileManager.default.fileExists(atPath: manifestPath) else { return .success(nil) }
        guard let data = FileManager.default.contents(atPath: manifestPath), let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
            return .failure(InputProblem("\(manifestPath) is not a readable backup manifest: look at it, and move the folder away if it is not a zkrunbook backup"))
        }
        return .success(manifest)
    }

    func save(_ manifest: Manifest) throws(FileCopyError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(manifest)) ?? Data()
        try writeFileAtomically(data, to: manifestPath, mode: 0o600, uid: getuid(), gid: getgid())
    }

    /// The files a failover or a config change touches: zoo.cfg, its dynamic config file if it names one,
    /// myid, and java.env beside zoo.cfg when there is one.
    public static func files(of config: ZooConfig) -> Result<[String], InputProblem> {
        var paths = [config.path]
        if config.serversPath != config.path { paths.append(config.serversPath) }
        guard let dataDir = config.dataDir else { return .failure(InputProblem("\(config.path) sets no dataDir, so there is no myid to renumber")) }
        paths.append(dataDir + "/myid")
        if FileManager.default.fileExists(atPath: javaEnvPath(of: config)) { paths.append(javaEnvPath(of: config)) }
        return .success(paths)
    }

    /// java.env beside zoo.cfg, where ZooKeeper's scripts read JVM flags.
    public static func javaEnvPath(of config: ZooConfig) -> String {
        ((config.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("java.env")
    }

    /// Copies `paths` into the folder and writes the manifest; a complete earlier backup of the same files
    /// is kept as it is (a resumed run), and a backup of different content is refused, never overwritten.
    public func take(_ paths: [String], absent: [String] = []) -> Result<String, InputProblem> {
        switch load() {
        case .failure(let problem): return .failure(problem)
        case .success(let existing?):
            let state = classify(existing)
            // A file that was absent and now holds what this change recorded it would write is the change's own.
            let createdHere = Set(
                (existing.absent ?? []).filter { path in existing.created?[path] != nil && existing.created?[path] == (try? SHA256.hex(fileAt: path)) })
            if state.allSatisfy({ $0 != .foreign }) && Set(existing.entries.map(\.path)) == Set(paths).subtracting(createdHere) {
                let rewritten = state.filter { $0 == .rewritten }.count
                return .success(
                    "the backup in \(directory) from \(existing.createdAt) is kept (a resumed run): "
                        + (rewritten == 0 ? "the files are unchanged since" : "\(rewritten) of \(state.count) file(s) already rewritten"))
            }
            let changed = zip(existing.entries, state).filter { $0.1 == .foreign }.map(\.0.path)
            return .failure(
                InputProblem(
                    "\(directory) already holds a backup from \(existing.createdAt), and "
                        + (changed.isEmpty ? "it covers other files" : "\(changed.joined(separator: ", ")) changed since")
                        + ": a failover may be in place; run dc-restore first, or move \(directory) away if that backup is stale"))
        case .success(nil): break
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            return .failure(InputProblem("cannot create the backup folder \(directory): \(error.localizedDescription)"))
        }
        var entries: [Entry] = []
        for (index, path) in paths.enumerated() {
            guard let info = FileInfo.stat(path), info.isRegular else {
                return .failure(InputProblem("\(path) is not a regular file; nothing half-done: no backup written"))
            }
            let file = "\(index + 1)-" + (path as NSString).lastPathComponent
            do {
                let digest = try copyFileAtomically(from: path, to: directory + "/" + file, mode: 0o600, uid: getuid(), gid: getgid())
                entries.append(Entry(path: path, file: file, sha256: digest, mode: UInt32(info.mode), uid: info.uid, gid: info.gid))
            } catch {
                return .failure(InputProblem("cannot back up \(path): \(error.message)"))
            }
        }
        let missing = absent.filter { !FileManager.default.fileExists(atPath: $0) }
        do { try save(Manifest(createdAt: Event.timestamp(Date()), entries: entries, survivors: nil, absent: missing.isEmpty ? nil : missing)) } catch {
            return .failure(InputProblem("cannot write \(manifestPath): \(error.message)"))
        }
        return .success("backed up \(paths.joined(separator: ", ")) to \(directory)")
    }

    public enum FileState: Sendable, Equatable { case original, rewritten, foreign }

    /// What each file of the manifest is now: as backed up, as the failover wrote it, or something else.
    public func classify(_ manifest: Manifest) -> [FileState] {
        manifest.entries.map { entry in
            let now = try? SHA256.hex(fileAt: entry.path)
            if now == entry.sha256 { return .original }
            if let now, now == entry.rewrittenSHA256 { return .rewritten }
            return .foreign
        }
    }

    /// Records what a change is about to write (the hash after, for each file backed up or recorded absent),
    /// so that `take` and `classify` of a resumed run see "rewritten", not "changed by someone else".
    public func recordPlanned(_ contents: [String: Data]) -> Result<Void, InputProblem> {
        guard case .success(var manifest?) = load() else { return .failure(InputProblem("no backup manifest in \(directory): back up before changing")) }
        for index in manifest.entries.indices {
            if let data = contents[manifest.entries[index].path] { manifest.entries[index].rewrittenSHA256 = SHA256.hex(data) }
        }
        for path in manifest.absent ?? [] {
            if let data = contents[path] { manifest.created = (manifest.created ?? [:]).merging([path: SHA256.hex(data)]) { $1 } }
        }
        do { try save(manifest) } catch { return .failure(InputProblem("cannot record the change in \(manifestPath): \(error.message)")) }
        return .success(())
    }

    /// Records the rewrite about to happen (hash after), then writes each new content; `states` (from
    /// `classify`, for the same survivors) says which files an earlier run already rewrote.
    func rewrite(_ manifest: Manifest, states: [FileState], contents: [String: Data], survivors: [Int]) -> Result<Int, InputProblem> {
        var planned = manifest
        planned.survivors = survivors
        for index in planned.entries.indices {
            if let data = contents[planned.entries[index].path] { planned.entries[index].rewrittenSHA256 = SHA256.hex(data) }
        }
        do { try save(planned) } catch { return .failure(InputProblem("cannot record the rewrite in \(manifestPath): \(error.message)")) }
        var written = 0
        for (entry, state) in zip(planned.entries, states) {
            guard let data = contents[entry.path], state != .rewritten else { continue }
            do {
                try writeFileAtomically(data, to: entry.path, mode: mode_t(entry.mode), uid: entry.uid, gid: entry.gid)
                written += 1
            } catch {
                return .failure(InputProblem("cannot write \(entry.path): \(error.message) (\(written) file(s) written before; the backup is intact)"))
            }
        }
        return .success(written)
    }

    /// Puts every backed-up file back (content, mode, owner), checks each hash, and renames the folder to
    /// `<folder>.restored-<time>` so that the next failover starts a fresh backup. No manifest: nothing to do.
    public func restore() -> Result<(restored: [String], unchanged: [String], keptAs: String?), InputProblem> {
        let manifest: Manifest
        switch load() {
        case .failure(let problem): return .failure(problem)
        case .success(nil): return .success(([], [], nil))
        case .success(let found?): manifest = found
        }
        var restored: [String] = []
        var unchanged: [String] = []
        for entry in manifest.entries {
            let source = directory + "/" + entry.file
            guard (try? SHA256.hex(fileAt: source)) == entry.sha256 else {
                return .failure(InputProblem("the backup copy \(source) of \(entry.path) is missing or damaged; nothing more restored"))
            }
            if (try? SHA256.hex(fileAt: entry.path)) == entry.sha256, let now = FileInfo.stat(entry.path),
                (UInt32(now.mode), now.uid, now.gid) == (entry.mode, entry.uid, entry.gid)
            {
                unchanged.append(entry.path)
                continue
            }
            do {
                let digest = try copyFileAtomically(from: source, to: entry.path, mode: mode_t(entry.mode), uid: entry.uid, gid: entry.gid)
                guard digest == entry.sha256 else { return .failure(InputProblem("\(entry.path) restored with a different hash; look at \(source)")) }
                restored.append(entry.path)
            } catch {
                return .failure(InputProblem("cannot restore \(entry.path) from \(source): \(error.message)"))
            }
        }
        for path in manifest.absent ?? [] where FileManager.default.fileExists(atPath: path) {
            guard unlink(path) == 0 else {
                return .failure(InputProblem("cannot remove \(path), which did not exist before: \(String(cString: strerror(errno)))"))
            }
            restored.append(path + " (removed: it did not exist before)")
        }
        let keptAs = directory + ".restored-" + Self.stamp()
        guard rename(directory, keptAs) == 0 else {
            return .failure(InputProblem("restored, but cannot rename \(directory) to \(keptAs): \(String(cString: strerror(errno)))"))
        }
        return .success((restored, unchanged, keptAs))
    }

    static func stamp() -> String {
        Event.timestamp(Date()).filter { $0.isNumber || $0 == "T" }
    }
}
