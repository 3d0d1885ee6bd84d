import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-config-join`: on a server about to join (or rejoin) an ensemble, writes its server list: the
/// members as the ensemble reports them now (`/zookeeper/config`), and itself — into the dynamic config file
/// when zoo.cfg names one, else as the `server.N` lines of zoo.cfg itself (comments and other keys kept). A
/// reused node's stale list is replaced (a rejoining member may be absent from its own old config); myid is
/// written when missing and refused when it names another server.
struct ZKConfigJoinAction: ArgumentsDecodable {
    static let name = "zk-config-join"
    static let summary = "write a joining server's list (dynamic file, or zoo.cfg's server.N lines): the ensemble's current members and itself; myid checked"

    var config: Template
    /// The members' server lines as the ensemble reports them, separated by spaces or newlines (zk-reconfig
    /// check's `servers`, or `/zookeeper/config` itself).
    var membership: Template
    /// This server's own line: `server.N=host:quorumPort:electionPort:participant;host:clientPort`.
    var server: Template
    var isReadOnly: Bool { false }
    var yieldedFacts: FactNames? { FactNames(["file", "servers", "changed"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "write the server list of \(config.display(resolver)) (its dynamic file, or its server.N lines): the members the ensemble reports now, and \(server.display(resolver));",
            "write myid if missing (refused if it names another server)",
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, membership, server])
        let staticConfig: ZooConfig
        let current: ZooConfig
        let own: ZooConfig
        do {
            guard let text = try? String(contentsOfFile: values[0], encoding: .utf8) else {
                return .failure(cause: .fileMissing, message: "cannot read \(values[0])")
            }
            staticConfig = try ZooConfig.parse(text, path: values[0])
            current = try ZooConfig.parse(values[1].split(whereSeparator: \.isWhitespace).joined(separator: "\n"), path: "membership")
            own = try ZooConfig.parse(values[2], path: "server")
        } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        guard let entry = own.servers.first, own.servers.count == 1 else {
            return .failure(cause: .invalidArgument, message: "'server' must be one server.N=… line, found '\(values[2])'")
        }
        guard let dataDir = staticConfig.dataDir else {
            return .failure(cause: .invalidArgument, message: "\(values[0]) sets no dataDir: there is nowhere for myid")
        }
        guard !current.servers.isEmpty else { return .failure(cause: .invalidArgument, message: "the membership read from the ensemble lists no server") }
        let myidPath = dataDir + "/myid"
        let myid = (try? String(contentsOfFile: myidPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let myid, !myid.isEmpty, Int(myid) != entry.id {
            return .failure(cause: .invalidArgument, message: "\(myidPath) says \(myid), but this server joins as server \(entry.id): refused")
        }
        let servers = current.servers.filter { $0.id != entry.id } + [entry]
        let lines = servers.map(\.dynamicLine)
        // With a dynamic file the list goes there; a static config (no reconfig) keeps it in zoo.cfg itself.
        let path: String
        let text: String
        if let dynamic = staticConfig.dynamicConfigFile {
            path = dynamic.hasPrefix("/") ? dynamic : ((values[0] as NSString).deletingLastPathComponent as NSString).appendingPathComponent(dynamic)
            text = lines.joined(separator: "\n") + "\n"
        } else {
            path = values[0]
            let listed = Set(servers.map { "server.\($0.id)" })
            let stale = staticConfig.servers.map { "server.\($0.id)" }.filter { !listed.contains($0) }
            // A line that already says the same server is left as written; a new one is written the way a
            // static list writes it: no client part (clientPort is its own key), the role only if observer.
            let same = { (a: ServerEntry, b: ServerEntry) in
                a.host == b.host && a.quorumPort == b.quorumPort && a.electionPort == b.electionPort && a.role == b.role
            }
            let assignments = servers.filter { server in !staticConfig.servers.contains { $0.id == server.id && same($0, server) } }.map { server in
                let host = server.host.contains(":") ? "[\(server.host)]" : server.host
                return ("server.\(server.id)", "\(host):\(server.quorumPort):\(server.electionPort)" + (server.role == .observer ? ":observer" : ""))
            }
            text = PropertiesEditor.apply(to: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "", set: assignments, remove: stale).0
        }
        let listChanged = (try? String(contentsOfFile: path, encoding: .utf8)) != text
        let changed = listChanged || myid == nil || myid?.isEmpty == true
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            let info = FileInfo.stat(path)
            if listChanged {
                _ = try writeFileAtomically(Data(text.utf8), to: path, mode: info?.mode ?? 0o644, uid: info?.uid ?? getuid(), gid: info?.gid ?? getgid())
            }
            if myid == nil || myid?.isEmpty == true {
                _ = try writeFileAtomically(Data("\(entry.id)\n".utf8), to: myidPath, mode: 0o644, uid: getuid(), gid: getgid())
            }
        } catch let error as FileCopyError {
            return .failure(cause: .ioError, message: error.message)
        } catch {
            return .failure(cause: .ioError, message: "cannot create \(dataDir): \(error.localizedDescription)")
        }
        let facts: [String: FactValue] = ["file": .string(path), "servers": .string(lines.joined(separator: "\n")), "changed": .bool(changed)]
        return .success(changed ? "wrote \(path): \(lines.count) server(s), this one last" : "\(path) already lists these \(lines.count) server(s): unchanged", facts: facts)
    }
}
