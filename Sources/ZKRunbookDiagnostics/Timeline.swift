import Foundation
import ZKRunbookEngine

/// One thing that happened to one server, at a time: what doctor draws on its timeline, one lane per server.
public struct TimelineEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// The process started (a restart when it had run before).
        case start
        /// A leader election; `durationMs` is how long it took, the server not serving meanwhile.
        case election
        /// The server began electing (its LOOKING line): measured into the election that follows, then dropped.
        case looking
        /// This server became the leader.
        case leaderChange = "leader-change"
        case epochChange = "epoch-change"
        case rollover
        case notServing = "not-serving"
        /// The packets-received counter went down: a restart, or a reset inside the running process.
        case counterReset = "counter-reset"
        case connectionLoss = "connection-loss"
        case slowFsync = "slow-fsync"
        case sessionExpiry = "session-expiry"
        case tooManyConnections = "too-many-connections"
        case oversizedPacket = "oversized-packet"
        case jvmPause = "jvm-pause"
        case diskFull = "disk-full"
        /// One of zkrunbook's own runs working on this server (from its journal).
        case plannedRun = "planned-run"

        /// Kinds that come in bursts: one event stands for every line within a minute of the one before.
        var mergesBursts: Bool {
            switch self {
            case .connectionLoss, .slowFsync, .sessionExpiry, .tooManyConnections, .oversizedPacket, .notServing, .jvmPause, .diskFull: return true
            default: return false
            }
        }
    }

    /// The lane: "server 1 (10.0.0.1)", or the log's name when the server is not known.
    public var server: String
    public var kind: Kind
    /// When it began, in milliseconds since 1970 (an election: when the server started looking).
    public var startMs: Int64
    public var time: String
    public var durationMs: Int64?
    public var detail: String
    /// How many lines this event stands for (a burst).
    public var count: Int
    /// The first line behind it, `file:line`, or the journal.
    public var evidence: String?
    /// The finding it belongs to, to link the two.
    public var finding: String?
    /// The zkrunbook run it happened during: a planned event, not an incident.
    public var plannedBy: String?

    public init(
        server: String, kind: Kind, startMs: Int64, durationMs: Int64? = nil, detail: String, count: Int = 1, evidence: String? = nil, finding: String? = nil
    ) {
        (self.server, self.kind, self.startMs, self.durationMs, self.detail) = (server, kind, startMs, durationMs, detail)
        (self.count, self.evidence, self.finding) = (count, evidence, finding)
        time = Event.timestamp(Date(timeIntervalSince1970: Double(startMs) / 1000))
    }

    public var endMs: Int64 { startMs + (durationMs ?? 0) }
}

/// What a signature puts on the timeline for one matching line.
struct TimelineMark: Sendable {
    var kind: TimelineEvent.Kind
    var detail: String
    /// The line's time is when it ended (an election logs its duration when it is over).
    var durationMs: Int64? = nil
}

/// The time of a ZooKeeper log line, found in its first bytes wherever a layout puts it: at the start (log4j's
/// and logback's `2026-12-03 09:20:02,483`), in brackets (Kafka's and Confluent's `[2026-12-03 09:20:02,483]`),
/// after a docker-compose `zookeeper_1  | ` prefix, or after Docker's or kubectl's own RFC 3339 stamp
/// (`2026-12-03T09:20:02.483912345Z`); with a comma or a dot before the milliseconds, or none at all. A stamp
/// that names its zone (`Z`, `+01:00`) is read in it; any other in the zone the log was written in: the reading
/// machine's, or `TZ` as doctor's `--log-timezone` sets it. mktime runs once per day seen, not per line: a
/// day's lines are its midnight plus their seconds (a DST change inside that day shifts the later ones by its hour).
struct LogClock {
    private var day: Int32 = -1
    private var midnightSeconds: Int64 = 0
    /// How far into a line a stamp is looked for: past a container's prefix and its own stamp.
    static let searchWindow = 80

