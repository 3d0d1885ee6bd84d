import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// `zk-config-change-check`: before a rolling config change touches anything, reads every node's files
/// through its agent and says what the change would do to each node (the per-node diff a plan shows), and
/// refuses what would break the ensemble: a node not read, server lists or myids already drifting,
/// membership keys, a dataDir missing on a node, a port clash. With `verify`, the same read after the change
/// fails unless every node holds what was asked.
struct ConfigChangeCheckAction: ArgumentsDecodable {
    static let name = "zk-config-change-check"
    static let summary = "read-only: every node's config through its agent; the per-node diff of a change, refused where it would break the ensemble"

    var ensemble: Template
    var set: Template?
    var remove: Template?
    var javaEnv: Template?
    var verify: Bool
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["verify": false] }
    var yieldedFacts: FactNames? { FactNames(["nodes", "changedNodes", "unchangedNodes"], prefixes: ["diff."]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let parts = [("set", set), ("remove", remove), ("java.env", javaEnv)].compactMap { label, template in
            template.map { $0.display(resolver) }.flatMap { $0.isEmpty ? nil : "\(label) \($0)" }
        }
        let what = parts.isEmpty ? "the change" : parts.joined(separator: ", ")
        if verify { return ["read every node's config in \(ensemble.display(resolver)) through its agent: each must now hold \(what)"] }
        return [
            "read every node's config in \(ensemble.display(resolver)) through its agent; show what \(what) changes on each node;",
            "refuse if a node is not read, the server lists or myids already differ, or the change touches membership, a missing dataDir or a clashing port",
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let path = try context.resolved(ensemble)
        let words = try context.resolved([set, remove, javaEnv].map { $0 ?? Template.literal("") })
        let change: ConfigChange
        switch ConfigChange.parse(set: words[0], remove: words[1], javaEnv: words[2]) {
        case .failure(let problem): return refusal(problem.message)
        case .success(let parsed): change = parsed
        }
        if change.isEmpty { return refusal("nothing to change: give 'set', 'remove' or 'javaEnv' (\(ConfigChange.syntax))") }
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: path) } catch { return .failure(cause: .invalidArgument, message: error.singleLine) }
        let folders = change.set.filter { $0.key == "dataDir" || $0.key == "dataLogDir" }.map(\.value)
        let seconds = timeout?.resolve(context.resolver.parameters)?.seconds ?? min(30, context.remainingSeconds)
        let read = NodeConfigReader.readAll(file, timeout: seconds, checkDirectories: folders)
        let drift = ConfigDrift.compare(read)
        let blocking: Set<ConfigDrift.Finding.Kind> = [.unread, .serverListsDiffer, .myidMismatch, .myidMissing, .notInOwnList]
        var reasons = drift.findings.filter { blocking.contains($0.kind) }.map(\.message)
        let nodes = read.compactMap { member, result in (try? result.get()).map { (member: member, snapshot: $0) } }
        reasons += change.refusals(nodes)
        if !reasons.isEmpty && !verify { return refusal(reasons.joined(separator: "; ")) }

        var facts: [String: FactValue] = ["nodes": .string(file.members.map { String($0.id) }.joined(separator: ","))]
        var changed: [Int] = []
        var lines: [String] = []
        for (member, snapshot) in nodes {
            let edits = change.effect(on: snapshot)
            facts["diff.\(member.id)"] = .string(edits.isEmpty ? "unchanged" : edits.map(\.description).joined(separator: "; "))
            if !edits.isEmpty { changed.append(member.id) }
            lines.append("node \(member.id): " + (edits.isEmpty ? "unchanged" : edits.map(\.description).joined(separator: "; ")))
        }
        facts["changedNodes"] = .string(changed.map(String.init).joined(separator: ","))
        facts["unchangedNodes"] = .string(nodes.map(\.member.id).filter { !changed.contains($0) }.map(String.init).joined(separator: ","))
        if verify {
            let unread = drift.findings.filter { $0.kind == .unread }.map(\.message)
            guard unread.isEmpty, changed.isEmpty else {
                return .failure(
                    cause: .verifyFailed,
                    message: "not every node holds the change: " + (unread + lines.filter { !$0.hasSuffix("unchanged") }).joined(separator: "; "), facts: facts)
            }
            return .success("every node (\(nodes.count)) holds the change", facts: facts)
        }
        if changed.isEmpty { return refusal("every node already holds this change: nothing to do (" + lines.joined(separator: "; ") + ")") }
        return .success(lines.joined(separator: "; "), facts: facts)
    }

    private func refusal(_ message: String) -> ActionOutcome {
        var outcome = ActionOutcome.failure(cause: .refused, message: "refused: " + message)
        outcome.changedSomething = false
        return outcome
    }
}
