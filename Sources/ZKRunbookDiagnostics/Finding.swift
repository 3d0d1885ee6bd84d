import CZKRunbookBytes
import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// One incident doctor recognises, with the lines that prove it and the runbook to run next.
///
/// `--json` gives each line of evidence as an object (file, line, time, server, text) and the finding's
/// servers, first and last time and span; the text report prints the lines as they are.
public struct Finding: Encodable, Sendable {
    public enum Severity: String, Codable, Sendable { case info, warning, critical }

    public var id: String
    public var severity: Severity
    public var title: String
    public var detail: String
    public var count: Int
    /// Up to five lines, each `file:line: text` (a log's), `server: file:line` (a chain's) or a sentence.
    public var evidence: [String]
    public var nextRunbook: String?
    /// The server whose log this came from, when logs of several servers were scanned apart.
    public var node: String?
    /// The first and last matching line's time (ms since 1970), where the lines carry one.
    public var firstMs: Int64?
    public var lastMs: Int64?

    public init(
        id: String, severity: Severity, title: String, detail: String, count: Int, evidence: [String], nextRunbook: String?, node: String? = nil
    ) {
        (self.id, self.severity, self.title, self.detail) = (id, severity, title, detail)
        (self.count, self.evidence, self.nextRunbook, self.node) = (count, evidence, nextRunbook, node)
    }
}

extension Finding {
    enum CodingKeys: String, CodingKey {
        case id, severity, title, detail, count, evidence, nextRunbook, node, servers, firstTime, lastTime, spanSeconds
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(severity, forKey: .severity)
        try container.encode(title, forKey: .title)
        try container.encode(detail, forKey: .detail)
        try container.encode(count, forKey: .count)
        let lines = evidence.map { EvidenceLine(parsing: $0, server: node) }
        try container.encode(lines, forKey: .evidence)
        try container.encodeIfPresent(nextRunbook, forKey: .nextRunbook)
        try container.encodeIfPresent(node, forKey: .node)
        let servers = node.map { [$0] } ?? lines.compactMap(\.server).reduce(into: []) { seen, server in if !seen.contains(server) { seen.append(server) } }
        try container.encode(servers, forKey: .servers)
        let times = lines.compactMap(\.timeMs)
        let (first, last) = (firstMs ?? times.min(), lastMs ?? times.max())
        try container.encodeIfPresent(first.map(Self.timestamp), forKey: .firstTime)
        try container.encodeIfPresent(last.map(Self.timestamp), forKey: .lastTime)
        if let first, let last { try container.encode(Double(last - first) / 1000, forKey: .spanSeconds) }
    }

    static func timestamp(_ ms: Int64) -> String { Event.timestamp(Date(timeIntervalSince1970: Double(ms) / 1000)) }
}

/// A line of evidence taken apart: `file:line: text`, with `server: ` before it on a chain's lines; a line that
/// names no file is text alone.
struct EvidenceLine: Encodable {
    var file: String?
    var line: Int?
    var time: String?
    var server: String?
    var text: String
    var timeMs: Int64?

    enum CodingKeys: String, CodingKey { case file, line, time, server, text }

    init(parsing evidence: String, server: String?) {
        var rest = Substring(evidence)
        self.server = server
        // A chain's line: "server 2 (zk2.example.internal): path:12".
        if rest.hasPrefix("server "), let colon = rest.range(of: ": ") {
            let name = rest[..<colon.lowerBound]
            if name.dropFirst(7).first?.isNumber == true, !name.contains("/") {
                self.server = String(name)
                rest = rest[colon.upperBound...]
            }
        }
        text = String(rest)
        // "path:123: text" or "path:123": the first ":digits" followed by ": " or the end, after a file name.
        var search = rest.startIndex
        while let colon = rest[search...].firstIndex(of: ":") {
            let digits = rest[rest.index(after: colon)...].prefix { $0.isNumber }
            let after = digits.endIndex
            if !digits.isEmpty, colon > rest.startIndex, after == rest.endIndex || rest[after...].hasPrefix(": "), !rest[..<colon].contains(" ") {
                file = String(rest[..<colon])
                line = Int(digits)
                text = after == rest.endIndex ? "" : String(rest[rest.index(after, offsetBy: 2)...])
                break
            }
            search = rest.index(after: colon)
        }
        var clock = LogClock()
        timeMs = clock.milliseconds(ArraySlice(text.utf8))
        time = timeMs.map(Finding.timestamp)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(file, forKey: .file)
        try container.encodeIfPresent(line, forKey: .line)
        try container.encodeIfPresent(time, forKey: .time)
        try container.encodeIfPresent(server, forKey: .server)
        try container.encode(text, forKey: .text)
    }
}
