import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-ensemble`: every member probed at once; leader, lag, synced followers, quorum maths, verdict.
struct ZKEnsembleAction: ArgumentsDecodable {
    static let name = "zk-ensemble"
    static let summary = "read-only: probe all members at once; verdict (healthy, degraded-but-quorate, no-quorum, split), leader, lag, quorum maths"

    var servers: [Template]
    var ensembleFile: Template?
    var zooCfg: Template?
    /// Any of the three, told apart at run time: a .json5 file, another file (zoo.cfg), or host:port,….
    var ensemble: Template?
    var maxLag: Template
    /// A node id: also judge whether the ensemble keeps a quorum without it (before stopping it).
    var without: Template?
    /// Node ids ("4,5,6"): judge whether these servers alone could elect a leader (a data-centre failover's guard).
    var survivors: Template?
    var timeout: DurationSpec?
    /// Before a change: every member asked every word the gates will use, and the step refuses unless the
    /// ensemble is healthy, seen whole, its membership exactly as written, and every gate evaluable.
    var preflight: Bool
    /// Ids the ensemble file lists that are not (or no longer) members: left out of the probe and of the
    /// membership check.
    var outside: Template?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["servers": [Template](), "maxLag": Template.literal("1000"), "preflight": false] }

    func check(_ arguments: ActionArguments) {
        if [!servers.isEmpty, ensembleFile != nil, zooCfg != nil, ensemble != nil].filter({ $0 }).count != 1 {
            arguments.diagnostics.error(arguments.reader.location, "zk-ensemble needs exactly one of 'ensemble', 'servers', 'ensembleFile' or 'zooCfg'")
        }
    }
    var yieldedFacts: FactNames? {
        EnsembleView.factNames.union(
            FactNames([
                "canElectWithout", "quorumWithoutReason", "survivorsCanElect", "survivorsServing", "survivorsLed", "survivorModes", "lostVoters",
                "lostNodes", "lostServing", "survivorsReason", "ready", "serverLines", "allServerLines", "ids", "newest", "name",
            ]))
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let source =
            ensembleFile.map { "the ensemble in \($0.display(resolver))" } ?? zooCfg.map { "the servers in \($0.display(resolver))" }
            ?? ensemble.map { $0.display(resolver) } ?? servers.map { $0.display(resolver) }.joined(separator: ",")
        if preflight {
            return [
                "preflight of \(source): every member asked srvr, ruok, mntr and conf at once; refuse unless healthy, seen whole, the membership as written, every gate evaluable"
            ]
        }
        return ["probe every member of \(source) at once (lag limit \(maxLag.display(resolver)) transactions)"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        var members: [EnsembleMember] = []
        var ensembleName: String?
        var nodes: [EnsembleNode] = []
        if let ensemble {
            (members, ensembleName, nodes) = try ensembleSource(context.resolved(ensemble)).get()
        }
        let lagLimit: UInt64
        switch context.resolve(maxLag) {
        case .failure(let outcome): return outcome
        case .success(let text):
            guard let value = UInt64(text) else { return .failure(cause: .invalidArgument, message: "maxLag '\(text)' is not a whole number") }
            lagLimit = value
        }
        if members.isEmpty, let ensembleFile {
            switch context.resolve(ensembleFile) {
            case .failure(let outcome): return outcome
            case .success(let path):
                do {
                    let file = try EnsembleFile.load(path: path)
                    (members, nodes) = (file.members, file.nodes)
                } catch {
                    return .failure(cause: .invalidArgument, message: error.singleLine)
                }
            }
        } else if members.isEmpty, let zooCfg {
            switch context.resolve(zooCfg) {
            case .failure(let outcome): return outcome
            case .success(let path):
                do { members = EnsembleMember.members(from: try ZooConfig.load(path: path, readMyid: false)) } catch {
                    return .failure(cause: .invalidArgument, message: error.description)
                }
            }
        } else if members.isEmpty {
            switch endpoints(servers, context) {
            case .failure(let outcome): return outcome
            case .success(let list):
                members = list.enumerated().map { EnsembleMember(id: $0.offset + 1, host: $0.element.host, clientPort: $0.element.port) }
            }
        }
        // The server lines as the file writes them (a static path writes them into every zoo.cfg): all of
        // them, and those of the members left after `outside`.
        let allServerLines = members.map(\.serverLine).joined(separator: " ")
        if let outside {
            // Nodes the file lists that are not members yet (add-server) or no longer (after remove-server).
            let ids = try context.resolved(outside).split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            members.removeAll { ids.contains($0.id) }
        }
        guard !members.isEmpty else { return .failure(cause: .invalidArgument, message: "no servers to probe") }
        // No ruok: no verdict or fact of this action reads it (a preflight asks it, for the gates that do).
        var inspector = EnsembleInspector(
            probe: ServerProbe(limits: limits(timeout, context.resolver), wantRuok: false, connector: context.options.services.serverConnector),
            maxLag: lagLimit)
        let seconds = inspector.probe.limits.readTimeout
        let connector = context.options.services.serverConnector
        let sasl = context.options.services.saslIdentity
        inspector.readConfig = { ZooKeeperActions.readConfig(from: $0, timeout: seconds, connector: connector, sasl: sasl) }
        inspector.readMembersFile = ZooKeeperActions.readMembersFile(nodes: nodes)
        if let without, case .success(let text) = context.resolve(without) { inspector.settingAside = Int(text) }
        let view = inspector.inspect(members, thorough: preflight)
        let leader = view.leaderID.map { "leader \($0)" } ?? "no leader"
        var message = "\(view.verdict.rawValue): \(leader)"
        if !view.reasons.isEmpty { message += "; " + view.reasons.joined(separator: "; ") }
        var facts = view.factMap
        facts["serverLines"] = .string(members.map(\.serverLine).joined(separator: " "))
        facts["allServerLines"] = .string(allServerLines)
        facts["ids"] = .string(members.map { String($0.id) }.joined(separator: ","))
        // The serving member with the highest zxid (the leader on a tie): where a backup is taken.
        let serving = view.members.filter { $0.facts.mode.isServing && $0.facts.zxid != nil }
        let newest = serving.max { ($0.facts.zxid!, $0.facts.mode == .leader ? 1 : 0) < ($1.facts.zxid!, $1.facts.mode == .leader ? 1 : 0) }
        facts["newest"] = .string(newest.map { String($0.member.id) } ?? "")
        if let ensembleName { facts["name"] = .string(ensembleName) }
        if let without {
            switch context.resolve(without) {
            case .failure(let outcome): return outcome
            case .success(let text):
                guard let id = Int(text) else { return .failure(cause: .invalidArgument, message: "without '\(text)' is not a node id") }
                let down = Set(view.members.filter { !$0.facts.mode.isServing }.map(\.member.id)).union([id])
                let after = QuorumMath.assess(voters: view.quorum.voters, observers: view.quorum.observers, unreachable: down)
                facts["canElectWithout"] = .bool(after.canElect)
                facts["quorumWithoutReason"] = .string("without server \(id): " + after.reason)
                message += "; without server \(id): \(after.reachableVoters.count) of \(after.voters.count) voters left, \(after.majority) needed"
            }
        }
        if let survivors {
            switch context.resolve(survivors) {
            case .failure(let outcome): return outcome
            case .success(let text):
                let layout: SurvivorLayout
                switch SurvivorLayout.parse(text) {
                case .success(let parsed): layout = parsed
                case .failure(let problem): return .failure(cause: .invalidArgument, message: problem.message)
                }
                if let unknown = layout.survivors.first(where: { id in !members.contains { $0.id == id } }) {
                    return .failure(
                        cause: .invalidArgument,
                        message: "survivor \(unknown) is not a member (members \(members.map { String($0.id) }.joined(separator: ", ")))")
                }
                let lost = Set(members.map(\.id)).subtracting(layout.survivors)
                let alone = QuorumMath.assess(voters: view.quorum.voters, observers: view.quorum.observers, unreachable: lost)
                let kept = layout.survivors.compactMap { id in view.members.first { $0.member.id == id } }
                let serving = kept.filter { $0.facts.mode.isServing }.map(\.member.id)
                let leaders = kept.filter { $0.facts.mode == .leader }.count
                facts["survivorsCanElect"] = .bool(alone.canElect)
                facts["survivorsServing"] = .int(Int64(serving.count))
                // The failover's result: exactly one survivor leads and every other follows.
                facts["survivorsLed"] = .bool(leaders == 1 && kept.allSatisfy { $0.facts.mode == .leader || $0.facts.mode == .follower })
                facts["survivorModes"] = .string(kept.map { "\($0.member.id):\($0.facts.mode.rawValue)" }.joined(separator: ","))
                facts["lostVoters"] = .string(view.quorum.voters.filter(lost.contains).map(String.init).joined(separator: ","))
                facts["lostNodes"] = .string(members.map(\.id).filter(lost.contains).map(String.init).joined(separator: ","))
                facts["lostServing"] = .int(Int64(view.members.filter { lost.contains($0.member.id) && $0.facts.mode.isServing }.count))
                facts["survivorsReason"] = .string("servers \(text) alone: " + alone.reason)
                message +=
                    "; servers \(text) alone: \(alone.reachableVoters.count) of \(alone.voters.count) voters, \(alone.majority) needed; \(serving.count) of them serving"
            }
        }
        if preflight {
            let problems = Self.preflightProblems(view)
            facts["ready"] = .bool(problems.isEmpty)
            if !problems.isEmpty {
                var refusal = ActionOutcome.failure(
                    cause: .refused, message: "preflight: the run is not proven possible: " + problems.joined(separator: "; "), facts: facts,
                    evidence: problems)
                refusal.changedSomething = false
                return refusal
            }
            message = "preflight passed: healthy, seen whole, membership as written, every gate evaluable; " + message
        }
        return .success(message, facts: facts)
    }

    /// Everything that makes a change unsafe or its gates unjudgeable, each with what to do.
    static func preflightProblems(_ view: EnsembleView) -> [String] {
        var problems: [String] = []
        if view.verdict != .healthy {
            problems.append("the ensemble is \(view.verdict.rawValue)" + (view.reasons.isEmpty ? "" : ": " + view.reasons.joined(separator: "; ")))
        }
        let findings = view.membership.findings.filter { finding in
            // Unhealthy members already explain themselves above.
            !(view.verdict != .healthy && view.reasons.contains("membership: " + finding.message))
        }
        if !findings.isEmpty {
            problems.append(
                "the membership is not as written (\(view.scope.rawValue) view): " + findings.map(\.message).joined(separator: "; ")
                    + "; fix the ensemble file (or the servers) so that both list the same members")
        }
        problems += view.gateProblems
        return problems
    }
}
