import CZKRunbookBytes
import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// doctor: findings from logs and from the live ensemble, and one timeline of what happened to each server,
/// as report.md, report.json and report.html.
public struct DoctorReport: Encodable, Sendable {
    public var findings: [Finding]
    public var scannedBytes: Int64
    public var scanSeconds: Double
    public var createdAt: String
    /// Every server's events on one time axis, zkrunbook's own runs among them.
    public var timeline: [TimelineEvent] = []
    /// Each live server's zxid and the rollover ETA where samples give a rate: the page's counter gauges.
    public var counters: [ZxidGauge] = []
    /// What each "Next:" runbook needs after its name to run as printed (the ensemble or servers doctor was
    /// given), by runbook name; none: the runbook's own defaults.
    public var nextArguments: [String: String] = [:]
    /// The zone the logs' times were read in (a stamp naming its own zone is read in it).
    public var logTimezone: String?
    /// Where that zone came from when not from --log-timezone or this machine (a bundle's record).
    public var logTimezoneSource: String?

    public init(findings: [Finding], scannedBytes: Int64, scanSeconds: Double, createdAt: String) {
        (self.findings, self.scannedBytes, self.scanSeconds, self.createdAt) = (findings, scannedBytes, scanSeconds, createdAt)
    }

    /// The lane of a server known by id and host: the same name in logs, journals and live facts.
    public static func lane(id: Int, host: String) -> String { "server \(id) (\(host))" }

    /// `nodeLogs`: each server's own log (a file, or a folder of them), scanned apart so that one server's epochs and elections are
    /// never merged with another's; their findings name the server. `planned`: zkrunbook's own runs, whose
    /// restarts are labelled planned rather than judged as incidents.
    public static func build(
        logs: [String], nodeLogs: [(node: String, path: String)] = [], view: EnsembleView?, history: ZxidHistory?, planned: [PlannedWork] = []
    ) -> DoctorReport {
        var scanner = LogScanner()
        let started = Date()
        // Each server the logs name is scanned apart (its rotated files in time order), as --ensemble's are.
        let grouped = LogServerIdentity.group(expand(logs))
        // Named as the live view or zkrunbook's journals name the server, so its lane is the one their events use.
        var hosts = Dictionary(
            planned.compactMap { work in work.node.flatMap { node in work.host.map { (node, $0) } } }, uniquingKeysWith: { first, _ in first })
        for member in view?.members ?? [] { hosts[member.member.id] = member.member.host }
        let named = grouped.servers.map { server in (node: hosts[server.id].map { lane(id: server.id, host: $0) } ?? "server \(server.id)", files: server.files)
        }
        var events: [TimelineEvent] = []
        var nodeFindings: [Finding] = []
        var nodeBytes: Int64 = 0
        for path in grouped.unnamed {
            guard InterleavedLog.isInterleaved(path) else {
                scanner.scan(path: path)
                continue
            }
            // One file of several servers: each server's lines judged as that server's.
            for part in InterleavedLog.scan(path: path) {
                let node = part.id.flatMap { id in hosts[id].map { lane(id: id, host: $0) } } ?? part.name
                nodeBytes += part.scanner.bytesScanned
                events += part.scanner.events.map { event in
                    var event = event
                    event.server = node
                    return event
                }
                nodeFindings += part.scanner.findings.map { finding in
                    var finding = finding
                    finding.node = node
                    return finding
                }
            }
        }
        events += scanner.events
        for (node, files) in nodeLogs.map({ (node: $0.node, files: expand([$0.path])) }) + named {
            var own = LogScanner(lane: node)
            for file in files { own.scan(path: file) }
            nodeBytes += own.bytesScanned
            events += own.events
            nodeFindings += own.findings.map { finding in
                var finding = finding
                finding.node = node
                return finding
            }
        }
        var report = build(scanner: scanner, seconds: 0, view: view, history: history, planned: planned, moreFindings: nodeFindings, moreEvents: events)
        report.scannedBytes += nodeBytes
        report.scanSeconds = Date().timeIntervalSince(started)
        return report
    }

