import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// `zk-upgrade-check`: before an upgrade touches anything, every server's version (srvr) and every node's
/// files through its agent (zoo.cfg, the data folder's snapshots and logs, the logging config, the release
/// unpacked and the link) judged against the table of jumps (`UpgradePath`): refused, with what to do, for a
/// jump ZooKeeper forbids or a node the run could not finish on; otherwise what each node's zoo.cfg gets and
/// whether a final roll follows. With `snapshots`, a gate: does every server's data folder hold a snapshot now?
struct UpgradeCheckAction: ArgumentsDecodable {
    static let name = "zk-upgrade-check"
    static let summary =
        "read-only: every server's version and node's files against the table of upgrade jumps; refused before any change where a jump is forbidden"

    var ensemble: Template
    var version: Template
    /// The gate before the final roll: facts `everyNodeHasSnapshot` and `bareNodes` only.
    var snapshots: Bool
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["snapshots": false] }
    var yieldedFacts: FactNames? {
        FactNames(["from", "to", "toChange", "finalRoll", "downgrade", "nodes", "everyNodeHasSnapshot", "bareNodes", "finishNodes", "settings"])
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let target = version.display(resolver)
        if snapshots {
            return [
                "read every node's zoo.cfg and data folder through its agent: which still set snapshot.trust.empty, and which of those hold no snapshot yet"
            ]
        }
        return [
            "ask every server of \(ensemble.display(resolver)) its version (srvr) and read every node's zoo.cfg, data folder, logging config and release \(target) through its agent;",
            "judge the jump to \(target) against the table (" + UpgradePath.rules.map(\.id).joined(separator: ", ")
                + "): refuse a forbidden jump; say what each node's zoo.cfg gets with its new version",
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let path = try context.resolved(ensemble)
        let wanted = try context.resolved(version)
        guard let target = ZooKeeperVersion(wanted) else {
            return .failure(cause: .invalidArgument, message: "version must be a release number like 3.9.3, found '\(wanted)'")
        }
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: path) } catch { return .failure(cause: .invalidArgument, message: error.singleLine) }
        let fields = Dictionary(uniqueKeysWithValues: file.nodes.map { ($0.id, file.nodeFields($0)) })
        func release(_ id: Int) -> String {
            (fields[id]?["installVersions"] ?? "").replacingOccurrences(of: InstallMethod.versionMark, with: target.description)
        }
        let paths = file.nodes.flatMap { node in node.install?.layout == "link" ? [fields[node.id]!["installLink"]!, release(node.id)] : [] }
        let seconds = timeout?.resolve(context.resolver.parameters)?.seconds ?? min(30, context.remainingSeconds)
        let read = NodeConfigReader.readAll(file, timeout: seconds, checkDirectories: Array(Set(paths)).sorted())
        var reasons: [String] = []
        var configs: [Int: NodeConfigSnapshot] = [:]
        for (member, result) in read {
            switch result {
            case .success(let snapshot): configs[member.id] = snapshot
            case .failure(let failure): reasons.append("node \(member.id)'s files could not be read through its agent: \(failure.message)")
            }
        }
        if snapshots { return finishFacts(configs, reasons, stopCommand: !file.stopCommand.isEmpty) }
        let probe = ServerProbe(
            limits: SocketLimits(connectTimeout: 2, readTimeout: 2), wantMonitor: false, wantRuok: false, connector: context.options.services.serverConnector)
        let facts = probe.probeAll(file.members.map { ($0.endpoint, nil) })
        var nodes: [UpgradeNodeFacts] = []
        for (node, fact) in zip(file.nodes, facts) {
            let running = fact.version.flatMap(ZooKeeperVersion.init)
            if let snapshot = configs[node.id] {
                nodes.append(UpgradeNodeFacts(id: node.id, running: running, snapshot: snapshot, hasAdminPort: node.adminPort != nil))
            }
            guard running != target else { continue }
            switch node.install {
            case nil:
                reasons.append("node \(node.id) has no 'install' in \(path): say how its release changes (README, Upgrading ZooKeeper)")
            case .link:
                guard let snapshot = configs[node.id] else { break }
                let link = fields[node.id]!["installLink"]!
                if snapshot.links?[link] == nil {
                    reasons.append("node \(node.id): \(link) is not a symbolic link there: the side-by-side layout needs the server to run from one")
                }
                if snapshot.directories?[release(node.id)] != true {
                    reasons.append("node \(node.id): release \(target) is not unpacked at \(release(node.id)): unpack it on every node first")
                }
            case .command:
                break
            }
        }
        var assessment = UpgradePath.assess(to: target, nodes: nodes)
        // A server that did not say its version is in `refusals` once, by the table.
        reasons += assessment.refusals
        if assessment.mayResync && file.stopCommand.isEmpty {
            reasons.append(
                "the final roll may have to re-sync a node from the leader (\(target) writes no snapshot on a diff sync, ZOOKEEPER-3781), which stops its server: give the ensemble file a stopCommand"
            )
        }
        if !reasons.isEmpty { return ActionOutcome.refusal(reasons.joined(separator: "; ")) }
        assessment.toChange.sort()
        var out: [String: FactValue] = [
            "from": .string(assessment.from.map(\.description).joined(separator: ",")), "to": .string(target.description),
            "toChange": .string(assessment.toChange.map(String.init).joined(separator: ",")), "finalRoll": .bool(!assessment.finalRemovals.isEmpty),
            "downgrade": .bool(assessment.isDowngrade), "nodes": .string(file.nodes.map { String($0.id) }.joined(separator: ",")),
            "settings": .string(assessment.nodeSettings.keys.sorted().map { "node \($0): \(assessment.settings(of: $0))" }.joined(separator: "; ")),
        ]
        if assessment.toChange.isEmpty {
            out["finalRoll"] = .bool(false)
            return .success("every server already runs \(target): nothing to do", facts: out)
        }
        let layouts = Set(file.nodes.compactMap { $0.install?.layout }).sorted()
        let how = layouts.map { $0 == "link" ? "each node's link switched to the release unpacked beside the old one" : "each node's install command" }
        return .success(
            (assessment.summary + ["nodes \(assessment.toChange.map(String.init).joined(separator: ", ")) change, by " + how.joined(separator: " or ")])
                .joined(separator: "; "), facts: out)
    }

    /// The final roll's facts: the nodes whose zoo.cfg still sets snapshot.trust.empty, and those of them with no
    /// snapshot yet (re-synced from the leader, which needs a stop command).
    private func finishFacts(_ read: [Int: NodeConfigSnapshot], _ reasons: [String], stopCommand: Bool) -> ActionOutcome {
        guard reasons.isEmpty else { return .failure(cause: .verifyFailed, message: reasons.joined(separator: "; ")) }
        let carrying = read.filter { $0.value.properties["snapshot.trust.empty"]?.lowercased() == "true" }
        let finish = carrying.keys.sorted()
        let bare = carrying.filter { ($0.value.data?.snapshots ?? 0) == 0 }.keys.sorted()
        let noSnapshot = read.filter { ($0.value.data?.snapshots ?? 0) == 0 }.keys.sorted()
        func list(_ ids: [Int]) -> String { ids.map(String.init).joined(separator: ",") }
        let facts: [String: FactValue] = [
            "everyNodeHasSnapshot": .bool(noSnapshot.isEmpty), "bareNodes": .string(list(bare)), "finishNodes": .string(list(finish)),
        ]
        if !bare.isEmpty && !stopCommand {
            return .refusal(
                "node \(list(bare)) still sets snapshot.trust.empty and holds no snapshot: removing the key needs a re-sync from the leader, which stops its server: give the ensemble file a stopCommand",
                facts: facts)
        }
        guard !finish.isEmpty else { return .success("no zoo.cfg sets snapshot.trust.empty: no final roll", facts: facts) }
        return .success(
            "snapshot.trust.empty is still set on node \(list(finish))"
                + (bare.isEmpty
                    ? "; each holds a snapshot: the key goes in a final roll"
                    : "; node \(list(bare)) holds no snapshot yet: re-synced from the leader in the final roll"),
            facts: facts)
    }

}