    mutating func milliseconds(_ line: ArraySlice<UInt8>) -> Int64? {
        let last = min(line.count - 19, Self.searchWindow)
        guard last >= 0 else { return nil }
        for offset in 0...last {
            let at = line.startIndex + offset
            // The cheap test first: a stamp has its dashes and colons in place.
            guard line[at + 4] == 0x2D, line[at + 7] == 0x2D, line[at + 13] == 0x3A, line[at + 16] == 0x3A, line[at + 10] == 0x20 || line[at + 10] == 0x54
            else { continue }
            if let time = stamp(at: at, in: line) { return time }
        }
        return nil
    }

    private mutating func stamp(at base: Int, in line: ArraySlice<UInt8>) -> Int64? {
        func number(_ offset: Int, _ width: Int) -> Int32? {
            guard base + offset + width <= line.endIndex else { return nil }
            var value: Int32 = 0
            for index in base + offset..<base + offset + width {
                let byte = line[index]
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let date = number(8, 2), let hour = number(11, 2), let minute = number(14, 2),
            let second = number(17, 2), (1...12).contains(month), (1...31).contains(date)
        else { return nil }
        var index = base + 19
        var millisecond: Int64 = 0
        if index < line.endIndex, line[index] == 0x2C || line[index] == 0x2E {
            // Up to three digits are milliseconds; more (Docker's nanoseconds) are read past.
            index += 1
            var digits = 0
            while index < line.endIndex, (48...57).contains(line[index]) {
                if digits < 3 { millisecond = millisecond * 10 + Int64(line[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millisecond *= 10 }
        }
        let clock = Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
        // A zone written in the stamp: Z, or ±hh:mm / ±hhmm.
        if index < line.endIndex, let offset = Self.zoneOffset(at: index, in: line) {
            var parts = tm()
            (parts.tm_year, parts.tm_mon, parts.tm_mday) = (year - 1900, month - 1, date)
            let midnight = Int64(timegm(&parts))
            return (midnight + clock - offset) * 1000 + millisecond
        }
        let key = year * 10_000 + month * 100 + date
        if key != day {
            var parts = tm()
            (parts.tm_year, parts.tm_mon, parts.tm_mday, parts.tm_isdst) = (year - 1900, month - 1, date, -1)
            let seconds = mktime(&parts)
            guard seconds != -1 else { return nil }
            (day, midnightSeconds) = (key, Int64(seconds))
        }
        return (midnightSeconds + clock) * 1000 + millisecond
    }

    /// The zone after a stamp, in seconds east of UTC: `Z`, `+01:00`, `-0500`; nil when none is written.
    static func zoneOffset(at index: Int, in line: ArraySlice<UInt8>) -> Int64? {
        if line[index] == 0x5A { return 0 }
        guard line[index] == 0x2B || line[index] == 0x2D, index + 5 <= line.endIndex else { return nil }
        let digits = Array(line[index + 1..<min(index + 6, line.endIndex)].filter { $0 != 0x3A }.prefix(4))
        guard digits.count == 4, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let value = digits.map { Int64($0 - 48) }
        let seconds = (value[0] * 10 + value[1]) * 3600 + (value[2] * 10 + value[3]) * 60
        return line[index] == 0x2B ? seconds : -seconds
    }
}

/// zkrunbook's own runs, read from the journals in a state directory: each node a run worked on, and when.
public struct PlannedWork: Codable, Sendable, Equatable {
    public var runID: String
    public var runbook: String
    public var node: Int?
    public var host: String?
    public var startMs: Int64
    public var endMs: Int64

    /// Every node window (node-started to node-finished) of every run in `stateDirectory` that changed
    /// something (a step that changes things ran, whatever its end), and each such run's own span when it worked
    /// on no node. A read-only run (zxid-rollover-watch from cron, a plan, a collect) plans nothing: an election
    /// during it is judged.
    public static func read(stateDirectory: String) -> [PlannedWork] {
        let runs = stateDirectory + "/runs"
        let decoder = JSONDecoder()
        var out: [PlannedWork] = []
        for runID in ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).sorted() {
            guard let text = try? String(contentsOfFile: runs + "/" + runID + "/journal.jsonl", encoding: .utf8) else { continue }
            var runbook = "?"
            var runStart: Int64?
            var runEnd: Int64?
            var open: [Int: (Int64, String?)] = [:]
            var windows: [PlannedWork] = []
            var changed = false
            for line in text.split(separator: "\n") {
                guard let event = try? decoder.decode(Event.self, from: Data(line.utf8)), let at = Event.milliseconds(event.time) else { continue }
                if event.type == .stepFinished, event.readOnly != true, let status = event.status, status != .skipped && status != .refused && status != .locked
                {
                    changed = true
                }
                switch event.type {
                case .runStarted where event.node == nil:
                    runbook = event.runbook ?? runbook
                    runStart = at
                case .runFinished where event.node == nil: runEnd = at
                case .nodeStarted: if let node = event.node { open[node] = (at, event.nodeHost) }
                case .nodeFinished:
                    if let node = event.node, let (start, host) = open.removeValue(forKey: node) {
                        windows.append(PlannedWork(runID: runID, runbook: runbook, node: node, host: host, startMs: start, endMs: at))
                    }
                default: break
                }
            }
            guard let runStart, changed else { continue }
            let end = runEnd ?? windows.map(\.endMs).max() ?? runStart
            // A node still open when the journal ends (a run cut off) is planned up to the journal's end.
            windows += open.map { PlannedWork(runID: runID, runbook: runbook, node: $0.key, host: $0.value.1, startMs: $0.value.0, endMs: end) }
            out += windows.isEmpty ? [PlannedWork(runID: runID, runbook: runbook, node: nil, host: nil, startMs: runStart, endMs: end)] : windows
        }
        return out
    }
}

/// Builds the timeline: events during zkrunbook's own work labelled planned, its runs added, sorted by time.
public enum Timeline {
    /// Events a restart causes on every server (the others elect too): planned when inside a run's window.
    static let causedByRestarts: Set<TimelineEvent.Kind> = [.start, .election, .leaderChange, .epochChange, .notServing, .connectionLoss, .counterReset]
    /// Elections and starts this long after a node's window closed still belong to it (the last election ends
    /// as the run sees the node serve).
    static let slackMs: Int64 = 5_000
    /// At most this many events per lane, the newest kept: a log years long stays a page.
    static let perLane = 2_000

    /// `raw`: each lane's events with their bursts already merged (the scanner merges as it reads).
    public static func build(_ raw: [TimelineEvent], planned: [PlannedWork], serverForNode: (Int) -> String?) -> [TimelineEvent] {
        var merged = raw
        for index in merged.indices where causedByRestarts.contains(merged[index].kind) {
            let event = merged[index]
            // Only a run that worked on this server's ensemble plans what happens to it: one with a window on this
            // very server. Then the window of the node it happened on, else that run's window it falls in (the
            // others elect when one restarts), else one that just closed.
            let runs = Set(planned.filter { $0.node.flatMap(serverForNode) == event.server }.map(\.runID))
            let ours = planned.filter { $0.node != nil && runs.contains($0.runID) }
            let inside = ours.filter { event.startMs >= $0.startMs && event.startMs <= $0.endMs }
            let node = inside.first { $0.node.flatMap(serverForNode) == event.server }
            if let work = node ?? inside.first ?? ours.first(where: { event.startMs >= $0.startMs && event.startMs <= $0.endMs + slackMs }) {
                merged[index].plannedBy = "\(work.runbook) run \(work.runID)" + (work.node.map { " (restarting server \($0))" } ?? "")
            }
        }
        for work in planned {
            let lane = work.node.flatMap(serverForNode) ?? "zkrunbook"
            var event = TimelineEvent(
                server: lane, kind: .plannedRun, startMs: work.startMs, durationMs: work.endMs - work.startMs,
                detail: "\(work.runbook) run \(work.runID)" + (work.node.map { " on server \($0)" } ?? ""), evidence: "journal of run \(work.runID)")
            event.plannedBy = work.runID
            merged.append(event)
        }
        var byLane: [String: [TimelineEvent]] = [:]
        for event in merged { byLane[event.server, default: []].append(event) }
        return byLane.values.flatMap { $0.sorted { $0.startMs < $1.startMs }.suffix(perLane) }.sorted { ($0.startMs, $0.server) < ($1.startMs, $1.server) }
    }
}
