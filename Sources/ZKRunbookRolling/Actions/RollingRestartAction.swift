import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// The actions for driving a whole ensemble, registered beside the engine's and the ZooKeeper ones.
public enum RollingActions {
    public static let all: [any ActionKind] = [
        AgentRunAction.kind, RollingRestartAction.kind, ForEachNodeAction.kind, ConfigChangeCheckAction.kind, UpgradeCheckAction.kind,
    ]
}

/// `zk-rolling-restart`: runs the per-node procedure on every node of an ensemble, one node at a time —
/// observers first, then followers, the leader last — finding the leader again before every node.
///
/// The procedure itself (`perNode`) is ordinary runbook steps, so an operator reads guards, the restart
/// and the gates in the runbook file. A node whose procedure fails halts the whole restart: no further
/// node is touched. Nodes done are recorded beside the journal, so `resume` continues with the next one.
struct RollingRestartAction: DeclaredAction {
    static let name = "zk-rolling-restart"
    static let summary = "restart every node one at a time (observers, followers, the leader last) with the per-node steps in 'perNode'"

    var ensemble: Template
    var perNode: [Step]
    /// The nodes' lease lasts this long unrenewed (default 60 s): how soon a dead conductor's nodes are free.
    var leaseTTL: DurationSpec?
    var isReadOnly: Bool { false }
    var handlesDryRun: Bool { true }
    var nestedSteps: [Step] { perNode }
    var nestedNodeFields: Set<String>? { EnsembleFile.nodeFieldNames }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "hold the lease on every node of \(ensemble.display(resolver)) through its agent (the run's own, else taken here: all or nothing; refused while another run holds one)",
            "for every node of \(ensemble.display(resolver)), one at a time: observers, then followers, the leader last (found again before each node):",
        ] + perNode.map { "  \($0.id): \($0.description)" }
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let path = try context.resolved(ensemble)
        if context.options.offline && !FileManager.default.fileExists(atPath: path) {
            return .unknown("the ensemble file \(path) is not on this machine: the nodes are not listed (offline plan)")
        }
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: path) } catch {
            return .failure(cause: .invalidArgument, message: error.singleLine)
        }
        let progress = RollingProgress(path: context.resolver.runDirectory + "/rolling-\(context.stepID).json")
        let reach = Reach(nodes: context.options.services.nodeConnector, servers: context.options.services.serverConnector)
        let offline = context.options.offline
        var ownLease: EnsembleLease?
        var context = context
        if let held = context.options.fence as? EnsembleLease, held.covers(file) {
            // The run took the members' lease before its first step (the runbook's `lease`): the loop checks it.
        } else if !context.isDryRun && !offline {
            // A runbook that declares no `lease`: this step takes the members' lease itself, for its own span.
            let needs = perNode.compactMap { ($0.action as? AgentRunAction)?.runbook.display(context.resolver) }
            let ttl = leaseTTL?.resolve(context.resolver.parameters)?.seconds ?? 60
            switch EnsembleLeaseProvider.take(
                file: file, runID: context.resolver.runID, runbook: "zk-rolling-restart, step \(context.stepID)",
                options: .init(ttl: ttl, needs: needs, connector: reach.nodes),
                cancellation: context.cancellation)
            {
            case .failure(let failure):
                let done = progress.load()
                var refusal = ActionOutcome.failure(
                    cause: failure.cause,
                    message: "lease: " + failure.message
                        + (done.isEmpty ? "" : "; nodes \(done.map(String.init).joined(separator: ", ")) were restarted before"),
                    evidence: failure.evidence)
                refusal.changedSomething = false
                return refusal
            case .success(let taken):
                ownLease = taken.lease
                var event = Event(type: .leaseTaken, runID: context.resolver.runID)
                event.step = context.stepID
                event.message = taken.note
                context.report(event)
                context.options.fence = taken.lease
            }
        }
        defer { ownLease?.release() }
        let loop = NodeLoop(
            procedure: NodeProcedure(steps: perNode, file: file, location: ensemble.location), members: file.nodes, progress: progress,
            doneWord: "restarted", skippedWork: { "restart of node \($0.id)" },
            explainFailure: { member, started in Self.explain(member, among: file.nodes, since: started, reach: reach) },
            describeInterrupted: { member in
                ServerProbe(limits: SocketLimits(connectTimeout: 1, readTimeout: 1), wantMonitor: false, wantRuok: false, connector: reach.servers)
                    .probe(member.endpoint, adminPort: member.adminPort).mode.rawValue
            },
            unavailability: offline ? nil : { Self.unavailability(of: file.nodes, reach: reach) })
        var order = LeaderLastOrder(members: file.nodes, offline: offline, connector: reach.servers)
        let result = loop.run(order: &order, context: context)
        let orderFact = FactValue.string(result.order.map(String.init).joined(separator: ","))
        guard result.outcome.succeeded else {
            var failure = result.outcome
            failure.facts["order"] = orderFact
            return failure
        }
        let summary = context.isDryRun ? "would restart, in this order: " : "restarted, in this order: "
        var facts: [String: FactValue] = [
            "order": .string((result.done.isEmpty ? result.order : result.done).map(String.init).joined(separator: ",")),
            "restarted": .int(Int64(result.done.count)),
        ]
        var noLeader = ""
        if !result.noLeaderMs.isEmpty {
            let known = result.noLeaderMs.values.allSatisfy { $0 >= 0 }
            let total = result.noLeaderMs.values.filter { $0 >= 0 }.reduce(0, +)
            facts["noLeaderMs"] = .int(known ? total : -1)
            noLeader =
                known
                ? "; clients had no leader for \(total) ms in all"
                    + (total > 0
                        ? " ("
                            + result.noLeaderMs.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "node \($0.key)'s turn: \($0.value) ms" }.joined(
                                separator: ", ") + ")" : "")
                : "; time without a leader not measured on every node (the node lines say why)"
        }
        return .success(summary + result.order.map { "node \($0)" }.joined(separator: ", ") + noLeader, facts: facts)
    }

    /// Every member's time without a leader (mntr), read at once.
    static func unavailability(of members: [EnsembleNode], reach: Reach) -> UnavailabilitySample {
        let probe = ServerProbe(limits: SocketLimits(connectTimeout: 1, readTimeout: 1), wantMonitor: true, wantRuok: false, connector: reach.servers)
        let facts = probe.probeAll(members.map { ($0.endpoint, $0.adminPort) })
        return UnavailabilitySample(monitors: zip(members, facts).map { ($0.0.id, $0.1) })
    }

    /// The headline and evidence of a node whose procedure failed. When the node serves again but another
    /// member does not (a follower that froze or fell out during this node's restart), the headline names
    /// that member — the one the gate waited on — and its evidence and log come first.
    static func explain(_ member: EnsembleNode, among members: [EnsembleNode], since started: Date, reach: Reach) -> (headline: String, evidence: [String]) {
        let (lines, now) = evidence(for: member, reach: reach)
        let headline = headline(node: member.id, now: now, since: started)
        guard now.mode.isServing else { return (headline, lines) }
        let others = members.filter { $0.id != member.id }
        let probe = ServerProbe(limits: SocketLimits(connectTimeout: 2, readTimeout: 2), wantMonitor: false, wantRuok: false, connector: reach.servers)
        let stranded = zip(others, probe.probeAll(others.map { ($0.endpoint, $0.adminPort) })).filter { !$0.1.mode.isServing }
        guard !stranded.isEmpty else { return (headline, lines) }
        let named = stranded.map { "server \($0.0.id) (it is \($0.1.mode.rawValue) now)" }.joined(separator: ", ")
        let theirs = Parallel.map(stranded.map(\.0)) { evidence(for: $0, reach: reach).lines }.flatMap { $0 }
        return (
            "node \(member.id) serves again as \(now.mode.rawValue), but \(named) \(stranded.count == 1 ? "does" : "do") not: the gate waited on \(stranded.count == 1 ? "it" : "them")",
            theirs + lines
        )
    }

    /// What happened to a node whose procedure failed, in words that match what it answers now: a node
    /// that still serves with an uptime older than the attempt was never stopped.
    static func headline(node: Int, now: ServerFacts, since started: Date) -> String {
        guard now.mode.isServing else { return "node \(node) did not come back (it is \(now.mode.rawValue) now)" }
        if let uptime = now.uptimeMs, Double(uptime) / 1000 > Date().timeIntervalSince(started) {
            return "node \(node) failed, and was not stopped: it still serves as \(now.mode.rawValue), up for \(uptime / 1000) s"
        }
        return "node \(node) failed, but serves again as \(now.mode.rawValue)"
    }

    /// What an operator needs when a node does not come back: what it answers now, and its log's tail.
    static func evidence(for member: EnsembleNode, reach: Reach) -> (lines: [String], facts: ServerFacts) {
        let facts = ServerProbe(limits: SocketLimits(connectTimeout: 2, readTimeout: 2), connector: reach.servers).probe(
            member.endpoint, adminPort: member.adminPort)
        var lines = [
            "srvr on \(member.endpoint): mode \(facts.mode.rawValue)" + (facts.zxid.map { ", zxid \($0)" } ?? "") + (facts.error.map { ": \($0)" } ?? "")
        ]
        lines += facts.notes.map { "  " + $0 }
        if let logFile = member.logFile {
            // Our own probes' "Processing srvr command from …" lines are left out: they are most of a
            // log during a gate, and say nothing about why the server did not come back.
            let script = "tail -n 2000 \"$1\" | grep -v -E 'Processing (srvr|ruok|mntr|conf|stat|cons|envi|isro|wchs|dirs) command' | tail -n 15"
            let result = reach.nodes.runner(for: member).run(
                CommandSpec(argv: ["sh", "-c", script, "sh", logFile], timeout: 15, outputCap: 64 << 10), cancellation: nil)
            if result.exitStatus == 0 {
                lines.append("last lines of \(logFile) (zkrunbook's own four-letter-word probes left out):")
                lines += result.stdout.lastLines(15).map { "  " + $0 }
            } else {
                lines.append("cannot read \(logFile) on the node: \(result.termination.summary) \(result.stderr.lastLines(1).joined())")
            }
        }
        return (lines, facts)
    }
}

