import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// Runs a per-node procedure (ordinary runbook steps) against one member of an ensemble, over the node's
/// transport, and reports node-started / node-finished around the node's own events.
///
/// Shared by `zk-rolling-restart` (which picks the order from the live ensemble) and `for-each-node`
/// (which follows the order the runbook names).
struct NodeProcedure {
    var steps: [Step]
    var file: EnsembleFile
    var location: SourceLocation

    /// Runs the steps on `member`; `headline` is the node-started message.
    func run(
        _ member: EnsembleNode, index: Int, total: Int, headline: String, context: ActionContext, priorSkippedChanges: [String], first: Bool = false
    ) -> (outcome: RunOutcome, finished: Event) {
        var member = member
        var headline = headline
        // A node whose zoo.cfg the ensemble file does not name: the one its running server was started with,
        // found by its agent (`${node.zooCfg}` in the steps), rather than a default path it may not use.
        let connector = context.options.services.nodeConnector
        if member.zooCfg == nil && !context.options.offline,
            let running = NodeConfigReader.runningZooCfg(of: member, connector: connector, cancellation: context.cancellation)
        {
            member.zooCfg = running
            headline += " (zoo.cfg: \(running), as its running server was started with)"
        }
        var started = Event(type: .nodeStarted, runID: context.resolver.runID)
        started.node = member.id
        started.nodeHost = member.host
        started.parentStep = context.stepID
        started.index = index
        started.total = total
        started.message = headline
        context.report(started)
        let began = Date()
        // The outer run's secret parameters stay secret in the node's events.
        let secrets = context.resolver.secretParameters.sorted().map { ParameterSpec(name: $0, type: .string, secret: true, location: location) }
        let nodeRunbook = Runbook(
            name: "\(context.stepID)-node-\(member.id)", description: "", parameters: secrets, steps: steps,
            lock: Template.literal("none", at: location), defaultTimeout: RunbookDuration(milliseconds: 600_000),
            sourcePath: "", sourceText: "", warnings: [])
        let forward = NodeEventForwarder(report: context.report, node: member, parentStep: context.stepID)
        var scope = file.scope(of: member)
        // `${node.first}`: the first node this run changes (none done before it, resumed or not): an upgrade's canary.
        scope.text["first"] = first ? "true" : "false"
        let executor = Executor(
            runbook: nodeRunbook, parameters: context.resolver.parameters, options: context.options, sink: forward,
            runner: connector.runner(for: member), registry: context.registry, cancellation: context.cancellation,
            rollbackCancellation: context.rollbackCancellation, node: scope, outerFacts: context.resolver.stepFacts,
            priorSkippedChanges: priorSkippedChanges)
        let outcome = executor.run(runID: context.resolver.runID)
        var finished = Event(type: .nodeFinished, runID: context.resolver.runID)
        finished.node = member.id
        finished.nodeHost = member.host
        finished.parentStep = context.stepID
        finished.durationMs = Int(Date().timeIntervalSince(began) * 1000)
        finished.status = outcome.status.eventStatus
        finished.message = outcome.message
        return (outcome, finished)
    }
}

/// `for-each-node`: runs the steps in `steps` on the nodes named in `nodes`, one at a time, in the order
/// written; the first node that fails halts the rest, unless `continueOnFailure` (for a rollback, where
/// one node that cannot be undone must not leave the others undone). Nodes done are recorded beside the
/// journal, so `resume` continues with the next one.
struct ForEachNodeAction: DeclaredAction {
    static let name = "for-each-node"
    static let summary = "run the steps in 'steps' on each node named in 'nodes' (ids, in that order) of an ensemble, one at a time"

    var ensemble: Template
    var nodes: Template
    var steps: [Step]
    /// Every nested step is read-only (checked when the runbook loads): a check run on each node.
    var readOnly = false
    var continueOnFailure = false
    var isReadOnly: Bool { readOnly }
    var handlesDryRun: Bool { true }
    var nestedSteps: [Step] { steps }
    var nestedNodeFields: Set<String>? { EnsembleFile.nodeFieldNames }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "for nodes \(nodes.display(resolver)) of \(ensemble.display(resolver)), one at a time, in that order"
                + (continueOnFailure ? ", every node even after one fails:" : ":")
        ]
            + steps.map { "  \($0.id): \($0.description)" }
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values: [String]
        switch context.resolveAll([ensemble, nodes]) {
        case .success(let resolved): values = resolved
        case .failure(let outcome):
            // A dry run that skipped (or could not run) the step the node list comes from cannot know it yet.
            if context.isDryRun { return .unknown("nodes \(nodes.source): known when the run gets here") }
            return outcome
        }
        let (path, named) = (values[0], values[1])
        if context.options.offline && !FileManager.default.fileExists(atPath: path) {
            return .unknown("the ensemble file \(path) is not on this machine: the nodes are not listed (offline plan)")
        }
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: path) } catch { return .failure(cause: .invalidArgument, message: error.singleLine) }
        var members: [EnsembleNode] = []
        for word in named.split(separator: ",").map(\.trimmingSpaces) {
            guard let id = Int(word), let member = file.nodes.first(where: { $0.id == id }) else {
                return .failure(
                    cause: .invalidArgument,
                    message: "nodes '\(named)': '\(word)' is not a node of \(path) (nodes \(file.nodes.map { String($0.id) }.joined(separator: ", ")))")
            }
            members.append(member)
        }
        guard !members.isEmpty else { return .failure(cause: .invalidArgument, message: "nodes is empty: name node ids such as 4,5,6") }
        let loop = NodeLoop(
            procedure: NodeProcedure(steps: steps, file: file, location: ensemble.location), members: members,
            progress: RollingProgress(path: context.resolver.runDirectory + "/nodes-\(context.stepID).json"), doneWord: "done",
            continueOnFailure: continueOnFailure, changesNodes: !readOnly, skippedWork: { "the steps on node \($0.id)" })
        var order = WrittenOrder()
        let result = loop.run(order: &order, context: context)
        guard result.outcome.succeeded else { return result.outcome }
        return .success(
            (context.isDryRun ? "would run on nodes " : "done on nodes ") + members.map { String($0.id) }.joined(separator: ", "),
            facts: ["nodes": .string(members.map { String($0.id) }.joined(separator: ","))])
    }
}

extension ForEachNodeAction {
    init?(_ arguments: ActionArguments) {
        let reader = arguments.reader
        let ensemble = reader.template("ensemble", required: true)
        let nodes = reader.template("nodes", required: true)
        let readOnly = reader.bool("readOnly") ?? false
        let continueOnFailure = reader.bool("continueOnFailure") ?? false
        var steps: [Step]?
        if let node = reader.value("steps", required: true, expected: "an array of steps") {
            steps = arguments.readSteps(node, "'steps'")
        }
        guard let ensemble, let nodes, let steps, !steps.isEmpty else { return nil }
        if readOnly, let changing = steps.first(where: { !$0.action.isReadOnly }) {
            reader.diagnostics.error(
                changing.location,
                "for-each-node is marked readOnly, but its step '\(changing.id)' (\(changing.actionName)) may change things: mark it readOnly too, or drop readOnly"
            )
        }
        self.init(ensemble: ensemble, nodes: nodes, steps: steps, readOnly: readOnly, continueOnFailure: continueOnFailure)
    }
}
