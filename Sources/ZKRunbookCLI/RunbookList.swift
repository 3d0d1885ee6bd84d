import Foundation
import ZKRunbookEngine

/// `list`'s lines: a runbook's name, its one-line description, and the parameters it cannot run without.
enum RunbookList {
    /// The runbooks `runbook` runs on each server through `agent-run` (its steps' and its parts' text).
    static func agentRunbooks(in runbook: Runbook) -> [String] {
        let texts = [runbook.sourceText] + runbook.parts.map(\.text)
        return texts.flatMap { text -> [String] in
            guard text.contains("agent-run") else { return [] }
            var names: [String] = []
            var rest = Substring(text)
            while let found = rest.range(of: "runbook: \"") {
                let name = rest[found.upperBound...].prefix { $0 != "\"" }
                if !name.isEmpty, !name.contains("$") { names.append(String(name)) }
                rest = rest[found.upperBound...]
            }
            return names
        }
    }

    static func line(_ runbook: Runbook, showPath: Bool) -> String {
        let needs = runbook.parameters.filter { $0.required && $0.defaultValue == nil }.map { "--param \($0.name)=…" }
        return "  \(runbook.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(runbook.description)"
            + (needs.isEmpty ? "" : "  [needs \(needs.joined(separator: " "))]") + (showPath ? "  (\(runbook.sourcePath))" : "")
    }
}
