import Foundation
import ZKRunbookEngine

/// `run --once KEY`: which run a conductor's request started on this node, so that a resumed conductor
/// asks the node's own journal before it repeats a change (STATE/once/KEY holds the run id).
struct OnceRecord {
    var layout: StateLayout
    var key: String

    var path: String {
        layout.root + "/once/" + String(key.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }

    /// The run id this key recorded, if any.
    var recordedRunID: String? {
        guard let runID = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !runID.isEmpty else {
            return nil
        }
        return runID
    }

    /// The run-finished event of the run this key started, when that run succeeded.
    func succeededRun() -> Event? {
        guard let runID = recordedRunID, let state = try? JournalState.read(path: layout.journalPath(runID)), state.finalStatus == .succeeded
        else { return nil }
        return state.events.last { $0.type == .runFinished }
    }

    /// The run this key started when it never ended (its agent was killed: no run-finished, no rollback
    /// begun): `resume` continues it from the node's own journal, so a step it finished (a restart) is not
    /// done a second time, where a new run would start over.
    func unfinishedRun() -> String? {
        guard let runID = recordedRunID, let state = try? JournalState.read(path: layout.journalPath(runID)), state.finalStatus == nil,
            !state.rollbackStarted
        else { return nil }
        return runID
    }

    /// Records `runID` for the key (atomically); an error message when it cannot.
    func record(runID: String) -> String? {
        do {
            try FileManager.default.createDirectory(atPath: layout.root + "/once", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Data((runID + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            return nil
        } catch {
            return "error: cannot record --once \(key) in \(path): \(error.localizedDescription); choose a writable --state-dir"
        }
    }
}
