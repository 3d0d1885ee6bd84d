import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// `agent-run`: runs a runbook with the zkrunbook agent on the node the step works on (over its
/// transport), and brings the agent's JSON Lines events back into this run's journal.
///
/// The node's agent takes its own lock and keeps its own journal; the conductor records what it reported,
/// tagged with the node, so one journal tells the whole story.
struct AgentRunAction: DeclaredAction {
    static let name = "agent-run"
    static let summary = "run a runbook with the zkrunbook agent on the step's node (ssh or local); its events are journaled here"

    var runbook: Template
    var parameters: [(String, Template)]
    var agentPath: Template?
    var stateDir: Template?
    /// The author says the remote runbook changes nothing (as exec's readOnly): it then runs in dry runs too.
    var readOnly = false
    /// The agent's own limits (its restart and serve timeouts, a margin): the conductor waits their sum,
    /// so a slow restart inside the node's own limits is never cut off by a shorter conductor limit.
    var budget: [DurationSpec] = []
    /// Adds `--param lease=RUN-ID` (this run's id): the remote runbook checks the node's lease against it.
    var passLease = false
    var isReadOnly: Bool { readOnly }

    /// The request to the node's agent, with whatever values are known (nil: one is missing).
    func request(
        _ resolve: (Template) -> String?, node: NodeFields, once: String? = nil, runID: String = "${run.id}", hold: NodeHold? = nil, tls: ServerTLS? = nil
    ) -> RunRequest? {
        guard let runbookName = resolve(runbook) else { return nil }
        var parameters: [RunRequest.Parameter] = []
        for (name, template) in self.parameters {
            guard let value = resolve(template) else { return nil }
            parameters.append(.init(name, value))
        }
        if passLease { parameters.append(.init("lease", runID)) }
        // The agent stops when its conductor does (the connection's stdin closes), and a resumed conductor
        // asking again for a run that already succeeded gets its result instead of a second restart; the
        // run's hold on the ensemble is checked by the agent before each change it makes there.
        var request = RunRequest(
            runbook: runbookName, parameters: parameters, stateDir: stateDir.flatMap(resolve) ?? node["stateDir"], stopsWithConductor: !readOnly,
            once: readOnly ? nil : once, lease: readOnly ? nil : hold)
        request.tls = tls
        return request
    }

    /// The agent's path on the node: the step's, else the node's (the ensemble's), else found on its PATH.
    func agent(_ resolve: (Template) -> String?, node: NodeFields) -> String { agentPath.flatMap(resolve) ?? node["agentPath"] ?? EnsembleNode.defaultAgent }

    /// The agent's argv, with whatever values are known.
    func argv(
        _ resolve: (Template) -> String?, node: NodeFields, once: String? = nil, runID: String = "${run.id}", hold: NodeHold? = nil, tls: ServerTLS? = nil
    ) -> [String]? {
        request(resolve, node: node, once: once, runID: runID, hold: hold, tls: tls).map { AgentRequest.run($0).argv(agent: agent(resolve, node: node)) }
    }

    /// The agent's argv as the step shows it: in a plan `${run.id}` stays a reference (a plan's id is not the
    /// run's, and every plan of the runbook reads the same); a live run shows its own id, as the agent gets it.
    func command(_ resolver: TemplateResolver) -> [String]? {
        var shown = resolver
        if resolver.isDryRun { shown.runID = "${run.id}" }
        return argv({ $0.display(shown) }, node: resolver.node, runID: shown.runID)
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let target = resolver.node["host"].map { "on node \(resolver.node["id"] ?? "?") (\($0))" } ?? "on this machine"
        var lines = ["agent \(target): " + ShellQuoting.join(command(resolver) ?? [])]
        if let seconds = budgetSeconds(resolver) {
            lines.append("  waits at most \(RunbookDuration(seconds: seconds)) for it (the agent's own limits added up: the step's timeout)")
        }
        return lines
    }

    func ownLimitSeconds(_ resolver: TemplateResolver) -> Double? { budgetSeconds(resolver) }

