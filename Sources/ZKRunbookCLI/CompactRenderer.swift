import Foundation
import ZKRunbookEngine

/// A live run for a person at a glance (the default; `-v` gives every event): one line per step and per
/// node with its outcome and time, a guard only when it did not pass, a failure's evidence, the rollback,
/// and the result. What each node's agent did in detail stays in the journal (`zkrunbook runs show RUN-ID`).
final class CompactRenderer: EventSink, @unchecked Sendable {
    private let output: FileHandle
    private let lock = NSLock()
    private var runStarted = Date()
    private var total = 0
    /// The last failed attempt's evidence per step and node: shown with the step's failure.
    private var evidence: [String: [String]] = [:]
    private var nodesDone = 0
    private var nodesFailed = 0
    /// What each node was when its turn came ("node 1 is a follower (leader now: server 3)").
    private var nodeRoles: [Int: String] = [:]
    /// How long clients had no leader in each node's turn (the node lines' `noLeaderMs`; -1: not measured).
    private var noLeaderMs: [Int64] = []

    init(output: FileHandle = .standardOutput) { self.output = output }

    func emit(_ event: Event) {
        lock.lock()
        defer { lock.unlock() }
        let lines = render(event)
        guard !lines.isEmpty else { return }
        let text = lines.map { $0.replacingOccurrences(of: "\n", with: "\\n") }.joined(separator: "\n") + "\n"
        try? output.write(contentsOf: Data(text.utf8))
    }

    static func seconds(_ milliseconds: Int?) -> String {
        guard let milliseconds else { return "" }
        let tenths = (milliseconds + 50) / 100
        return "\(tenths / 10).\(tenths % 10)s"
    }

    /// A message cut to fit one line of a wide terminal.
    static func short(_ text: String?, _ width: Int = 150) -> String {
        guard let text, !text.isEmpty else { return "" }
        return text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    private func render(_ event: Event) -> [String] {
        // An agent's own run on a node: its failures reach the conductor's step; the rest is in the journal.
        if event.parentStep != nil, event.type == .runStarted || event.type == .runFinished { return [] }
        let key = "\(event.node.map(String.init) ?? "-")/\(event.step ?? "")"
        let place = event.node.map { "    node \($0) | " } ?? ""
        switch event.type {
        case .runStarted:
            runStarted = Date()
            total = event.total ?? 0
            let ensemble = event.parameters?["ensemble"].map { " on \($0)" } ?? ""
            return ["run \(event.runID): \(event.runbook ?? "?")\(ensemble), \(total) step(s)  (-v for every event; the journal keeps them all)"]
        case .runResumed:
            runStarted = Date()
            return ["resume \(event.runID): \(event.message ?? "")"]
        case .leaseTaken:
            return ["lease: \(event.message ?? "")"]
        case .guardEvaluated where event.verdict != "passed":
            var line = place + "guard: \(event.description ?? event.fact ?? "?") -> \(event.verdict ?? "?")"
            if let actual = event.actual { line += " (\(event.fact ?? "value") = \(actual.literal))" }
            if let message = event.message { line += ": \(message)" }
            return [line]
        case .attemptFailed:
            evidence[key] = event.evidence ?? []
            return []
        case .stepFinished:
            let status = event.status
            let failed = status != .succeeded && status != .skipped
            // Inside a node only what went wrong; the node's own line says the rest.
            if event.node != nil, !failed { return [] }
            let position = event.node == nil && event.phase != .rollback ? "[\(event.index ?? 0)/\(event.total ?? total)] " : ""
            let undo = event.phase == .rollback ? "  undo " : ""
            let outcome: String
            switch status {
            case .succeeded: outcome = "ok in \(Self.seconds(event.durationMs))"
            case .skipped: outcome = "skipped"
            case .refused: outcome = "REFUSED"
            case .continued: outcome = "FAILED, continuing [\(event.cause?.rawValue ?? "?")]"
            default: outcome = "\(status?.rawValue.uppercased() ?? "FAILED") [\(event.cause?.rawValue ?? "?")]"
            }
            let message = failed ? (event.message ?? "") : Self.short(event.message)
            var lines = [place + undo + position + "\(event.step ?? "?"): \(outcome)" + (message.isEmpty ? "" : ": \(message)")]
            if failed { lines += (evidence[key] ?? []).suffix(8).map { place + "      | " + $0 } }
            evidence[key] = nil
            return lines
        case .nodeStarted:
            if let node = event.node, let message = event.message { nodeRoles[node] = message }
            return []
        case .nodeFinished:
            let succeeded = event.status == .succeeded
            if succeeded { nodesDone += 1 } else { nodesFailed += 1 }
            if case .int(let milliseconds)? = event.facts?["noLeaderMs"] { noLeaderMs.append(milliseconds) }
            let verdict = succeeded ? "done" : (event.status?.rawValue.uppercased() ?? "FAILED")
            guard let node = event.node, node > 0 else {
                return ["  every node: \(verdict): \(Self.short(event.message))"]
            }
            let role = nodeRoles[node].map { " (\(Self.short($0, 90)))" } ?? ""
            return ["  node \(node) (\(event.nodeHost ?? "?")): \(verdict) in \(Self.seconds(event.durationMs)): \(Self.short(event.message, 100))\(role)"]
                + (succeeded ? [] : (event.evidence ?? []).map { "     | " + $0 })
        case .rollbackStarted:
            return ["rollback: undoing \((event.steps ?? []).count) completed step(s): \((event.steps ?? []).joined(separator: ", "))"]
        case .rollbackFinished:
            return [event.status == .succeeded ? "rollback: done" : "rollback: FAILED; check the target by hand"]
        case .runFinished:
            let elapsed = Self.seconds(Int(Date().timeIntervalSince(runStarted) * 1000))
            var nodes = nodesDone + nodesFailed > 0 ? ", \(nodesDone) node(s) done" + (nodesFailed > 0 ? ", \(nodesFailed) not" : "") : ""
            if !noLeaderMs.isEmpty {
                nodes +=
                    noLeaderMs.contains(-1)
                    ? ", time without a leader not measured on every node" : ", clients without a leader \(noLeaderMs.reduce(0, +)) ms in all"
            }
            return ["result: \(event.status?.rawValue ?? "?") in \(elapsed)\(nodes): \(event.message ?? "") (exit \(event.exitCode ?? 0))"]
                + (event.next ?? []).map { "next, for you: " + $0 }
        default:
            return []
        }
    }
}
