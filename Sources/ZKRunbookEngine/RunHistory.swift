import Foundation

/// The runs kept in a state directory: each one's summary from its journal, and the pruning that keeps a
/// cron job's state directory from growing forever.
public struct RunHistory: Sendable {
    public struct Summary: Codable, Sendable, Equatable {
        public var runID: String
        public var runbook: String
        /// The run's final status, or `unfinished` (it may be resumed).
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        public var durationMs: Int64?
        public var dryRun: Bool
        /// The run's `ensemble` parameter (the ensemble file it worked on), when it had one.
        public var ensemble: String?
    }

    public var layout: StateLayout

    public init(layout: StateLayout) { self.layout = layout }

    /// Every run with a readable journal, oldest first.
    public func list() -> [Summary] {
        let ids = ((try? FileManager.default.contentsOfDirectory(atPath: layout.runsDirectory)) ?? []).sorted()
        return ids.compactMap(summary)
    }

    public func summary(_ runID: String) -> Summary? {
        guard let text = try? String(contentsOfFile: layout.journalPath(runID), encoding: .utf8) else { return nil }
        let decoder = JSONDecoder()
        var started: Event?
        var finished: Event?
        for line in text.split(separator: "\n") {
            guard let event = try? decoder.decode(Event.self, from: Data(line.utf8)), event.node == nil else { continue }
            if started == nil, event.type == .runStarted { started = event }
            if event.type == .runFinished { finished = event }
        }
        guard let started else { return nil }
        let duration = finished.flatMap { end in Event.milliseconds(end.time).flatMap { stop in Event.milliseconds(started.time).map { stop - $0 } } }
        return Summary(
            runID: runID, runbook: started.runbook ?? "?", status: finished?.status?.rawValue ?? "unfinished", startedAt: started.time,
            finishedAt: finished?.time, durationMs: duration, dryRun: started.dryRun ?? false, ensemble: started.parameters?["ensemble"])
    }

    /// The journal's events, in order: what `show` renders. A torn last record (a write cut short) is left
    /// out, as `resume` leaves it out; a bad line before the last is an error naming it.
    public func events(_ runID: String) throws(JournalError) -> [Event] {
        let path = layout.journalPath(runID)
        guard FileManager.default.fileExists(atPath: path) else { throw .noSuchRun(id: runID, stateDirectory: layout.root) }
        return try JournalState.read(path: path).events
    }

    /// The finished runs to remove: all but the newest `keep`, and those that finished before `before`.
    /// An unfinished run is never removed: it may still be resumed.
    public static func expired(_ runs: [Summary], keep: Int?, before: Date?) -> [Summary] {
        let finished = runs.filter { $0.finishedAt != nil }.sorted { $0.startedAt < $1.startedAt }
        var out: [Summary] = []
        if let keep { out += finished.dropLast(max(keep, 0)) }
        if let before {
            let limit = Int64(before.timeIntervalSince1970 * 1000)
            out += finished.filter { run in run.finishedAt.flatMap(Event.milliseconds).map { $0 < limit } ?? false }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0.runID).inserted }
    }

    public func remove(_ runs: [Summary]) {
        for run in runs { try? FileManager.default.removeItem(atPath: layout.runDirectory(run.runID)) }
    }
}
