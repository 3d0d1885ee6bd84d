import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-upgrade-settings`: read-only, on the node: what this node's zoo.cfg gets with its new release, by the
/// same table the conductor's check judged the whole ensemble with (`UpgradePath`), from what only this node
/// sees: its data folder (transaction logs and no snapshot: snapshot.trust.empty) and its whitelist.
struct ZKUpgradeSettingsAction: ArgumentsDecodable {
    static let name = "zk-upgrade-settings"
    static let summary = "read-only: the zoo.cfg keys this node sets with its new ZooKeeper release (the upgrade table, on this node's files)"

    var config: Template
    /// Empty: only the finish's facts (the data folder, snapshot.trust.empty).
    var version: Template?
    /// The release the server runs now (srvr).
    var running: Template?
    /// The node's AdminServer port in the ensemble file (empty: none): the gates then need no four-letter words.
    var adminPort: Template?
    /// This node is the run's canary: `canaryDue` is true only where the release actually changes here.
    var canary: Template?
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? { FactNames(["set", "count", "trustEmpty", "snapshots", "resync", "canaryDue"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        guard let version else { return ["read \(config.display(resolver)) and its data folder: snapshot.trust.empty set? a snapshot written?"] }
        return [
            "read \(config.display(resolver)) and its data folder: the keys it must carry into \(version.display(resolver)) (snapshot.trust.empty, the 4lw whitelist)"
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, version ?? .literal(""), running ?? .literal(""), adminPort ?? .literal("")])
        let snapshot: NodeConfigSnapshot
        do { snapshot = try NodeConfigSnapshot.read(zooCfg: values[0]) } catch { return .failure(cause: .invalidArgument, message: error.description) }
        // The finish: is the upgrade's key still here, and has the server written a snapshot since?
        let trustEmpty = snapshot.properties["snapshot.trust.empty"]?.lowercased() == "true"
        let snapshots = snapshot.data?.snapshots ?? 0
        var facts: [String: FactValue] = [
            "trustEmpty": .bool(trustEmpty), "snapshots": .int(Int64(snapshots)), "resync": .bool(trustEmpty && snapshots == 0), "set": .string(""),
            "count": .int(0), "canaryDue": .bool(false),
        ]
        guard !values[1].isEmpty else {
            return .success(
                "snapshot.trust.empty " + (trustEmpty ? "set" : "not set") + "; \(snapshots) snapshot(s) in the data folder"
                    + (trustEmpty && snapshots == 0 ? ": it must be re-synced from the leader before the key can go" : ""), facts: facts)
        }
        guard let target = ZooKeeperVersion(values[1]) else {
            return .failure(cause: .invalidArgument, message: "version must be a release number like 3.9.3, found '\(values[1])'")
        }
        let node = UpgradeNodeFacts(id: 0, running: ZooKeeperVersion(values[2]), snapshot: snapshot, hasAdminPort: !values[3].isEmpty)
        let assessment = UpgradePath.assess(to: target, nodes: [node])
        guard assessment.refusals.isEmpty else {
            return .failure(cause: .refused, message: "refused: " + assessment.refusals.joined(separator: "; "))
        }
        // A canary already on the target (a run again after a halt) has nothing new to prove.
        let isCanary = try context.resolved(canary ?? .literal("false")) == "true"
        facts["canaryDue"] = .bool(isCanary && ZooKeeperVersion(values[2]) != target)
        let set = assessment.settings(of: 0)
        (facts["set"], facts["count"]) = (.string(set), .int(Int64(assessment.nodeSettings[0]?.count ?? 0)))
        return .success(set.isEmpty ? "nothing to carry into \(target): only the release changes" : "carried into \(target): \(set)", facts: facts)
    }
}
