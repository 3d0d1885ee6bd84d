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

    /// The run-finished event of the run this key started, when that run succeeded.
    func succeededRun() -> Event? {
        guard let runID = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !runID.isEmpty,
            let state = try? JournalState.read(path: layout.journalPath(runID)), state.finalStatus == .succeeded
        else { return nil }
        return state.events.last { $0.type == .runFinished }
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