/// How a rolling restart reaches its nodes (commands) and their servers (probes): the run's seams.
struct Reach: Sendable {
    var nodes: any NodeConnector
    var servers: any ServerConnector
}

extension RollingRestartAction {
    init?(_ arguments: ActionArguments) {
        let reader = arguments.reader
        let ensemble = reader.template("ensemble", required: true)
        var steps: [Step]?
        if let node = reader.value("perNode", required: true, expected: "an array of steps") {
            steps = arguments.readSteps(node, "'perNode'")
        }
        let leaseTTL = reader.duration("leaseTTL")
        guard let ensemble, let steps, !steps.isEmpty else { return nil }
        self.init(ensemble: ensemble, perNode: steps, leaseTTL: leaseTTL)
    }
}

/// Forwards a node's nested events into the run, tagged with the node; the nested run's own start and
/// finish are replaced by node-started and node-finished.
struct NodeEventForwarder: EventSink {
    var report: @Sendable (Event) -> Void
    var node: EnsembleNode
    var parentStep: String

    func emit(_ event: Event) {
        // The node procedure's own start and end (no parent yet); a remote agent's are kept.
        if (event.type == .runStarted || event.type == .runFinished) && event.parentStep == nil { return }
        var tagged = event
        tagged.node = node.id
        tagged.nodeHost = node.host
        tagged.parentStep = event.parentStep ?? parentStep
        report(tagged)
    }
}

/// The nodes a rolling restart has finished, kept beside the journal for `resume`.
struct RollingProgress {
    var path: String

    func load() -> [Int] {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let done = object["done"] as? [Int]
        else { return [] }
        return done
    }

    /// Writes atomically and fsyncs; returns an error message on failure.
    func save(_ done: [Int]) -> String? {
        do {
            let data = try JSONSerialization.data(withJSONObject: ["done": done])
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            return nil
        } catch {
            return error.localizedDescription
        }
    }
}
