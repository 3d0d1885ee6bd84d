import Foundation
import ZKRunbookProcess

/// Problems with the state directory, journals and resume, each saying what to do.
public enum JournalError: Error, Sendable, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case noSuchRun(id: String, stateDirectory: String)
    case unreadable(path: String, line: Int, reason: String)
    case notResumable(id: String, reason: String)
    /// The machine's lease folder (NodeLeaseStore) cannot be used: a state directory would not help.
    case leaseFolder(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason):
            return "error: cannot create \(path): \(reason); choose a writable --state-dir"
        case .cannotWrite(let path, let reason):
            return "error: cannot write the journal \(path): \(reason)"
        case .noSuchRun(let id, let stateDirectory):
            return "error: no run '\(id)' in \(stateDirectory)/runs (is --state-dir the one the run used?)"
        case .unreadable(let path, let line, let reason):
            return "\(path):\(line): error: unreadable journal line: \(reason)"
        case .notResumable(let id, let reason):
            return "error: run \(id) cannot be resumed: \(reason)"
        case .leaseFolder(let path, let reason):
            return
                "error: the lease folder: cannot use \(path): \(reason); every agent on this machine must share one writable lease folder (ZKRUNBOOK_LEASE_DIR in the agent's environment, else /run/zkrunbook/leases as root)"
        }
    }
}

/// The folders zkrunbook keeps under its state directory.
public struct StateLayout: Sendable {
    public var root: String

    public init(root: String) { self.root = root }

    /// `--state-dir`, else ZKRUNBOOK_STATE_DIR, else /var/lib/zkrunbook for root, else ~/.local/state/zkrunbook.
    public static func standard(explicit: String?, environment: [String: String] = EnvironmentVariables.values(of: ["ZKRUNBOOK_STATE_DIR", "HOME"]))
        -> StateLayout
    {
        if let explicit { return StateLayout(root: explicit) }
        if let fromEnvironment = environment["ZKRUNBOOK_STATE_DIR"], !fromEnvironment.isEmpty {
            return StateLayout(root: fromEnvironment)
        }
        if getuid() == 0 { return StateLayout(root: "/var/lib/zkrunbook") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return StateLayout(root: home + "/.local/state/zkrunbook")
    }

    public var runsDirectory: String { root + "/runs" }
    public var locksDirectory: String { root + "/locks" }
    public func runDirectory(_ runID: String) -> String { runsDirectory + "/" + runID }
    public func journalPath(_ runID: String) -> String { runDirectory(runID) + "/journal.jsonl" }
    /// The runbook text as it was when the run started; `resume` continues from this copy.
    public func runbookCopyPath(_ runID: String) -> String { runDirectory(runID) + "/runbook.json5" }

    /// `20261127T185402Z-<runbook>-<8 hex>`: UTC to the second, written by hand (an ICU DateFormatter costs a
    /// noticeable part of an offline `plan`).
    /// UTC to the second, `20261203T093120Z`: what names of runs, bundles and backups begin or end with.
    public static func compactTimestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Event.digits(parts.tm_year + 1900, 4) + Event.digits(parts.tm_mon + 1, 2) + Event.digits(parts.tm_mday, 2) + "T"
            + Event.digits(parts.tm_hour, 2) + Event.digits(parts.tm_min, 2) + Event.digits(parts.tm_sec, 2) + "Z"
    }

    public static func makeRunID(runbook: String, date: Date = Date()) -> String {
        let stamp = compactTimestamp(date)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(stamp)-\(runbook)-\(String(repeating: "0", count: 8 - suffix.count) + suffix)"
    }

