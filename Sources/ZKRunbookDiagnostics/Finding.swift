import CZKRunbookBytes
import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// One incident doctor recognises, with the lines that prove it and the runbook to run next.
public struct Finding: Codable, Sendable {
    public enum Severity: String, Codable, Sendable { case info, warning, critical }

    public var id: String
    public var severity: Severity
    public var title: String
    public var detail: String
    public var count: Int
    /// Up to five lines, each `file:line: text`.
    public var evidence: [String]
    public var nextRunbook: String?
    /// The server whose log this came from, when logs of several servers were scanned apart.
    public var node: String?

    public init(
        id: String, severity: Severity, title: String, detail: String, count: Int, evidence: [String], nextRunbook: String?, node: String? = nil
    ) {
        (self.id, self.severity, self.title, self.detail) = (id, severity, title, detail)
        (self.count, self.evidence, self.nextRunbook, self.node) = (count, evidence, nextRunbook, node)
    }
}
