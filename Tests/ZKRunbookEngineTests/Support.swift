import Foundation
import Testing

@testable import ZKRunbookEngine

/// A fresh folder under /tmp for one test, removed when the test value goes away.
final class Scratch: @unchecked Sendable {
    let path: String

    init(_ label: String = "t") {
        path = NSTemporaryDirectory() + "zkrunbook-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let target = file(name)
        try? FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: target, contents: Data(text.utf8))
        return target
    }

    func read(_ name: String) -> String? { try? String(contentsOfFile: file(name), encoding: .utf8) }
}

/// Loads runbook text, failing the test with the diagnostics when it is invalid.
func loadRunbook(_ text: String, path: String = "test.json5") throws -> Runbook {
    do {
        return try RunbookLoader().load(text: text, path: path)
    } catch {
        Issue.record("runbook did not load:\n\(error.description)")
        throw error
    }
}

/// The diagnostics a runbook text produces (empty when valid).
func diagnostics(_ text: String) -> [Diagnostic] {
    do {
        _ = try RunbookLoader().load(text: text, path: "bad.json5")
        return []
    } catch {
        if case .invalid(let items) = error { return items }
        return []
    }
}
