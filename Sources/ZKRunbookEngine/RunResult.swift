import Foundation

/// The one JSON document `run`, `plan` and `resume` write at their end with `--result FILE`: what automation
/// (Ansible, CI) needs without reading the event stream — the status and exit code, whether anything
/// changed (or, for a plan, would), each step's outcome, and the reason of a refusal or failure.
public struct RunResult: Codable, Sendable, Equatable {
    public static let schemaVersion = 1

    public struct Step: Codable, Sendable, Equatable {
        public var id: String
        public var status: String
        /// The step changes things (it is not read-only).
        public var changes: Bool
        /// It changed something (live), or would (a plan or dry run: a step that changes things, skipped).
        public var changed: Bool
        public var durationMs: Int?
        public var message: String?
        public var cause: String?
    }

    /// One node's turn in a step that works node by node (a rolling restart, for-each-node).
    public struct Node: Codable, Sendable, Equatable {
        public var id: Int
        public var step: String
        public var status: String
        public var durationMs: Int?
        /// How long clients had no leader in its turn, in the servers' own count (-1: a server could not say).
        public var noLeaderMs: Int?
    }

    public var schema: Int = RunResult.schemaVersion
    public var runID: String
    public var runbook: String?
    public var ensemble: String?
    public var host: String
    public var version: String
    /// live, dry-run or offline-plan.
    public var mode: String
    public var status: String
    public var exitCode: Int
    /// Did any step change anything; for a plan or dry run, would it.
    public var changed: Bool
    public var steps: [Step]
    /// Each node's turn, in the order they came (nil when the run worked on no node by node).
    public var nodes: [Node]?
    /// The refusal's or failure's message; nil when the run succeeded.
    public var reason: String?
    public var startedAt: String?
    public var finishedAt: String?

    /// The result from a run's own events (those of its top-level steps; a node's or an agent's carry `node`).
    public static func build(events: [Event], outcome: RunOutcome, mode: RunMode, ensemble: String?, host: String, version: String) -> RunResult {
        let own = events.filter { $0.node == nil && $0.parentStep == nil }
        // Whether a step changes things is said when it starts.
        var readOnly: [String: Bool] = [:]
        for event in own where event.type == .stepStarted && event.phase != .rollback {
            if let id = event.step, let value = event.readOnly { readOnly[id] = value }
        }
        let steps = own.filter { $0.type == .stepFinished && $0.phase != .rollback }.compactMap { event -> Step? in
            guard let id = event.step, let status = event.status else { return nil }
            let changes = (event.readOnly ?? readOnly[id]) == false
            // Live: its work stands. A plan: it was reached (skipped, or planned by an action that plans itself).
            let changed = changes && (mode == .live ? status.isDone : status.isDone || status == .skipped || status == .unknown)
            return Step(
                id: id, status: status.rawValue, changes: changes, changed: changed, durationMs: event.durationMs, message: event.message,
                cause: event.cause?.rawValue)
        }
        // The run's own node turns (an agent's relayed events name their own run as parent).
        let nodes = events.filter { $0.type == .nodeFinished && $0.parentRunID == nil }.compactMap { event -> Node? in
            guard let id = event.node, id > 0, let step = event.parentStep, let status = event.status else { return nil }
            var milliseconds: Int?
            if case .int(let value)? = event.facts?["noLeaderMs"] { milliseconds = Int(value) }
            return Node(id: id, step: step, status: status.rawValue, durationMs: event.durationMs, noLeaderMs: milliseconds)
        }
        let started = own.first { $0.type == .runStarted || $0.type == .runResumed }
        let finished = own.last { $0.type == .runFinished }
        // A rolled-back run changed things and put them back: said as changed, with the reason.
        let rolledBack = outcome.status == .rolledBack || outcome.status == .rollbackFailed
        return RunResult(
            runID: outcome.runID, runbook: started?.runbook, ensemble: ensemble, host: host, version: version, mode: mode.rawValue,
            status: outcome.status.rawValue, exitCode: Int(outcome.exitCode.rawValue), changed: steps.contains(where: \.changed) || rolledBack,
            steps: steps, nodes: nodes.isEmpty ? nil : nodes, reason: outcome.status == .succeeded ? nil : outcome.message, startedAt: started?.time,
            finishedAt: finished?.time)
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}

/// This machine's name up to its first dot: what results, events and bundle names say a node is.
public enum HostName {
    public static var short: String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let status = buffer.withUnsafeMutableBytes { raw in gethostname(raw.baseAddress!.assumingMemoryBound(to: CChar.self), 255) }
        guard status == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self).split(separator: ".").first.map(String.init) ?? "localhost"
    }
}