    func createDirectory(_ path: String) throws(JournalError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .cannotCreate(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Appends events to a run's journal, one JSON line each; the ones `resume` relies on are fsynced before
/// the engine moves on.
///
/// fsync is what makes `resume` after SIGKILL or a power cut trustworthy: a step is recorded as started or
/// finished only once that record is on disk. Detail events (guard values, attempts, the events a node's
/// agent reports) are written too but not waited for: losing the last few in a power cut costs no
/// correctness, and waiting for each would slow a rolling restart by tens of milliseconds a node.
public final class JournalWriter: EventSink, @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var failure: String?
    /// Bytes of a torn last record (a write cut short by a crash or a full disk) cut off when the journal
    /// was opened again: appended to, they would have made one unreadable line in the middle for good.
    public private(set) var repairedTail = 0

    public init(path: String) throws(JournalError) {
        self.path = path
        let opened = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard opened >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        fd = opened
        let end = lseek(fd, 0, SEEK_END)
        if end > 0 {
            // Back from the end to the last newline: what follows it is a record that never fully reached the disk.
            var offset = end
            var byte: UInt8 = 0
            while offset > 0, pread(fd, &byte, 1, offset - 1) == 1, byte != UInt8(ascii: "\n") { offset -= 1 }
            if offset < end {
                guard ftruncate(fd, offset) == 0, fsync(fd) == 0 else {
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw .cannotWrite(path: path, reason: "cannot cut off its torn last record: \(reason)")
                }
                repairedTail = Int(end - offset)
            }
        }
    }

    deinit { close(fd) }

    public func emit(_ event: Event) {
        let line = Array((event.jsonLine() + "\n").utf8)
        lock.lock()
        defer { lock.unlock() }
        // After a failed write nothing more is written: the run stops before its next change, and a record
        // written after a hole would claim more than the journal can show.
        guard failure == nil else { return }
        let before = lseek(fd, 0, SEEK_END)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != line.count {
            failure = written < 0 ? String(cString: strerror(errno)) : "only \(written) of \(line.count) bytes written (\(String(cString: strerror(errno))))"
            // No torn record left behind for `show` and `resume` to stumble on.
            if before >= 0 { _ = ftruncate(fd, before) }
        } else if Self.mustReachDisk(event) && fsync(fd) != 0 {
            failure = "fsync: " + String(cString: strerror(errno))
        }
    }

    /// The records `resume` reads: run and step boundaries, rollbacks, nodes done. A node agent's own run
    /// boundaries, relayed under a parent step, are read by no resume (the agent's journal on its node has them).
    static func mustReachDisk(_ event: Event) -> Bool {
        switch event.type {
        case .rollbackStarted, .rollbackFinished, .nodeFinished: return true
        case .runStarted, .runResumed, .runFinished, .stepStarted, .stepFinished: return event.parentStep == nil
        case .guardEvaluated, .attemptStarted, .attemptFailed, .nodeStarted, .leaseTaken: return false
        }
    }

    /// The first write error, if any: the run stops before its next change rather than go on unrecorded.
    public var writeFailure: String? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }
}

/// What a journal says about a run: enough to resume it.
public struct JournalState: Sendable {
    public var runID: String
    public var runbookName: String
    public var runbookPath: String
    public var runbookSHA256: String
    public var parameters: [String: String]
    public var lock: String
    public var dryRun: Bool
    /// Forward steps that finished (succeeded or failed-and-continued), in order, with their facts.
    public var finishedSteps: [String]
    public var facts: [String: [String: FactValue]]
    public var startedSteps: [String]
    public var rollbackStarted: Bool
    public var finalStatus: EventStatus?
    public var events: [Event]
    /// The line number of a torn last record that was left out (killed mid-write), if there was one.
    public var tornLine: Int?

    public static func read(path: String) throws(JournalError) -> JournalState {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, line: 0, reason: "cannot read the file")
        }
        let decoder = JSONDecoder()
        var events: [Event] = []
        var torn: Int?
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (number, line) in lines.enumerated() where !line.isEmpty {
            do {
                events.append(try decoder.decode(Event.self, from: Data(line)))
            } catch {
                // A torn last line (killed mid-write) is expected after a crash; anything else is not.
                if number == lines.count - 1 || (number == lines.count - 2 && lines.last?.isEmpty == true) {
                    torn = number + 1
                    break
                }
                throw .unreadable(path: path, line: number + 1, reason: "\(error)")
            }
        }
        guard let start = events.first, start.type == .runStarted else {
            throw .unreadable(path: path, line: 1, reason: "the journal does not begin with a run-started record")
        }
        var state = JournalState(
            runID: start.runID, runbookName: start.runbook ?? "", runbookPath: start.runbookPath ?? "",
            runbookSHA256: start.runbookSHA256 ?? "", parameters: start.parameters ?? [:], lock: start.lock ?? "node",
            dryRun: start.dryRun ?? false, finishedSteps: [], facts: [:], startedSteps: [], rollbackStarted: false,
            finalStatus: nil, events: events, tornLine: torn)
        for event in events where event.parentStep == nil {
            switch event.type {
            case .stepStarted where event.phase == .forward:
                if let step = event.step { state.startedSteps.append(step) }
            case .stepFinished where event.phase == .forward:
                if let step = event.step, event.status?.isDone == true {
                    state.finishedSteps.append(step)
                    state.facts[step] = event.facts ?? [:]
                }
            case .rollbackStarted:
                state.rollbackStarted = true
            case .runFinished:
                state.finalStatus = event.status
            case .runResumed:
                state.finalStatus = nil
                state.rollbackStarted = false
            default:
                break
            }
        }
        return state
    }
}