    /// The report from a scanner already fed (the bundle scans logs as it copies them).
    public static func build(
        scanner: LogScanner, seconds: Double, view: EnsembleView?, history: ZxidHistory?, planned: [PlannedWork] = [],
        moreFindings: [Finding] = [], moreEvents: [TimelineEvent]? = nil
    ) -> DoctorReport {
        var findings = scanner.findings + moreFindings
        var events = moreEvents ?? scanner.events
        var counters: [ZxidGauge] = []
        if let view {
            let live = liveFindings(view, history: history)
            findings += live.findings
            events += live.events
            counters = live.counters
        }
        var report = DoctorReport(findings: findings, scannedBytes: scanner.bytesScanned, scanSeconds: seconds, createdAt: Event.timestamp(Date()))
        let hosts = Dictionary((view?.members ?? []).map { ($0.member.id, $0.member.host) }, uniquingKeysWith: { first, _ in first })
        report.timeline = Timeline.build(events, planned: planned) { node in
            planned.first { $0.node == node }?.host.map { lane(id: node, host: hosts[node] ?? $0) } ?? hosts[node].map { lane(id: node, host: $0) }
        }
        report.counters = counters
        report.measureElectionsFromLooking()
        report.discardImpossibleElections()
        report.judgePlannedElections()
        report.judgeExpectedIncidents()
        report.linkPauses()
        report.sortFindings()
        return report
    }

    public mutating func sortFindings() {
        let order: [Finding.Severity: Int] = [.critical: 0, .warning: 1, .info: 2]
        findings.sort { (order[$0.severity]!, $0.node ?? "", $0.id) < (order[$1.severity]!, $1.node ?? "", $1.id) }
    }

    /// An election lasts from the server's LOOKING line to its "LEADER ELECTION TOOK" line: ZooKeeper's own figure
    /// can understate it (ZOOKEEPER-3479: its clock starts late) or count from a clock never set for it (after a
    /// reconfig hands leadership over). Each election with a LOOKING line since the server's previous election
    /// (or start) is measured from it, and says what ZooKeeper logged when the two differ by more than a second;
    /// the LOOKING lines then leave the timeline.
    mutating func measureElectionsFromLooking() {
        let lookings = timeline.filter { $0.kind == .looking }
        guard !lookings.isEmpty else { return }
        var measured: Set<String> = []
        for index in timeline.indices where timeline[index].kind == .election {
            let event = timeline[index]
            let end = event.endMs
            // The last LOOKING before this election ended, after the same server's previous election or start.
            let earlier =
                timeline.filter { other in
                    other.server == event.server && (other.kind == .election || other.kind == .start) && other.endMs < end && other != event
                }.map(\.endMs).max() ?? Int64.min
            guard let looking = lookings.filter({ $0.server == event.server && $0.startMs <= end && $0.startMs >= earlier }).map(\.startMs).max()
            else { continue }
            let window = end - looking
            let logged = event.durationMs
            timeline[index].startMs = looking
            timeline[index].time = Event.timestamp(Date(timeIntervalSince1970: Double(looking) / 1000))
            timeline[index].durationMs = window
            if let logged, abs(logged - window) > 1_000 {
                timeline[index].detail += " (LOOKING for \(window) ms; ZooKeeper logged \(logged) ms)"
            }
            measured.insert(event.server)
        }
        timeline.removeAll { $0.kind == .looking }
        timeline.sort { ($0.startMs, $0.server) < ($1.startMs, $1.server) }
        guard !measured.isEmpty else { return }
        for index in findings.indices where findings[index].id == "leader-election" {
            let lane = findings[index].node
            let kept = timeline.filter { $0.kind == .election && (lane == nil || $0.server == lane) }.compactMap(\.durationMs)
            guard let longest = kept.max() else { continue }
            findings[index].severity = longest > 10_000 ? .critical : longest > 2_000 ? .warning : .info
            findings[index].detail =
                "\(findings[index].count) election(s); the longest took \(longest) ms from the server's LOOKING line to its LEADER ELECTION TOOK line"
        }
    }

