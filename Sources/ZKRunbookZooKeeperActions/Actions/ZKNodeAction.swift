import Foundation
import ZKRunbookClient
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-node`: a znode as a guard sees it, read through ZooKeeper's own protocol (a `sync` first, so the
/// read is as fresh as the leader): whether it exists, its version, data and children.
struct ZKNodeAction: ArgumentsDecodable {
    static let name = "zk-node"
    static let summary = "read-only: a znode's existence, version, data length, data (text) and children, read after sync"

    var ensemble: Template
    var path: Template
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? {
        FactNames(["exists", "version", "dataLength", "data", "children", "numChildren", "ephemeral", "mzxid"])
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["read znode \(path.display(resolver)) through \(ensemble.display(resolver)) (after sync)"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([ensemble, path])
        let seconds = min(timeout?.resolve(context.resolver.parameters)?.seconds ?? 5, max(0.5, context.remainingSeconds))
        let znode = values[1]
        let client: ZooKeeperClient
        switch ZooKeeperActions.session(fromSource: values[0], connectTimeout: seconds, requestTimeout: seconds, context: context, purpose: "to read \(znode)")
        {
        case .success(let session): client = session
        case .failure(let outcome): return outcome
        }
        defer { client.close() }
        do {
            try client.sync(znode)
            guard let stat = try client.exists(znode) else {
                return .success("\(znode) does not exist", facts: ["exists": .bool(false)])
            }
            let (data, _) = try client.getData(znode)
            let children = try client.getChildren(znode).sorted()
            var facts: [String: FactValue] = [
                "exists": .bool(true), "version": .int(Int64(stat.version)), "dataLength": .int(Int64(stat.dataLength)),
                "children": .string(children.joined(separator: ",")), "numChildren": .int(Int64(stat.numChildren)),
                "ephemeral": .bool(stat.ephemeralOwner != 0), "mzxid": .string(String(format: "0x%llx", stat.mzxid)),
            ]
            if let text = String(bytes: data, encoding: .utf8) { facts["data"] = .string(text) }
            return .success("\(znode): version \(stat.version), \(stat.dataLength) byte(s), \(children.count) child(ren)", facts: facts)
        } catch {
            return .failure(cause: .unreachable, message: "cannot read \(znode): \(error)")
        }
    }
}
