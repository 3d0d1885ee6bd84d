import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// Chooses the next node among those left, and says why in the node-started headline.
protocol NodeOrderPolicy {
    mutating func next(of remaining: [EnsembleNode]) -> (member: EnsembleNode, headline: String)
}

/// The order the runbook wrote (`for-each-node`).
struct WrittenOrder: NodeOrderPolicy {
    func next(of remaining: [EnsembleNode]) -> (member: EnsembleNode, headline: String) {
        (remaining[0], "node \(remaining[0].id), \(remaining[0].access.describe(host: remaining[0].host))")
    }
}

/// Observers first, then followers, the leader last, the leader found again before every node
/// (`zk-rolling-restart`); by id when offline, where the leader cannot be known.
struct LeaderLastOrder: NodeOrderPolicy {
    var members: [EnsembleNode]
    var offline: Bool
    /// srvr alone: who leads is all the order needs (the node's guards then probe the ensemble in full).
    var inspector: EnsembleInspector

    init(members: [EnsembleNode], offline: Bool, connector: any ServerConnector = PlaintextConnector()) {
        (self.members, self.offline) = (members, offline)
        inspector = EnsembleInspector(
            probe: ServerProbe(limits: SocketLimits(connectTimeout: 2, readTimeout: 3), wantMonitor: false, wantRuok: false, connector: connector))
    }

    /// Observers first, then followers, the leader last; by id within each group.
    static func order(_ members: [EnsembleNode], leader: Int?) -> [EnsembleNode] {
        members.sorted { a, b in
            func rank(_ member: EnsembleNode) -> Int {
                if member.id == leader { return 2 }
                return member.role == .observer ? 0 : 1
            }
            return (rank(a), a.id) < (rank(b), b.id)
        }
    }

    func next(of remaining: [EnsembleNode]) -> (member: EnsembleNode, headline: String) {
        let leader = offline ? nil : inspector.inspect(members.map(\.member)).leaderID
        let next = Self.order(remaining, leader: leader)[0]
        if offline { return (next, "node \(next.id) (order by id: offline, the leader is not known)") }
        let role = next.id == leader ? "the leader" : next.role == .observer ? "an observer" : "a follower"
        return (
            next,
            "node \(next.id) is \(role)" + (leader.map { " (leader now: server \($0))" } ?? " (no leader found)") + ", \(next.access.describe(host: next.host))"
        )
    }
}

/// What the loop does with one node's ending: decided from the node run's status alone.
enum NodeEnding: Equatable {
    /// Recorded as done; on to the next node.
    case done
    /// Refused or locked before it changed the node: the loop halts with this cause.
    case halt(FailureCause)
    case interrupted
    /// Failed: the loop halts.
    case failed
    /// Failed, noted, and the loop goes on (a rollback over every node).
    case failedAndGoOn

    static func of(_ status: RunStatus, continueOnFailure: Bool) -> NodeEnding {
        switch status {
        case .succeeded: return .done
        case .refused: return .halt(.refused)
        case .locked: return .halt(.locked)
        case .interrupted: return .interrupted
        case .failed, .rolledBack, .rollbackFailed: return continueOnFailure ? .failedAndGoOn : .failed
        }
    }
}

/// The one loop over nodes, one at a time: resume from the progress beside the journal, halt at the first
/// node that fails (naming the nodes untouched and those done before), check the run's lease, and say what the
/// nodes were left as. `zk-rolling-restart` and `for-each-node` differ only in their order and their words.
struct NodeLoop {
    var procedure: NodeProcedure
    /// Every node the loop is to do.
    var members: [EnsembleNode]
    var progress: RollingProgress
    /// How messages say a node was finished: "restarted", "done".
    var doneWord: String
    var continueOnFailure = false
    /// False for read-only checks: nodes checked before a refusal changed nothing.
    var changesNodes = true
    /// Dry run: what the previous node's skipped work is called, for the unknowns after it.
    var skippedWork: (EnsembleNode) -> String
    /// More about a node that failed: a headline to lead the message, and evidence (what it answers now).
    var explainFailure: ((EnsembleNode, _ started: Date) -> (headline: String, evidence: [String]))?
    /// What an interrupted node is now, for the message.
    var describeInterrupted: ((EnsembleNode) -> String)?
    /// Reads every server's time without a leader, before and after each node's turn (live runs only):
    /// the node's line and facts then say how long clients had no leader in it.
    var unavailability: (() -> UnavailabilitySample)?

    struct Result {
        var outcome: ActionOutcome
        /// Node ids in the order they were started.
        var order: [Int]
        var done: [Int]
        /// Node id -> how long clients had no leader in its turn (-1: not measured); only nodes measured.
        var noLeaderMs: [Int: Int64] = [:]
    }

