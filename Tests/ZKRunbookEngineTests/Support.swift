import Foundation
import Testing
import ZKRunbookAgent
import ZKRunbookJSON5
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

/// Loads runbook text, failing the test with the diagnostics when it is invalid.
func loadRunbook(_ text: String, path: String = "test.json5") throws -> Runbook {
    do {
        return try RunbookLoader().load(text: text, path: path)
    } catch {
        Issue.record("runbook did not load:\n\(error.description)")
        throw error
    }
}

/// The engine's actions and the agent room's `lease-check`: what a node-side runbook may name.
let engineAndAgentActions = try! ActionRegistry(composing: ActionRegistry.engineActions, AgentActions.all)

/// The diagnostics a runbook text produces (empty when valid).
func diagnostics(_ text: String) -> [Diagnostic] {
    do {
        _ = try RunbookLoader(registry: engineAndAgentActions).load(text: text, path: "bad.json5")
        return []
    } catch {
        if case .invalid(let items) = error { return items }
        return []
    }
}