    func budgetSeconds(_ resolver: TemplateResolver) -> Double? {
        guard !budget.isEmpty else { return nil }
        let parts = budget.compactMap { $0.resolve(resolver.parameters)?.seconds }
        return parts.count == budget.count ? parts.reduce(0, +) : nil
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        var missing: ActionOutcome?
        let resolved = argv(
            { template in
                switch context.resolve(template) {
                case .success(let value): return value
                case .failure(let outcome):
                    missing = outcome
                    return nil
                }
            }, node: context.resolver.node, once: "\(context.resolver.runID).\(context.stepID).node\(context.resolver.node["id"] ?? "local")",
            runID: context.resolver.runID, hold: context.options.fence?.hold(on: context.resolver.node), tls: context.options.services.serverTLS)
        guard let argv = resolved else { return missing ?? .failure(cause: .unresolvedReference, message: "agent command incomplete") }
        var environment: [String: String] = [:]
        if let path = context.resolver.node["runbookPath"] { environment["ZKRUNBOOK_RUNBOOK_PATH"] = path }
        let limit = budgetSeconds(context.resolver) ?? context.remainingSeconds
        var spec = CommandSpec(argv: argv, environment: environment, timeout: limit, terminationGrace: 15, outputCap: 16 << 20)
        spec.holdStandardInputOpen = !readOnly
        let host = context.resolver.node["host"]
        // Each event the agent writes is journaled and shown as it arrives: a restart that takes minutes
        // shows its steps while it runs, and a killed agent's last events are kept.
        let events = AgentEvents(
            node: context.resolver.node["id"].flatMap(Int.init), host: host, parentStep: context.stepID, parentRunID: context.resolver.runID,
            report: context.report)
        spec.onStandardOutputLine = OutputLineHandler { events.take($0) }
        let result = context.runner.run(spec, cancellation: context.cancellation)
        // A runner that cannot stream (a test double) leaves the events in its output.
        if events.count == 0 { for line in result.stdout.text.split(separator: "\n") { events.take(String(line)) } }
        let (finished, failures) = events.summary
        var facts: [String: FactValue] = [:]
        if let finished {
            facts["remoteRunID"] = .string(finished.runID)
            facts["remoteStatus"] = .string(finished.status?.rawValue ?? "?")
            facts["remoteExitCode"] = .int(Int64(finished.exitCode ?? -1))
        }
        if case .transportFailed(let kind, let message) = result.termination {
            return .failure(cause: kind, message: message, facts: facts, evidence: failures + result.stderr.lastLines(5))
        }
        if result.termination == .timedOut || result.termination.cause == .interrupted {
            let why =
                result.termination == .timedOut
                ? "the conductor's limit of \(RunbookDuration(seconds: limit)) for the agent passed" : "the conductor was interrupted"
            let agentSaid =
                finished.map { "the agent stopped: \($0.status?.rawValue ?? "?"): \($0.message ?? "")" } ?? "the agent gave no result before it was stopped"
            return .failure(
                cause: result.termination == .timedOut ? .timeout : .interrupted,
                message: "\(why); its stdin was closed so the agent on node \(host ?? "?") stops too; \(agentSaid)", facts: facts,
                evidence: failures + result.stderr.lastLines(5))
        }
        guard let finished, let code = finished.exitCode else {
            let why = result.termination == .commandNotFound ? "the agent \(argv[0]) is not installed on the node" : result.termination.summary
            return .failure(
                cause: result.termination.cause ?? .agentFailed,
                message: "the agent gave no result: \(why)", facts: facts, evidence: result.stderr.lastLines(10))
        }
        let summary = "agent run \(finished.runID) on node \(host ?? "?"): \(finished.status?.rawValue ?? "?") (exit \(code)): \(finished.message ?? "")"
        switch ExitCode.known(Int32(code)) {
        case .success?: return .success(summary, facts: facts)
        case .refused?:
            var outcome = ActionOutcome.failure(cause: .refused, message: summary, facts: facts, evidence: failures)
            outcome.changedSomething = false
            return outcome
        case .locked?:
            return .failure(cause: .locked, message: summary + "; another run holds the node's lock", facts: facts, evidence: result.stderr.lastLines(3))
        case .interrupted?: return .failure(cause: .interrupted, message: summary, facts: facts, evidence: failures)
        default: return .failure(cause: .remoteFailed, message: summary, facts: facts, evidence: failures)
        }
    }
}

extension AgentRunAction {
    init?(_ arguments: ActionArguments) {
        let reader = arguments.reader
        let runbook = reader.template("runbook", required: true)
        let agentPath = reader.template("agentPath")
        let stateDir = reader.template("stateDir")
        let readOnly = reader.bool("readOnly") ?? false
        let budget = reader.durations("budget")
        let passLease = reader.bool("passLease") ?? false
        var parameters: [(String, Template)] = []
        if let params = reader.object("params") {
            for member in params.object.members {
                if let value = params.template(member.key) { parameters.append((member.key, value)) }
            }
            params.finish()
        }
        guard let runbook else { return nil }
        self.init(
            runbook: runbook, parameters: parameters, agentPath: agentPath, stateDir: stateDir, readOnly: readOnly, budget: budget ?? [], passLease: passLease)
    }
}

/// A node agent's JSON Lines events, taken one line at a time (on the runner's drain thread), tagged with the
/// node and reported at once; what the step's outcome needs is kept: the run's end and its failures.
final class AgentEvents: @unchecked Sendable {
    private let lock = NSLock()
    private let node: Int?
    private let host: String?
    private let parentStep: String
    private let parentRunID: String
    private let report: (Event) -> Void
    private var taken = 0
    private var finished: Event?
    private var failures: [String] = []
    private let decoder = JSONDecoder()

    init(node: Int?, host: String?, parentStep: String, parentRunID: String, report: @escaping (Event) -> Void) {
        (self.node, self.host, self.parentStep, self.parentRunID, self.report) = (node, host, parentStep, parentRunID, report)
    }

    var count: Int { lock.withLock { taken } }
    var summary: (finished: Event?, failures: [String]) { lock.withLock { (finished, failures) } }

    func take(_ line: String) {
        guard line.hasPrefix("{"), var event = try? decoder.decode(Event.self, from: Data(line.utf8)) else { return }
        event.node = event.node ?? node
        event.nodeHost = event.nodeHost ?? host
        event.parentStep = parentStep
        event.parentRunID = event.parentRunID ?? parentRunID
        lock.withLock {
            taken += 1
            if event.type == .runFinished { finished = event }
            if event.type == .attemptFailed || (event.type == .stepFinished && event.status == .failed) {
                failures.append("\(event.step ?? "?"): \(event.message ?? "")")
                failures += (event.evidence ?? []).suffix(5).map { "  | " + $0 }
            }
            // Reported under the lock: the node's events reach the journal in the order the agent wrote them.
            report(event)
        }
    }
}