    /// A logged election that began before its own process started cannot be: ZooKeeper counts from a clock it
    /// never set for that election (after a reconfig hands leadership over, the figure is the machine's uptime:
    /// 48,500,671 ms logged 2 s after the JVM started). Such a duration is dropped from the timeline and from the
    /// judgement, and the finding says so; the election itself stays.
    mutating func discardImpossibleElections() {
        var discarded: [String: [Int64]] = [:]
        for index in timeline.indices where timeline[index].kind == .election {
            let event = timeline[index]
            guard let duration = event.durationMs, duration > 0 else { continue }
            let end = event.startMs + duration
            let started = timeline.filter { $0.server == event.server && $0.kind == .start && $0.startMs <= end }.map(\.startMs).max()
            guard let started, event.startMs < started else { continue }
            timeline[index].startMs = end
            timeline[index].durationMs = nil
            timeline[index].detail += " (logged duration \(duration) ms discarded: it would have begun before this process started)"
            discarded[event.server, default: []].append(duration)
        }
        guard !discarded.isEmpty else { return }
        timeline.sort { ($0.startMs, $0.server) < ($1.startMs, $1.server) }
        for index in findings.indices where findings[index].id == "leader-election" {
            let lane = findings[index].node
            let dropped = discarded.filter { lane == nil || $0.key == lane }.flatMap(\.value)
            guard !dropped.isEmpty else { continue }
            let kept = timeline.filter { $0.kind == .election && (lane == nil || $0.server == lane) }.compactMap(\.durationMs)
            let longest = kept.max()
            findings[index].severity = longest.map { $0 > 10_000 ? .critical : $0 > 2_000 ? .warning : .info } ?? .info
            findings[index].detail =
                "\(findings[index].count) election(s)" + (longest.map { "; the longest took \($0) ms" } ?? "")
                + "; \(dropped.count) logged duration(s) (\(dropped.map(String.init).joined(separator: ", ")) ms) discarded: each would have begun before its process started (ZooKeeper counted from a clock it never set, as after a reconfig hands leadership over)"
        }
    }

    /// Elections during zkrunbook's own runs are planned: a leader-election finding is judged by the others
    /// alone (a rolling restart's elections are not an incident), and says how many were planned.
    mutating func judgePlannedElections() {
        for index in findings.indices where findings[index].id == "leader-election" {
            let node = findings[index].node
            let elections = timeline.filter { $0.kind == .election && (node == nil || $0.server == node) }
            let planned = elections.filter { $0.plannedBy != nil }
            guard !planned.isEmpty else { continue }
            let longest = elections.filter { $0.plannedBy == nil }.compactMap(\.durationMs).max()
            findings[index].severity = longest.map { $0 > 10_000 ? .critical : $0 > 2_000 ? .warning : .info } ?? .info
            findings[index].detail +=
                "; \(planned.count) of them during zkrunbook's own runs (planned, not judged)"
                + (longest.map { "; the longest unplanned took \($0) ms" } ?? "; none unplanned")
        }
    }

