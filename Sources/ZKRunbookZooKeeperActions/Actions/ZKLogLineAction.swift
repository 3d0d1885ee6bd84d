import Foundation
import ZKRunbookEngine

/// `zk-log-line`: read-only, on the server's node: does its log hold a line containing `contains`, written
/// after byte `from`? A step before a restart records the log's size (`size`, with nothing to look for);
/// a gate after it waits for the line the restarted server writes (enable-quorum-tls: "Creating
/// TLS-enabled quorum server socket"), so a line from an earlier start never counts. A log rotated
/// (smaller than `from`) is read from its start. No log file or nothing to look for: found, said so.
struct ZKLogLineAction: ArgumentsDecodable {
    static let name = "zk-log-line"
    static let summary = "read-only: the server's log size, and whether a line containing a text was written after a byte offset"

    var logFile: Template
    var contains: Template?
    var from: Template?
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? { FactNames(["size", "found", "line"]) }

    /// At most this much of the log is read after `from`: a server's start writes a few hundred lines.
    static let window = 64 << 20

    func describe(_ resolver: TemplateResolver) -> [String] {
        let text = contains?.display(resolver) ?? ""
        return text.isEmpty
            ? ["note the size of \(logFile.display(resolver))"]
            : ["look in \(logFile.display(resolver)) after byte \(from?.display(resolver) ?? "0") for a line containing \"\(text)\""]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([logFile, contains ?? .literal(""), from ?? .literal("0")])
        let (path, text) = (values[0], values[1])
        guard let offset = UInt64(values[2].isEmpty ? "0" : values[2]) else {
            return .failure(cause: .invalidArgument, message: "from '\(values[2])' is not a byte offset")
        }
        guard !path.isEmpty else {
            // A line to find with no log to look in is never found: a confirmation that cannot be made is not made.
            if !text.isEmpty {
                return .failure(
                    cause: .invalidArgument, message: "no log file to look for \"\(text)\" in: give the node's logFile in the ensemble file")
            }
            return .success("no log file given, no line to find", facts: ["size": .int(0), "found": .bool(true)])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(cause: .invalidArgument, message: "cannot read the log \(path)")
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        guard !text.isEmpty else { return .success("\(path): \(size) bytes", facts: ["size": .int(Int64(size)), "found": .bool(true)]) }
        let start = offset <= size ? offset : 0
        try? handle.seek(toOffset: start)
        let data = handle.readData(ofLength: Self.window)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        if let line = lines.first(where: { $0.contains(text) }) {
            return .success(
                "\(path): \(line.prefix(200))", facts: ["size": .int(Int64(size)), "found": .bool(true), "line": .string(String(line.prefix(500)))])
        }
        return .success(
            "\(path): no line containing \"\(text)\" after byte \(start) (\(data.count) bytes read)", facts: ["size": .int(Int64(size)), "found": .bool(false)])
    }
}