    func run(order policy: inout some NodeOrderPolicy, context: ActionContext) -> Result {
        var done = context.isDryRun ? [] : progress.load()
        var order: [Int] = []
        var previous: EnsembleNode?
        var failures: [String] = []
        var noLeader: [Int: Int64] = [:]
        /// The last node's after-sample: the next node's before-sample, as nothing restarts between them.
        var lastSample: UnavailabilitySample?
        func ending(_ outcome: ActionOutcome) -> Result { Result(outcome: outcome, order: order, done: done, noLeaderMs: noLeader) }
        func list(_ ids: [Int]) -> String { ids.map(String.init).joined(separator: ", ") }
        func halt(untouched: [EnsembleNode]) -> String {
            "; HALTED: " + (untouched.isEmpty ? "it was the last node" : "nodes \(list(untouched.map(\.id))) were not touched")
                + (done.isEmpty ? "" : "; nodes \(list(done)) were \(doneWord) before")
        }
        if !done.isEmpty {
            var event = Event(type: .nodeStarted, runID: context.resolver.runID)
            event.parentStep = context.stepID
            event.message = "resuming: nodes \(list(done)) already \(doneWord)"
            context.report(event)
        }
        while true {
            let remaining = members.filter { !done.contains($0.id) && !order.contains($0.id) }
            guard !remaining.isEmpty else { break }
            if context.cancellation.isCancelled {
                return ending(.failure(cause: .interrupted, message: context.cancellation.reason ?? "interrupted"))
            }
            if let lost = context.options.fence?.check() {
                var failure = ActionOutcome.failure(cause: .locked, message: "the run lost its lease: \(lost)" + halt(untouched: Array(remaining.dropFirst())))
                failure.changedSomething = !done.isEmpty && changesNodes
                return ending(failure)
            }
            if context.remainingSeconds <= 0 {
                return ending(.failure(cause: .timeout, message: "the step's timeout passed with nodes \(list(remaining.map(\.id))) still to do"))
            }
            let (next, headline) = policy.next(of: remaining)
            order.append(next.id)
            let started = Date()
            let before = context.isDryRun ? nil : lastSample ?? unavailability?()
            lastSample = nil
            let run = procedure.run(
                next, index: order.count, total: members.count, headline: headline, context: context,
                priorSkippedChanges: context.isDryRun && changesNodes ? previous.map { [skippedWork($0)] } ?? [] : [],
                first: done.isEmpty && order.count == 1)
            var finished = run.finished
            let untouched = remaining.filter { $0.id != next.id }
            switch NodeEnding.of(run.outcome.status, continueOnFailure: continueOnFailure) {
            case .done:
                done.append(next.id)
                previous = next
                if let before, let after = unavailability?() {
                    lastSample = after
                    let figure = ClientUnavailability.figure(before: before, after: after, restarted: next.id)
                    Self.note(figure, on: &finished)
                    if case .measured(let milliseconds, _) = figure { noLeader[next.id] = milliseconds } else { noLeader[next.id] = -1 }
                }
                context.report(finished)
                if !context.isDryRun, let error = progress.save(done) {
                    return ending(.failure(cause: .ioError, message: "cannot record progress in \(progress.path): \(error)"))
                }
            case .halt(let cause):
                finished.evidence = explainFailure?(next, started).evidence
                context.report(finished)
                var failure = ActionOutcome.failure(
                    cause: cause, message: "node \(next.id): \(run.outcome.message)" + halt(untouched: untouched), evidence: finished.evidence ?? [])
                failure.changedSomething = !done.isEmpty && changesNodes
                return ending(failure)
            case .interrupted:
                context.report(finished)
                return ending(
                    .failure(
                        cause: .interrupted,
                        message: "node \(next.id): \(run.outcome.message)" + (describeInterrupted.map { "; node \(next.id) is \($0(next)) now" } ?? "")
                            + (done.isEmpty ? "" : "; nodes \(list(done)) were \(doneWord) before")
                            + "; 'zkrunbook resume' continues (it asks the node whether its work already ran)"))
            case .failedAndGoOn:
                context.report(finished)
                failures.append("node \(next.id): \(run.outcome.message)")
            case .failed:
                let explained = explainFailure?(next, started)
                finished.evidence = explained?.evidence
                context.report(finished)
                return ending(
                    .failure(
                        cause: .nodeFailed,
                        message: (explained.map { $0.headline + ": " } ?? "node \(next.id): ") + run.outcome.message + halt(untouched: untouched),
                        facts: ["failedNode": .int(Int64(next.id))], evidence: finished.evidence ?? []))
            }
        }
        if !failures.isEmpty {
            return ending(
                .failure(
                    cause: .nodeFailed,
                    message: "\(failures.count) of \(members.count) node(s) failed, the others were done: " + failures.joined(separator: "; "),
                    evidence: failures))
        }
        return ending(.success())
    }

    /// The node's line says how long clients had no leader in its turn; its facts carry the figure
    /// (`noLeaderMs`, -1 when a server could not say).
    static func note(_ figure: ClientUnavailability.Figure, on event: inout Event) {
        var facts = event.facts ?? [:]
        switch figure {
        case .measured(let milliseconds, let server):
            facts["noLeaderMs"] = .int(milliseconds)
            event.message =
                (event.message ?? "")
                + (server.map { "; clients had no leader for \(milliseconds) ms (server \($0)'s unavailable_time)" } ?? "; clients always had a leader")
        case .unknown(let reason):
            facts["noLeaderMs"] = .int(-1)
            event.message = (event.message ?? "") + "; time without a leader not measured: \(reason)"
        }
        event.facts = facts
    }
}