    /// Findings a restart causes on its own (a follower dropping the leader that restarted, peers unreachable
    /// while one restarts, clients turned away meanwhile) are judged by the lines that are not: those during one
    /// of zkrunbook's own runs are planned, and "Cannot open channel" in the first seconds after the server's own
    /// start is a server finding peers that are still starting. Only what is left is a warning.
    mutating func judgeExpectedIncidents() {
        // A leader that stops leading as zkrunbook hands its leadership off (or restarts it) logs that its
        // followers are no longer synced: planned too, when it happens inside one of zkrunbook's runs.
        let judged: Set<String> = [
            "follower-dropped", "quorum-channel", "server-not-running", "not-ready", "connection-loss", "not-serving", "followers-not-synced",
        ]
        // What a server does while it starts (peers not up yet, clients turned away until it serves).
        let startup: Set<String> = ["quorum-channel", "server-not-running", "not-ready", "not-serving"]
        for index in findings.indices where judged.contains(findings[index].id) {
            let id = findings[index].id
            let lane = findings[index].node
            var events = timeline.filter { $0.finding == id && (lane == nil || $0.server == lane) }
            if events.isEmpty, let lane, findings[index].count <= findings[index].evidence.count {
                // Its lines were drawn inside another finding's burst of the same kind: their times from the evidence.
                events = findings[index].evidence.compactMap { line in
                    var clock = LogClock()
                    let text = line.range(of: ": ").map { line[$0.upperBound...] } ?? line[...]
                    guard let time = clock.milliseconds(Array(text.utf8)[...]) else { return nil }
                    var event = TimelineEvent(server: lane, kind: .connectionLoss, startMs: time, durationMs: nil, detail: "", evidence: nil)
                    event.plannedBy =
                        timeline.first { $0.kind == .plannedRun && $0.server == lane && time >= $0.startMs && time <= $0.endMs + Timeline.slackMs }?.plannedBy
                    return event
                }
            }
            guard !events.isEmpty else { continue }
            let starts = timeline.filter { $0.kind == .start }
            let planned = events.filter { $0.plannedBy != nil }
            let afterStart = events.filter { event in
                event.plannedBy == nil && startup.contains(id)
                    && starts.contains { $0.server == event.server && event.startMs >= $0.startMs && event.startMs - $0.startMs <= Self.startupMs }
            }
            guard !planned.isEmpty || !afterStart.isEmpty else { continue }
            let expected = planned.count + afterStart.count
            var parts: [String] = []
            if !planned.isEmpty { parts.append("\(planned.count) during zkrunbook's own runs (planned)") }
            if !afterStart.isEmpty {
                parts.append("\(afterStart.count) in the first \(Self.startupMs / 1000) s after the server's own start (peers still starting)")
            }
            findings[index].detail += "; of the \(events.count) event(s) on the timeline, " + parts.joined(separator: ", ")
            if expected == events.count {
                findings[index].severity = .info
                findings[index].detail += ": none left to judge"
            }
        }
    }

    /// A server that paused (a JVM or host pause) and what followed on every server within the pause and the
    /// seconds after it (followers dropping their leader, elections, a new leader) are one incident, with its
    /// cause first: the pause, not the followers that reacted to it.
    mutating func linkPauses() {
        for pause in timeline where pause.kind == .jvmPause && (pause.durationMs ?? 0) >= Self.pauseWorthLinking && pause.plannedBy == nil {
            let window = pause.startMs...(pause.endMs + Self.consequenceMs)
            // A lost connection is drawn as a burst that may have begun before the pause (channel errors while a
            // server restarted, within a minute): it counts when the burst reaches into the window.
            let followed = timeline.filter { event in
                event.plannedBy == nil && event.server != pause.server
                    && ((event.kind == .election || event.kind == .leaderChange) && window.contains(event.startMs)
                        || event.kind == .connectionLoss && window.overlaps(event.startMs...event.endMs))
            }
            // A follower's drop ("Exception when following the leader") is drawn in one burst with the channel errors
            // around it: any lost connection on another server in the window.
            let dropped = Set(followed.filter { $0.kind == .connectionLoss }.map(\.server)).sorted()
            let elections = followed.filter { $0.kind == .election }
            guard !dropped.isEmpty || !elections.isEmpty else { continue }
            let leaders = followed.filter { $0.kind == .leaderChange }.map(\.server)
            let outageEnd = elections.map(\.endMs).max()
            var chain = ["\(pause.server) paused about \(pause.durationMs!) ms from \(pause.time)"]
            if !dropped.isEmpty { chain.append("\(dropped.joined(separator: ", ")) lost their connection to it (followers dropping their leader)") }
            if !elections.isEmpty {
                chain.append("\(elections.count) election(s) followed (the longest \(elections.compactMap(\.durationMs).max() ?? 0) ms)")
            }
            if let leader = leaders.last { chain.append("\(leader) became the leader") }
            let outage = outageEnd.map { "; clients had no leader for about \(max(0, $0 - pause.startMs)) ms from the pause's start" } ?? ""
            findings.append(
                Finding(
                    id: "pause-lost-leader", severity: elections.isEmpty ? .warning : .critical,
                    title: "A server's pause cost the ensemble its leader",
                    detail: chain.joined(separator: "; then ") + outage
                        + ". First look at the pause on \(pause.server) (GC: heap and collector; the host: steal, swap, a frozen VM), not at the followers that reacted to it",
                    count: 1 + followed.count, evidence: ([pause] + followed).compactMap { event in event.evidence.map { "\(event.server): \($0)" } },
                    nextRunbook: "collect-diagnostics", node: pause.server))
        }
        sortFindings()
    }

