import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-log-errors`: read-only, on the server's node: the lines its log gained after byte `from` that are logged
/// at ERROR (or FATAL) level, or that begin a Java exception's stack trace. An upgrade's canary: a new release
/// that serves but logs errors since its start is not let on to the next node. No log given: nothing to read,
/// refused (a check that cannot be made is not passed).
struct ZKLogErrorsAction: ArgumentsDecodable {
    static let name = "zk-log-errors"
    static let summary = "read-only: the ERROR/FATAL lines and exceptions a server's log gained after a byte offset; fails when there are any"

    var logFile: Template
    var from: Template?
    /// Say what was found and succeed: the evidence a rollback prints, which must not fail it.
    var report: Bool
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["report": false] }
    var yieldedFacts: FactNames? { FactNames(["errors", "linesRead"]) }

    static let window = 64 << 20

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["read \(logFile.display(resolver)) after byte \(from?.display(resolver) ?? "0"): fail on any ERROR or FATAL line or exception"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([logFile, from ?? .literal("0")])
        let path = values[0]
        guard let offset = UInt64(values[1].isEmpty ? "0" : values[1]) else {
            return .failure(cause: .invalidArgument, message: "from '\(values[1])' is not a byte offset")
        }
        guard !path.isEmpty else {
            return .failure(cause: .invalidArgument, message: "no log file to read: give the node's logFile in the ensemble file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .failure(cause: .invalidArgument, message: "cannot read the log \(path)") }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: offset <= size ? offset : 0)
        let lines = String(decoding: handle.readData(ofLength: Self.window), as: UTF8.self).split(separator: "\n")
        // zkrunbook's own question to a port that stayed silent (does it speak TLS?) reads as a Len error of a TLS
        // record's head on a plaintext port: ours, not the server's.
        let own = lines.filter(Self.isOwnTLSProbe).count
        // The canary judges the new process: the old one's last words, logged as it was stopped (a SyncThread
        // interrupted mid-write says "Severe unrecoverable error"), come before the new one's start line.
        let judged = report ? lines[...] : Self.sinceStart(lines)
        let errors = Self.errors(in: Array(judged)).filter { !Self.isOwnTLSProbe($0) }.map { String($0.prefix(400)) }
        let facts: [String: FactValue] = ["errors": .int(Int64(errors.count)), "linesRead": .int(Int64(lines.count))]
        if report {
            return .success(
                errors.isEmpty
                    ? "\(path): no ERROR, FATAL or exception in the \(lines.count) line(s) since the change"
                    : "\(path): \(errors.count) error line(s) since the change: " + errors.prefix(5).joined(separator: " | "),
                facts: facts)
        }
        guard errors.isEmpty else {
            return .failure(
                cause: .verifyFailed, message: "\(path): \(errors.count) error line(s) since the restart (of \(judged.count)): \(errors[0])", facts: facts,
                evidence: Array(errors.prefix(10)))
        }
        return .success(
            "\(path): \(judged.count) line(s) since the restart, no ERROR, FATAL or exception"
                + (own > 0 ? " (\(own) Len error(s) of a TLS hello left out: zkrunbook's own check of a silent port)" : ""), facts: facts)
    }

    /// "Len error 369295616" / "advertised length of 369295617": the head of a TLS record (0x1603…, 0x1503…) read
    /// as a length, which zkrunbook's TLS sniff of a silent port sends.
    static func isOwnTLSProbe(_ line: Substring) -> Bool {
        for marker in ["advertised length of ", "Len error "] {
            guard let range = line.range(of: marker) else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            guard let length = Int(digits) else { continue }
            return TLSSniffer.isRecordHead(asLength: length)
        }
        return false
    }

    /// The log records at ERROR or FATAL, judged as ZooKeeper judged them: an exception's lines belong to the record
    /// they follow, so a WARN that carries one ("Exception when following the leader" and its NullPointerException
    /// of ZOOKEEPER-4394, a connection closed for a Len error) is no error, and an ERROR's exception is said with it.
    /// Exceptions before any record (the JVM launcher's "Error: Could not find or load main class …") are errors.
    /// The lines from the first process start after the mark ("Starting quorum peer", a standalone's
    /// "Starting server"); all of them where none started (a launcher that failed never logs one).
    static func sinceStart(_ lines: [Substring]) -> ArraySlice<Substring> {
        guard
            let start = lines.firstIndex(where: { $0.contains("Starting quorum peer") || $0.contains("ZooKeeperServerMain") && $0.contains("Starting server") })
        else { return lines[...] }
        return lines[start...]
    }

    static func errors(in lines: [Substring]) -> [Substring] {
        var found: [Substring] = []
        var level: Substring? = nil
        for line in lines {
            if let word = recordLevel(line) {
                level = word
                if word == "ERROR" || word == "FATAL" { found.append(line) }
            } else if level == nil, isError(line) {
                found.append(line)
            }
        }
        return found
    }

    /// The level of a log record's first line (log4j, logback, slf4j-simple and Kafka's layouts put it within
    /// the first 120 characters); nil for a continuation (an exception, a stack frame) or text that is no record.
    static func recordLevel(_ line: Substring) -> Substring? {
        let head = line.prefix(120)
        for word in ["ERROR", "FATAL", "WARN", "INFO", "DEBUG", "TRACE"] as [Substring] {
            if head.contains(" \(word) ") || head.contains("[\(word)]") || head.contains(" \(word)  ") { return word }
        }
        return nil
    }

    /// An ERROR/FATAL level word in the line's head (log4j, logback, slf4j-simple and Kafka's bracketed layouts
    /// put it within the first 120 characters), or an exception's first line (`java.io.IOException: …`).
    static func isError(_ line: Substring) -> Bool {
        // The JVM launcher's own words ("Error: Could not find or load main class …"), a cause, an uncaught exception.
        if line.hasPrefix("Error: ") || line.hasPrefix("Caused by: ") || line.hasPrefix("Exception in thread ") { return true }
        let head = line.prefix(120)
        if head.contains(" ERROR ") || head.contains("[ERROR]") || head.contains(" FATAL ") || head.contains("[FATAL]") { return true }
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard let colon = trimmed.firstIndex(of: ":") ?? Optional(trimmed.endIndex) else { return false }
        let name = trimmed[..<colon]
        return !name.contains(" ") && name.contains(".") && (name.hasSuffix("Exception") || name.hasSuffix("Error"))
    }
}
