import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// Which member led when this process, or an earlier one keeping its hints in the same state folder, last
/// inspected a set of members: where `mntr` is asked in the first round of the next inspection. A hint, not
/// a fact: the round's `srvr` says who leads now, and a leader that moved is asked afterwards.
///
/// The file holds one line per set of members (their sorted endpoints, a tab, the leader's endpoint) and
/// is rewritten only when a leader changes; a lost or torn write costs one round of `mntr` to everyone.
public final class LeaderHints: @unchecked Sendable {
    public static let shared = LeaderHints()
    static let fileName = "leader-hints"
    static let maxEnsembles = 64

    private let lock = NSLock()
    private var path: String?
    /// Each set of members' key to its leader's endpoint: what the file holds, read from it once.
    private var known: [String: String]?

    public init(stateDirectory: String? = nil) {
        path = stateDirectory.map { $0 + "/" + Self.fileName }
    }

    /// Keeps the hints in `directory` too, when it exists and is writable: a hint never creates a folder.
    public func keep(inStateDirectory directory: String) {
        guard access(directory, W_OK) == 0 else { return }
        lock.withLock {
            path = directory + "/" + Self.fileName
            known = nil
        }
    }

    /// The index in `members` of the member that led last time, nil when none is known.
    func leader(among members: [Endpoint]) -> Int? {
        lock.withLock {
            guard let text = leaders()[Self.key(members)] else { return nil }
            return members.firstIndex { $0.description == text }
        }
    }

    /// Records the leader at `index` (nil: no single leader seen, so the next inspection asks everyone).
    func record(_ index: Int?, among members: [Endpoint]) {
        lock.withLock {
            var all = leaders()
            let key = Self.key(members)
            let leader = index.map { members[$0].description }
            guard all[key] != leader else { return }
            if all.count >= Self.maxEnsembles { all = [:] }
            all[key] = leader
            known = all
            guard let path else { return }
            let text = all.keys.sorted().map { "\($0)\t\(all[$0]!)\n" }.joined()
            let temporary = path + ".\(getpid()).tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
            if rename(temporary, path) != 0 { unlink(temporary) }
        }
    }

    /// The hints, from the file the first time (the caller holds the lock).
    private func leaders() -> [String: String] {
        if let known { return known }
        var read: [String: String] = [:]
        if let path, let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 {
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let fields = line.split(separator: "\t")
                if fields.count == 2 { read[String(fields[0])] = String(fields[1]) }
            }
        }
        known = read
        return read
    }

    static func key(_ members: [Endpoint]) -> String { members.map(\.description).sorted().joined(separator: ",") }
}