    /// A pause shorter than this is a GC hiccup: nothing follows from it.
    static let pauseWorthLinking: Int64 = 1_000
    /// How long after a pause a follower's drop or an election is its consequence.
    static let consequenceMs: Int64 = 20_000

    /// How long after its own start a server's "Cannot open channel" lines are expected.
    static let startupMs: Int64 = 15_000

    /// Files given, and the ZooKeeper logs inside folders given.
    public static func expand(_ paths: [String]) -> [String] {
        paths.flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
            guard isDirectory.boolValue else { return [path] }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.filter { $0.contains(".log") || $0.hasSuffix(".out") }.sorted().map { path + "/" + $0 }
        }
    }

    /// A live server's zxid against the counter's 2^32 limit, and when it rolls over at the rate seen.
    public struct ZxidGauge: Codable, Sendable, Equatable {
        public var server: String
        public var zxid: String
        public var epoch: UInt32
        public var counter: UInt32
        public var etaSeconds: Double?
    }

    static func liveFindings(_ view: EnsembleView, history: ZxidHistory?) -> (findings: [Finding], events: [TimelineEvent], counters: [ZxidGauge]) {
        var out: [Finding] = []
        var events: [TimelineEvent] = []
        var counters: [ZxidGauge] = []
        if view.verdict == .noQuorum || view.verdict == .split {
            let down = view.members.filter { !$0.facts.mode.isServing }
            let unreachable = down.map { "server \($0.member.id) (\($0.member.endpoint)): \($0.facts.error ?? $0.facts.mode.rawValue)" }
            var evidence = view.reasons + unreachable
            let advice = FailoverAdvice.decide(view)
            evidence.insert(advice.line, at: 0)
            out.append(
                Finding(
                    id: view.verdict == .split ? "split-brain" : "no-quorum", severity: .critical,
                    title: view.verdict == .split ? "More than one server claims to lead" : "The ensemble cannot elect a leader",
                    detail: view.quorum.reason, count: unreachable.count, evidence: Array(evidence.prefix(8)),
                    nextRunbook: advice.runbook))
        } else if view.verdict == .electing {
            out.append(
                Finding(
                    id: "electing", severity: .warning, title: "An election is under way: a majority of the voters is up, none leads yet",
                    detail: view.quorum.reason, count: view.quorum.electingVoters.count, evidence: view.reasons,
                    nextRunbook: "health-check"))
        } else if view.verdict == .unknown {
            out.append(
                Finding(
                    id: "partial-view", severity: .warning, title: "Too little of the ensemble was seen to judge it",
                    detail: view.reasons.first ?? "a partial view", count: view.members.count, evidence: view.reasons + view.notes,
                    nextRunbook: "health-check"))
        } else if view.verdict == .degraded {
            out.append(
                Finding(
                    id: "degraded", severity: .warning, title: "The ensemble is degraded but keeps its quorum", detail: view.quorum.reason,
                    count: view.reasons.count, evidence: view.reasons, nextRunbook: "health-check"))
        }
        let now = Date()
        out += certificateFindings(view, now: now)
        for status in view.members {
            guard let zxid = status.facts.zxid else { continue }
            let server = status.member.endpoint.description
            counters.append(
                ZxidGauge(
                    server: lane(id: status.member.id, host: status.member.host), zxid: zxid.description, epoch: zxid.epoch, counter: zxid.counter,
                    etaSeconds: history?.eta(server: server, now: .init(time: now, zxid: zxid))))
        }
        guard let history else { return (out, events, counters) }
        if let leaderZxid = view.leaderZxid, let leader = view.leaderID {
            let server = view.members.first { $0.member.id == leader }!.member.endpoint.description
            if let eta = history.eta(server: server, now: .init(time: now, zxid: leaderZxid)) {
                let severity: Finding.Severity = eta < 7 * 86_400 ? .critical : eta < 30 * 86_400 ? .warning : .info
                out.append(
                    Finding(
                        id: "rollover-eta", severity: severity, title: "zxid counter rollover ahead",
                        detail:
                            "counter \(leaderZxid.counter) of \(UInt32.max) in epoch \(leaderZxid.epoch); at the current rate it rolls over in \(RolloverEstimate.describe(eta)), forcing a leader election",
                        count: 1, evidence: ["leader \(server) zxid \(leaderZxid)"], nextRunbook: "zxid-rollover-watch"))
            }
        }
        for status in view.members {
            guard let zxid = status.facts.zxid else { continue }
            let server = status.member.endpoint.description
            let sample = RolloverEstimate.Sample(time: now, zxid: zxid, received: status.facts.received, uptimeMs: status.facts.uptimeMs)
            if let previous = history.load(server: server).last, let before = previous.received, let after = sample.received, after < before {
                let finding = counterDrop(server: server, previous: previous, now: sample)
                out.append(finding)
                // Drawn where it was seen; a restart is also drawn at the time the uptime gives.
                let nowMs = Int64(now.timeIntervalSince1970 * 1000)
                let startedMs = finding.id == "counters-reset-restart" ? sample.uptimeMs.map { nowMs - $0 } : nil
                events.append(
                    TimelineEvent(
                        server: lane(id: status.member.id, host: status.member.host), kind: .counterReset,
                        startMs: Int64(previous.time.timeIntervalSince1970 * 1000), durationMs: nowMs - Int64(previous.time.timeIntervalSince1970 * 1000),
                        detail: finding.title + (startedMs != nil ? " (a restart)" : finding.id == "counters-reset-in-process" ? " (no restart)" : ""),
                        evidence: finding.evidence.first, finding: finding.id))
            }
            history.append(server: server, sample: sample)
        }
        return (out, events, counters)
    }

    /// The packets-received counter went down since the last sample: the uptime tells a restart from a
    /// counter reset inside a running process (`srst`, or a server object re-created after a forced election).
    static func counterDrop(server: String, previous: RolloverEstimate.Sample, now: RolloverEstimate.Sample) -> Finding {
        let elapsed = now.time.timeIntervalSince(previous.time)
        let evidence = [
            "\(server) received \(previous.received ?? 0) at \(Event.timestamp(previous.time)), \(now.received ?? 0) at \(Event.timestamp(now.time))",
            "uptime now \(now.uptimeMs.map { "\($0 / 1000) s" } ?? "unknown (mntr/AdminServer not readable)")",
        ]
        guard let uptimeMs = now.uptimeMs else {
            return Finding(
                id: "counters-reset", severity: .warning, title: "A server's counters went down",
                detail:
                    "\(server)'s packets-received counter dropped; without its uptime (mntr or the AdminServer) a restart cannot be told from `srst` or an in-process re-creation",
                count: 1, evidence: evidence, nextRunbook: "health-check")
        }
        if Double(uptimeMs) / 1000 < elapsed, previous.zxid.epoch != now.zxid.epoch {
            let (before, after) = (previous.zxid.epoch, now.zxid.epoch)
            // Every election re-creates the server object: its counters and zk_uptime start again, the process runs on.
            return Finding(
                id: "counters-reset-election", severity: .info, title: "An election re-created a server (its counters and uptime reset)",
                detail:
                    "\(server)'s counters dropped and its uptime (\(uptimeMs / 1000) s) is shorter than the \(Int(elapsed)) s since the last sample, and the epoch went from \(before) to \(after): "
                    + "an election, which re-creates the server object (zk_uptime restarts with it), or a restart; the log's start lines tell them apart (doctor --ensemble reads them)",
                count: 1, evidence: evidence, nextRunbook: "health-check")
        }
        if Double(uptimeMs) / 1000 < elapsed {
            let uptime = uptimeMs
            return Finding(
                id: "counters-reset-restart", severity: .warning, title: "A server restarted",
                detail:
                    "\(server)'s counters dropped and its uptime (\(uptime / 1000) s) is shorter than the \(Int(elapsed)) s since the last sample, in the same epoch (no election re-created it): the process restarted",
                count: 1, evidence: evidence, nextRunbook: "health-check")
        }
        return Finding(
            id: "counters-reset-in-process", severity: .warning, title: "Counters reset without a restart",
            detail:
                "\(server)'s packets-received counter dropped while the process kept running: someone ran `srst`, or the server object was re-created inside the JVM (as after a forced election on zxid rollover; look for 'zxid lower 32 bits have rolled over' in the log)",
            count: 1, evidence: evidence, nextRunbook: "zxid-rollover-watch")
    }

    /// A "Next:" runbook as a command line to run as printed.
    public func nextCommand(_ runbook: String) -> String {
        "zkrunbook run \(runbook)" + (nextArguments[runbook].map { " " + $0 } ?? "")
    }

    public var markdown: String {
        var lines = [
            "# zkrunbook doctor", "",
            "Scanned \(scannedBytes) bytes of logs at \(String(format: "%.0f", Double(scannedBytes) / 1_048_576 / max(scanSeconds, 0.000_001))) MB/s."
                + (logTimezone.map { zone in
                    " Log times read in \(zone)\(logTimezoneSource.map { ", \($0)" } ?? "") (--log-timezone to change; a stamp that names its zone is read in it)."
                } ?? ""), "",
        ]
        if findings.isEmpty { lines.append("No known incident signature found.") }
        for finding in findings {
            lines.append("## \(finding.severity.rawValue.uppercased()): \(finding.title)" + (finding.node.map { " — \($0)" } ?? ""))
            lines.append("")
            lines.append(finding.detail)
            if let next = finding.nextRunbook {
                lines.append("")
                lines.append("Next: `\(nextCommand(next))`")
            }
            lines.append("")
            lines += finding.evidence.map { "    " + $0 }
            lines.append("")
        }
        if !timeline.isEmpty {
            lines += [
                "## Timeline (UTC)", "", "| time | server | event | detail | lines | planned | evidence |", "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            let cell = { (text: String) in text.replacingOccurrences(of: "|", with: "\\|") }
            for event in timeline.prefix(500) {
                lines.append(
                    "| \(event.time) | \(cell(event.server)) | \(event.kind.rawValue) | \(cell(event.detail)) | \(event.count) | \(cell(event.plannedBy ?? "")) | \(cell(event.evidence ?? "")) |"
                )
            }
            if timeline.count > 500 { lines += ["", "\(timeline.count - 500) more events in report.json."] }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
