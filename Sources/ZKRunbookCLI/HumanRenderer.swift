import Foundation
import ZKRunbookEngine

/// Prints events for a person: one block per step, guards with their live values, failures with evidence.
///
/// On a terminal each step line carries the elapsed time since the run began, so a long wait is visibly
/// alive; off a terminal (CI logs, `| tee`) the output stays free of timing noise and escape codes.
final class HumanRenderer: EventSink, @unchecked Sendable {
    private let output: FileHandle
    private let isTerminal: Bool
    private let lock = NSLock()
    private var runStarted = Date()
    private var dryRun = false

    init(output: FileHandle = .standardOutput, isTerminal: Bool? = nil) {
        self.output = output
        self.isTerminal = isTerminal ?? (isatty(output.fileDescriptor) == 1)
    }

    func emit(_ event: Event) {
        lock.lock()
        defer { lock.unlock() }
        // Events from inside a per-node procedure are indented under their node.
        let prefix = event.node.map { event.type == .nodeStarted || event.type == .nodeFinished ? "" : "    node \($0) | " } ?? ""
        var bytes: [UInt8] = []
        for line in render(event) { append(prefix + line, to: &bytes) }
        if !bytes.isEmpty { try? output.write(contentsOf: bytes) }
    }

    /// Appends one line; a line break inside a value is shown as \n so one event stays one line. Byte by
    /// byte: a plan prints hundreds of lines, and Foundation's search bridges each one through NSString.
    private func append(_ line: String, to bytes: inout [UInt8]) {
        for byte in line.utf8 {
            switch byte {
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    private var clock: String {
        guard isTerminal else { return "" }
        let seconds = Int(Date().timeIntervalSince(runStarted))
        return " " + Self.twoDigits(seconds / 60) + ":" + Self.twoDigits(seconds % 60)
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    /// " in 1.3s", shown on a terminal only (a log or a pipe keeps the durations in the events).
    private func took(_ milliseconds: Int?) -> String {
        guard isTerminal, let milliseconds else { return "" }
        let tenths = (milliseconds + 50) / 100
        return " in \(tenths / 10).\(tenths % 10)s"
    }

    private func render(_ event: Event) -> [String] {
        let indent = event.phase == .rollback ? "        " : "      "
        switch event.type {
        case .runStarted where event.parentStep != nil:
            return ["agent run \(event.runID): runbook '\(event.runbook ?? "?")' on the node"]
        case .runFinished where event.parentStep != nil:
            return ["agent result: \(event.status?.rawValue ?? "?"): \(event.message ?? "") (exit \(event.exitCode ?? 0))"]
        case .runStarted:
            runStarted = Date()
            dryRun = event.dryRun ?? false
            let name = event.runbook ?? "?"
            let count = event.total ?? 0
            let parameters = (event.parameters ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            var lines: [String] = []
            if dryRun {
                lines.append("plan for runbook '\(name)' (\(count) step\(count == 1 ? "" : "s")); dry run: steps that change things are not run")
            } else {
                lines.append("run \(event.runID): runbook '\(name)' (\(count) step\(count == 1 ? "" : "s")), lock '\(event.lock ?? "?")'")
            }
            if !parameters.isEmpty { lines.append("parameters: " + parameters.joined(separator: " ")) }
            lines += (event.next ?? []).map { "afterwards, left for you: " + $0 }
            return lines
        case .runResumed:
            runStarted = Date()
            return ["resume \(event.runID): \(event.message ?? "")"]
        case .stepStarted:
            let position = "\(event.index ?? 0)/\(event.total ?? 0)"
            let kind = event.readOnly == true ? "read-only" : "changes things"
            var timing = ""
            if let timeout = event.timeoutMs { timing = ", timeout \(RunbookDuration(milliseconds: Int64(timeout)))" }
            if let attempts = event.attempts, attempts > 1 { timing += ", up to \(attempts) attempts" }
            if event.phase == .rollback {
                return ["  [undo \(position)\(clock)] \(event.step ?? "?"): \(event.description ?? "")"]
                    + (event.plan ?? []).map { indent + $0 }
            }
            var lines = ["[\(position)\(clock)] \(event.step ?? "?"): \(event.description ?? "")  (\(event.action ?? "?"), \(kind)\(timing))"]
            lines += (event.plan ?? []).map { indent + $0 }
            lines += (event.rollback ?? []).map { indent + "rollback: " + $0 }
            return lines
        case .guardEvaluated:
            var line = indent + "guard: \(event.description ?? event.fact ?? "?") -> \(event.verdict ?? "?")"
            if let actual = event.actual { line += " (\(event.fact ?? "value") = \(actual.literal))" }
            if event.verdict != "passed", let message = event.message { line += ": \(message)" }
            return [line]
        case .attemptStarted:
            guard let attempt = event.attempt, attempt > 1 else { return [] }
            return [indent + "attempt \(attempt)/\(event.attempts ?? attempt)\(clock)"]
        case .attemptFailed:
            var lines = [indent + "attempt \(event.attempt ?? 1)/\(event.attempts ?? 1) failed [\(event.cause?.rawValue ?? "?")]: \(event.message ?? "")"]
            lines += (event.evidence ?? []).suffix(5).map { indent + "  | " + $0 }
            if let wait = event.timeoutMs { lines.append(indent + "retrying in \(RunbookDuration(milliseconds: Int64(wait)))") }
            return lines
        case .stepFinished:
            let took = took(event.durationMs)
            switch event.status {
            case .succeeded:
                let detail = (event.message ?? "").isEmpty ? "" : ": \(event.message!)"
                return [indent + "-> ok\(took)\(detail)"]
            case .skipped:
                return [indent + "-> \(event.message ?? "skipped")"]
            case .unknown:
                return [indent + "-> unknown: \(event.message ?? "")"]
            case .continued:
                return [indent + "-> FAILED, continuing (non-critical step) [\(event.cause?.rawValue ?? "?")]: \(event.message ?? "")"]
            case .refused:
                return [indent + "-> REFUSED: \(event.message ?? "")"]
            default:
                return [indent + "-> \(event.status?.rawValue.uppercased() ?? "FAILED") [\(event.cause?.rawValue ?? "?")]: \(event.message ?? "")"]
            }
        case .rollbackStarted:
            let steps = event.steps ?? []
            return ["rollback: undoing \(steps.count) completed step(s) in reverse order: \(steps.joined(separator: ", "))"]
        case .rollbackFinished:
            return [event.status == .succeeded ? "rollback: done" : "rollback: FAILED; check the target by hand"]
        case .runFinished:
            return ["result: \(event.status?.rawValue ?? "?"): \(event.message ?? "") (exit \(event.exitCode ?? 0))"]
                + (event.next ?? []).map { "next, for you: " + $0 }
        case .leaseTaken:
            return ["lease: \(event.message ?? "")"]
        case .nodeStarted:
            return ["  == node \(event.node ?? 0) (\(event.nodeHost ?? "?")) \(event.index ?? 0)/\(event.total ?? 0)\(clock): \(event.message ?? "")"]
        case .nodeFinished:
            let took = took(event.durationMs)
            let verdict = event.status == .succeeded ? "done" : (event.status?.rawValue.uppercased() ?? "FAILED")
            return ["  == node \(event.node ?? 0) \(verdict)\(took): \(event.message ?? "")"]
                + (event.evidence ?? []).map { "     | " + $0 }
        }
    }
}
