import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-config-join`: on a server about to join an ensemble through reconfig, writes its dynamic config
/// file: the members as the ensemble reports them now (`/zookeeper/config`), and itself. A reused node's
/// stale list is replaced (a rejoining member may be absent from its own old config); myid is written
/// when missing and refused when it names another server.
struct ZKConfigJoinAction: ArgumentsDecodable {
    static let name = "zk-config-join"
    static let summary = "write a joining server's dynamic config: the ensemble's current members (from /zookeeper/config) and itself; myid checked"

    var config: Template
    /// The members' server lines as the ensemble reports them, separated by spaces or newlines (zk-reconfig
    /// check's `servers`, or `/zookeeper/config` itself).
    var membership: Template
    /// This server's own line: `server.N=host:quorumPort:electionPort:participant;host:clientPort`.
    var server: Template
    var isReadOnly: Bool { false }
    var yieldedFacts: FactNames? { FactNames(["dynamicConfigFile", "servers"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "write the dynamic config file named in \(config.display(resolver)): the members the ensemble reports now, and \(server.display(resolver));",
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
        guard let dynamic = staticConfig.dynamicConfigFile, let dataDir = staticConfig.dataDir else {
            return .failure(
                cause: .invalidArgument,
                message: "\(values[0]) names no dynamicConfigFile (or no dataDir): joining through reconfig needs one (3.5+, reconfigEnabled=true)")
        }
        guard !current.servers.isEmpty else { return .failure(cause: .invalidArgument, message: "the membership read from the ensemble lists no server") }
        let path = dynamic.hasPrefix("/") ? dynamic : ((values[0] as NSString).deletingLastPathComponent as NSString).appendingPathComponent(dynamic)
        let myidPath = dataDir + "/myid"
        let myid = (try? String(contentsOfFile: myidPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let myid, !myid.isEmpty, Int(myid) != entry.id {
            return .failure(cause: .invalidArgument, message: "\(myidPath) says \(myid), but this server joins as server \(entry.id): refused")
        }
        let lines = current.servers.filter { $0.id != entry.id }.map(\.dynamicLine) + [entry.dynamicLine]
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            let info = FileInfo.stat(path)
            _ = try writeFileAtomically(
                Data((lines.joined(separator: "\n") + "\n").utf8), to: path, mode: info?.mode ?? 0o644, uid: info?.uid ?? getuid(), gid: info?.gid ?? getgid())
            if myid == nil || myid?.isEmpty == true {
                _ = try writeFileAtomically(Data("\(entry.id)\n".utf8), to: myidPath, mode: 0o644, uid: getuid(), gid: getgid())
            }
        } catch let error as FileCopyError {
            return .failure(cause: .ioError, message: error.message)
        } catch {
            return .failure(cause: .ioError, message: "cannot create \(dataDir): \(error.localizedDescription)")
        }
        return .success(
            "wrote \(path): \(lines.count) server(s), this one last", facts: ["dynamicConfigFile": .string(path), "servers": .string(lines.joined(separator: "\n"))])
    }
}
