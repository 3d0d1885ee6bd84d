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
    /// zoo.cfg keys every node must already have (`key;key`): what the change relies on, such as the
    /// quorum's keystore before quorum TLS is turned on.
    var requires: Template?
    /// The oldest ZooKeeper the change works on (`3.5.5`): each server's srvr version is read.
    var minVersion: Template?
    /// When every node already holds the change: succeed with nothing to change (a roll of a runbook run
    /// again after it halted) instead of refusing.
    var skipWhenDone: Bool
    /// zoo.cfg keys each node gets its own value for, from its entry in the ensemble file (`secureClientPort`):
    /// enable-client-tls opens on every node the port the file plans for it.
    var nodeKeys: Template?
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["verify": false, "skipWhenDone": false] }
    var yieldedFacts: FactNames? { FactNames(["nodes", "changedNodes", "unchangedNodes"], prefixes: ["diff."]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let parts = [("set", set), ("remove", remove), ("java.env", javaEnv)].compactMap { label, template in
            template.map { $0.display(resolver) }.flatMap { $0.isEmpty ? nil : "\(label) \($0)" }
        }
        let what = parts.isEmpty ? "the change" : parts.joined(separator: ", ")
        if verify { return ["read every node's config in \(ensemble.display(resolver)) through its agent: each must now hold \(what)"] }
        var lines = [
            "read every node's config in \(ensemble.display(resolver)) through its agent; show what \(what) changes on each node;",
            "refuse if a node is not read, the server lists or myids already differ, or the change touches membership, a missing dataDir or a clashing port",
        ]
        if let needed = requires?.display(resolver), !needed.isEmpty { lines.append("refuse if a node's zoo.cfg lacks any of: \(needed)") }
        if let oldest = minVersion?.display(resolver), !oldest.isEmpty {
            lines.append("refuse if a server runs ZooKeeper older than \(oldest) (its srvr version)")
        }
        return lines
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let path = try context.resolved(ensemble)
        let words = try context.resolved([set, remove, javaEnv, requires, minVersion, nodeKeys].map { $0 ?? Template.literal("") })
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: path) } catch { return .failure(cause: .invalidArgument, message: error.singleLine) }
        let ownKeys = words[5].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        // Each node's change: the common one, and its own value of each node key.
        var perNode: [Int: ConfigChange] = [:]
        var missingOwn: [String] = []
        for node in file.nodes {
            let fields = file.nodeFields(node)
            let own = ownKeys.map { key in (key, fields[key] ?? "") }
            missingOwn += own.filter { $0.1.isEmpty }.map { "node \(node.id) has no \($0.0) in \(path)" }
            switch ConfigChange.parse(set: ([words[0]] + own.map { "\($0.0)=\($0.1)" }).joined(separator: ";"), remove: words[1], javaEnv: words[2]) {
            case .failure(let problem): return ActionOutcome.refusal(problem.message)
            case .success(let parsed): perNode[node.id] = parsed
            }
        }
        guard missingOwn.isEmpty else { return ActionOutcome.refusal(missingOwn.joined(separator: "; ") + ": each node needs its own value") }
        guard let change = perNode.values.first, !change.isEmpty else {
            return ActionOutcome.refusal("nothing to change: give 'set', 'remove' or 'javaEnv' (\(ConfigChange.syntax))")
        }
        let folders = change.set.filter { $0.key == "dataDir" || $0.key == "dataLogDir" }.map(\.value)
        let seconds = timeout?.resolve(context.resolver.parameters)?.seconds ?? min(30, context.remainingSeconds)
        let read = NodeConfigReader.readAll(file, timeout: seconds, checkDirectories: folders)
        let drift = ConfigDrift.compare(read)
        let blocking: Set<ConfigDrift.Finding.Kind> = [.unread, .serverListsDiffer, .myidMismatch, .myidMissing, .notInOwnList]
        var reasons = drift.findings.filter { blocking.contains($0.kind) }.map(\.message)
        let nodes = read.compactMap { member, result in (try? result.get()).map { (member: member, snapshot: $0) } }
        // Keys every node sets alike are judged across the nodes (two on one host would clash); a node's own
        // values each on its node.
        reasons += ownKeys.isEmpty ? change.refusals(nodes) : nodes.flatMap { perNode[$0.member.id]?.refusals([$0]) ?? [] }
        let required = words[3].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (member, snapshot) in nodes {
            let missing = required.filter { snapshot.properties[$0] == nil }
            if !missing.isEmpty { reasons.append("node \(member.id)'s \(snapshot.zooCfg) lacks \(missing.joined(separator: ", ")), which this change needs") }
        }
        if !words[4].isEmpty && !verify {
            reasons += Self.versionRefusals(file.members, minimum: words[4], connector: context.options.services.serverConnector)
        }
        if !reasons.isEmpty && !verify { return ActionOutcome.refusal(reasons.joined(separator: "; ")) }

        var facts: [String: FactValue] = ["nodes": .string(file.members.map { String($0.id) }.joined(separator: ","))]
        var changed: [Int] = []
        var lines: [String] = []
        for (member, snapshot) in nodes {
            let edits = (perNode[member.id] ?? change).effect(on: snapshot)
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
        if changed.isEmpty {
            let done = "every node already holds this change: nothing to do (" + lines.joined(separator: "; ") + ")"
            return skipWhenDone ? .success(done, facts: facts) : ActionOutcome.refusal(done)
        }
        return .success(lines.joined(separator: "; "), facts: facts)
    }

    /// Servers older than `minimum` (or whose version cannot be read), each named with what it runs.
    static func versionRefusals(_ members: [EnsembleMember], minimum: String, connector: any ServerConnector) -> [String] {
        let wanted = numbers(minimum)
        let probe = ServerProbe(limits: SocketLimits(connectTimeout: 2, readTimeout: 2), wantMonitor: false, wantRuok: false, connector: connector)
        let facts = probe.probeAll(members.map { ($0.endpoint, nil) })
        return zip(members, facts).compactMap { member, fact in
            guard let version = fact.version else {
                return
                    "server \(member.id) (\(member.endpoint)) did not say its version (\(fact.error ?? "no srvr answer")): this change needs \(minimum) or later"
            }
            let running = numbers(version)
            return running.lexicographicallyPrecedes(wanted)
                ? "server \(member.id) runs ZooKeeper \(version.prefix { $0 != "-" }): this change needs \(minimum) or later" : nil
        }
    }

    /// "3.8.0-abc, built on …" → [3, 8, 0].
    static func numbers(_ version: String) -> [Int] {
        version.prefix { $0 != "-" && $0 != "," && $0 != " " }.split(separator: ".").compactMap { Int($0) }
    }

}
