import CZKRunbookBytes
import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// One incident doctor recognises, with the lines that prove it and the runbook to run next.
public struct Finding: Codable, Sendable {
    public enum Severity: String, Codable, Sendable { case info, warning, critical }

    public var id: String
    public var severity: Severity
    public var title: String
    public var detail: String
    public var count: Int
    /// Up to five lines, each `file:line: text`.
    public var evidence: [String]
    public var nextRunbook: String?
    /// The server whose log this came from, when logs of several servers were scanned apart.
    public var node: String?

    public init(
        id: String, severity: Severity, title: String, detail: String, count: Int, evidence: [String], nextRunbook: String?, node: String? = nil
    ) {
        (self.id, self.severity, self.title, self.detail) = (id, severity, title, detail)
        (self.count, self.evidence, self.nextRunbook, self.node) = (count, evidence, nextRunbook, node)
    }
}

/// Reads ZooKeeper logs (3.5 to 3.9 wording) for the signatures of known incidents.
///
/// Streaming and token-first: each 4 MiB chunk is searched for every signature's fixed text with
/// memmem, and only matching lines become Swift strings, so scanning keeps pace with the disk.
public struct LogScanner: Sendable {
    public var bytesScanned: Int64 = 0
    /// What the matching lines put on the timeline, bursts merged as they come.
    public private(set) var events: [TimelineEvent] = []
    /// Where the last event of each lane and kind is in `events` (at lane × kinds + the kind's place in
    /// `allCases`; -1: none), to merge a burst into it without hashing anything per line.
    private var lastEvent: [Int] = []
    private static let kinds = TimelineEvent.Kind.allCases
    /// Each signature's timeline kind and its place in `allCases`, read once rather than per matching line.
    private static let timelineKinds: [(kind: TimelineEvent.Kind, place: Int)?] = signatures.map { signature in
        signature.info.timeline.map { ($0, kinds.firstIndex(of: $0)!) }
    }
    /// A number for each lane seen.
    private var laneNumbers: [String: Int] = [:]
    private var currentLaneNumber = 0
    private var clock = LogClock()
    /// The lane every file scanned belongs to (one server's logs); nil: each file's own, from its path.
    public var lane: String?
    /// One tally per signature, in the order of `signatures` (an index, not a name lookup per matching line).
    var tallies = [SignatureTally?](repeating: nil, count: LogSignatures.all.count)
    /// The signatures looked for, each with its measure and judgement (one file each, under Signatures/).
    static let signatures: [any LogSignature] = LogSignatures.all

    public init(lane: String? = nil) { self.lane = lane }

    /// A file's lane when no server was named: the server of a collected ensemble's folder
    /// (`server-<id>-<host>/`), else the file's name.
    static func lane(of path: String) -> String {
        for component in (path as NSString).pathComponents.reversed() where component.hasPrefix("server-") {
            let parts = component.dropFirst("server-".count).split(separator: "-", maxSplits: 1)
            if parts.count == 2, Int(parts[0]) != nil { return "server \(parts[0]) (\(parts[1]))" }
        }
        return (path as NSString).lastPathComponent
    }

    /// Scans one file (plain or .gz through gzip -dc).
    public mutating func scan(path: String) {
        if path.hasSuffix(".gz") {
            let pipe = Pipe()
            let gunzip = Process()
            gunzip.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/bin/gzip") ? "/bin/gzip" : "/usr/bin/gzip")
            gunzip.arguments = ["-dc", path]
            gunzip.standardOutput = pipe
            gunzip.standardError = FileHandle.nullDevice
            guard (try? gunzip.run()) != nil else { return }
            scan(fd: pipe.fileHandleForReading.fileDescriptor, name: path)
            gunzip.waitUntilExit()
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        scan(fd: fd, name: path)
    }

    /// Reads into one buffer and scans the whole lines in place; only an unfinished last line moves to the
    /// front for the next read.
    mutating func scan(fd: Int32, name: String) {
        let size = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        begin(name)
        var filled = 0
        while true {
            let count = read(fd, buffer.baseAddress! + filled, size - filled)
            if count <= 0 { break }
            bytesScanned += Int64(count)
            filled += count
            let data = UnsafeRawBufferPointer(rebasing: buffer[0..<filled])
            // A line longer than the whole buffer is scanned as if it ended there.
            let complete = (lastNewline(in: data).map { $0 + 1 }) ?? (filled == size ? filled : 0)
            guard complete > 0 else { continue }
            lineBase = scanComplete(UnsafeRawBufferPointer(rebasing: data[0..<complete]), name: name, firstLine: lineBase)
            filled -= complete
            if filled > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + complete, filled) }
        }
        if filled > 0 { end(remaining: UnsafeRawBufferPointer(rebasing: buffer[0..<filled])) }
    }

    private func lastNewline(in data: UnsafeRawBufferPointer) -> Int? {
        guard let base = data.baseAddress, let hit = zkrunbook_last_byte(base, 0x0A, data.count) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    private var currentName = ""
    private var currentLane = ""
    private var carry: [UInt8] = []
    private var lineBase = 1

    /// Starts a file; `feed` its bytes in order (any chunking), then `end`.
    public mutating func begin(_ name: String) {
        currentName = name
        currentLane = lane ?? Self.lane(of: name)
        currentLaneNumber = laneNumbers[currentLane] ?? laneNumbers.count
        laneNumbers[currentLane] = currentLaneNumber
        if lastEvent.count < laneNumbers.count * Self.kinds.count { lastEvent += [Int](repeating: -1, count: Self.kinds.count) }
        carry = []
        lineBase = 1
    }

    /// Bytes of the file begun, in order, in chunks of any size (the bundle's stream feeds what it reads).
    public mutating func feed(_ bytes: ArraySlice<UInt8>) {
        bytesScanned += Int64(bytes.count)
        carry.append(contentsOf: bytes)
        guard let lastNewline = carry.lastIndex(of: 0x0A) else { return }
        lineBase = carry.withUnsafeBytes { scanComplete(UnsafeRawBufferPointer(rebasing: $0[0...lastNewline]), name: currentName, firstLine: lineBase) }
        carry.removeFirst(lastNewline + 1)
    }

    public mutating func end() {
        carry.withUnsafeBytes { end(remaining: $0) }
        carry = []
    }

    /// The last line of a file, which has no newline.
    private mutating func end(remaining: UnsafeRawBufferPointer) {
        guard remaining.count > 0 else { return }
        var line = Array(remaining)
        line.append(0x0A)
        lineBase = line.withUnsafeBytes { scanComplete($0, name: currentName, firstLine: lineBase) }
    }

    /// The fixed text of every signature, in order: what a `grep -F -f` of the same work would look for.
    public static var signatureTokens: [String] { signatures.map(\.token) }

    /// Every signature's token, searched for together in one pass (`zkrunbook_first_token`).
    static let tokens = TokenSet(signatures.map(\.token))

    /// Scans whole lines; returns the number of the line after them. A signature counts once per line.
    mutating func scanComplete(_ chunk: UnsafeRawBufferPointer, name: String, firstLine: Int) -> Int {
        guard let base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return firstLine }
        var line = firstLine
        var cursor = 0
        var countedUpTo = [Int](repeating: -1, count: Self.signatures.count)
        // One buffer for every matching line's bytes: a line is copied out only to be measured.
        var lineBytes: [UInt8] = []
        lineBytes.reserveCapacity(4096)
        Self.tokens.forEachHit(in: base, count: chunk.count) { position, index in
            guard position > countedUpTo[index] else { return }
            line += Self.newlines(in: chunk, from: cursor, to: position)
            cursor = position
            let start = lineStart(in: chunk, before: position)
            let end = memchr(base + position, 0x0A, chunk.count - position).map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? chunk.count
            countedUpTo[index] = end
            lineBytes.removeAll(keepingCapacity: true)
            lineBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<end]))
            record(index, line: lineBytes[...], location: { "\(name):\(line)" }, earlierTime: { Self.timeOfLine(before: start, in: chunk) })
        }
        return line + Self.newlines(in: chunk, from: cursor, to: chunk.count)
    }

    /// The time of the nearest line before `position` that starts with one (a stack trace's lines have none:
    /// they belong to the line above), at most 50 lines back.
    static func timeOfLine(before position: Int, in chunk: UnsafeRawBufferPointer) -> Int64? {
        guard let base = chunk.baseAddress else { return nil }
        var end = position - 1
        for _ in 0..<50 where end > 0 {
            let start = zkrunbook_last_byte(base, 0x0A, end).map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? 0
            let line = Array(UnsafeRawBufferPointer(rebasing: chunk[start..<min(start + 23, end)]))
            var clock = LogClock()
            if let time = clock.milliseconds(line[...]) { return time }
            end = start - 1
        }
        return nil
    }

    private func lineStart(in chunk: UnsafeRawBufferPointer, before position: Int) -> Int {
        guard position > 0, let base = chunk.baseAddress, let hit = zkrunbook_last_byte(base, 0x0A, position) else { return 0 }
        return base.distance(to: UnsafeRawPointer(hit)) + 1
    }

    /// Newlines in chunk[from..<to], found with memchr.
    static func newlines(in chunk: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        guard from < to, let base = chunk.baseAddress else { return 0 }
        var count = 0
        var index = from
        while index < to, let hit = memchr(base + index, 0x0A, to - index) {
            count += 1
            index = base.distance(to: UnsafeRawPointer(hit)) + 1
        }
        return count
    }

    /// Updates the tally in place (copying it out and back would copy its arrays on every hit); a line
    /// becomes a String only for the first five, the evidence.
    mutating func record(_ index: Int, line: ArraySlice<UInt8>, location: () -> String, earlierTime: () -> Int64? = { nil }) {
        if tallies[index] == nil { tallies[index] = SignatureTally() }
        tallies[index]!.count += 1
        if tallies[index]!.evidence.count < 5 {
            tallies[index]!.evidence.append("\(location()): \(String(decoding: line.prefix(300), as: UTF8.self))")
        }
        Self.signatures[index].measure(line, into: &tallies[index]!)
        guard let (kind, place) = Self.timelineKinds[index], let endMs = clock.milliseconds(line) ?? earlierTime() else { return }
        // A line of a burst only counts: nothing is built for it.
        let base = currentLaneNumber * Self.kinds.count
        // Stored fields only: a computed property of an element would copy the whole event per line.
        if kind.mergesBursts, case let at = lastEvent[base + place], at >= 0, endMs - events[at].startMs - (events[at].durationMs ?? 0) <= 60_000 {
            events[at].count += 1
            events[at].durationMs = max(events[at].durationMs ?? 0, endMs - events[at].startMs)
            return
        }
        for mark in Self.signatures[index].marks(line) {
            let duration = mark.durationMs ?? 0
            lastEvent[base + (mark.kind == kind ? place : Self.kinds.firstIndex(of: mark.kind)!)] = events.count
            events.append(
                TimelineEvent(
                    server: currentLane, kind: mark.kind, startMs: endMs - duration, durationMs: mark.durationMs, detail: mark.detail,
                    evidence: location(), finding: Self.signatures[index].id))
        }
    }

    /// Findings from everything scanned so far, each judged by its own signature.
    public var findings: [Finding] {
        Self.signatures.indices.compactMap { index in
            let signature = Self.signatures[index]
            guard let tally = tallies[index], let (severity, detail) = signature.judge(tally) else { return nil }
            return Finding(
                id: signature.id, severity: severity, title: signature.title, detail: detail, count: tally.count, evidence: tally.evidence,
                nextRunbook: signature.nextRunbook)
        }
    }
}

/// The zxid counter's growth and when its low 32 bits roll over (forcing an election).
public enum RolloverEstimate {
    public struct Sample: Codable, Sendable, Hashable {
        public var time: Date
        public var zxid: Zxid
        /// The server's packets-received counter and uptime, to tell a restart from a counter reset.
        public var received: Int64?
        public var uptimeMs: Int64?
        public init(time: Date, zxid: Zxid, received: Int64? = nil, uptimeMs: Int64? = nil) {
            (self.time, self.zxid, self.received, self.uptimeMs) = (time, zxid, received, uptimeMs)
        }
    }

    /// Seconds until the counter reaches 0xffffffff at the rate between two samples of the same epoch;
    /// nil when they are of different epochs or the counter did not grow.
    public static func secondsToRollover(_ first: Sample, _ second: Sample) -> Double? {
        ZxidWatchAssessment.assess(first: first.zxid, second: second.zxid, seconds: second.time.timeIntervalSince(first.time), warnBelow: 0).etaSeconds
    }

    public static func describe(_ seconds: Double) -> String {
        let days = seconds / 86_400
        return days >= 1 ? String(format: "%.1f days", days) : String(format: "%.1f hours", seconds / 3600)
    }
}

/// zxid samples kept between runs (STATE/zxid-samples.jsonl), so two runs a day apart give a rate.
/// Bounded: only the file's last `readBytes` are read, and past `maxBytes` it is cut to its newest half,
/// so a cron job every minute for years keeps it a few MiB.
public struct ZxidHistory: Sendable {
    public var path: String
    public var readBytes = 1 << 20
    public var maxBytes = 4 << 20

    public init(stateDirectory: String) { path = stateDirectory + "/zxid-samples.jsonl" }

    /// The file's last `count` bytes from its first whole line.
    func tail(_ count: Int) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(count) ? size - UInt64(count) : 0
        try? handle.seek(toOffset: start)
        guard var data = try? handle.readToEnd() else { return nil }
        if start > 0, let newline = data.firstIndex(of: 0x0A) { data = data[(newline + 1)...] }
        return String(decoding: data, as: UTF8.self)
    }

    public func load(server: String) -> [RolloverEstimate.Sample] {
        guard let text = tail(readBytes) else { return [] }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { line in
            guard let entry = try? decoder.decode(Entry.self, from: Data(line.utf8)), entry.server == server else { return nil }
            return RolloverEstimate.Sample(
                time: Date(timeIntervalSince1970: entry.time), zxid: Zxid(raw: entry.zxid), received: entry.received, uptimeMs: entry.uptimeMs)
        }
    }

    public func append(server: String, sample: RolloverEstimate.Sample) {
        let entry = Entry(server: server, time: sample.time.timeIntervalSince1970, zxid: sample.zxid.raw, received: sample.received, uptimeMs: sample.uptimeMs)
        guard let data = try? JSONEncoder().encode(entry) else { return }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        let size = (try? handle.seekToEnd()) ?? 0
        handle.write(data + Data("\n".utf8))
        try? handle.close()
        if size > UInt64(maxBytes), let newest = tail(maxBytes / 2) {
            try? Data(newest.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }

    /// Seconds to rollover from the oldest kept sample of the current epoch and `now`.
    public func eta(server: String, now: RolloverEstimate.Sample) -> Double? {
        guard let oldest = load(server: server).filter({ $0.zxid.epoch == now.zxid.epoch }).min(by: { $0.time < $1.time }) else { return nil }
        return RolloverEstimate.secondsToRollover(oldest, now)
    }

    struct Entry: Codable {
        var server: String
        var time: Double
        var zxid: UInt64
        var received: Int64?
        var uptimeMs: Int64?
    }
}

/// doctor: findings from logs and from the live ensemble, and one timeline of what happened to each server,
/// as report.md, report.json and report.html.
public struct DoctorReport: Codable, Sendable {
    public var findings: [Finding]
    public var scannedBytes: Int64
    public var scanSeconds: Double
    public var createdAt: String
    /// Every server's events on one time axis, zkrunbook's own runs among them.
    public var timeline: [TimelineEvent] = []
    /// Each live server's zxid and the rollover ETA where samples give a rate: the page's counter gauges.
    public var counters: [ZxidGauge] = []

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
        for path in expand(logs) { scanner.scan(path: path) }
        var events = scanner.events
        var nodeFindings: [Finding] = []
        var nodeBytes: Int64 = 0
        for (node, path) in nodeLogs {
            var own = LogScanner(lane: node)
            for file in expand([path]) { own.scan(path: file) }
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
        report.judgePlannedElections()
        report.sortFindings()
        return report
    }

    public mutating func sortFindings() {
        let order: [Finding.Severity: Int] = [.critical: 0, .warning: 1, .info: 2]
        findings.sort { (order[$0.severity]!, $0.node ?? "", $0.id) < (order[$1.severity]!, $1.node ?? "", $1.id) }
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
            findings[index].detail += "; \(planned.count) of them during zkrunbook's own runs (planned, not judged)"
                + (longest.map { "; the longest unplanned took \($0) ms" } ?? "; none unplanned")
        }
    }

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
                        detail: "counter \(leaderZxid.counter) of \(UInt32.max) in epoch \(leaderZxid.epoch); at the current rate it rolls over in \(RolloverEstimate.describe(eta)), forcing a leader election",
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
                detail: "\(server)'s packets-received counter dropped; without its uptime (mntr or the AdminServer) a restart cannot be told from `srst` or an in-process re-creation",
                count: 1, evidence: evidence, nextRunbook: "health-check")
        }
        if Double(uptimeMs) / 1000 < elapsed {
            let uptime = uptimeMs
            return Finding(
                id: "counters-reset-restart", severity: .warning, title: "A server restarted", detail: "\(server)'s counters dropped and its uptime (\(uptime / 1000) s) is shorter than the \(Int(elapsed)) s since the last sample: the process restarted",
                count: 1, evidence: evidence, nextRunbook: "health-check")
        }
        return Finding(
            id: "counters-reset-in-process", severity: .warning, title: "Counters reset without a restart",
            detail: "\(server)'s packets-received counter dropped while the process kept running: someone ran `srst`, or the server object was re-created inside the JVM (as after a forced election on zxid rollover; look for 'zxid lower 32 bits have rolled over' in the log)",
            count: 1, evidence: evidence, nextRunbook: "zxid-rollover-watch")
    }

    public var markdown: String {
        var lines = ["# zkrunbook doctor", "", "Scanned \(scannedBytes) bytes of logs at \(String(format: "%.0f", Double(scannedBytes) / 1_048_576 / max(scanSeconds, 0.000_001))) MB/s.", ""]
        if findings.isEmpty { lines.append("No known incident signature found.") }
        for finding in findings {
            lines.append("## \(finding.severity.rawValue.uppercased()): \(finding.title)" + (finding.node.map { " — \($0)" } ?? ""))
            lines.append("")
            lines.append(finding.detail)
            if let next = finding.nextRunbook { lines.append("") ; lines.append("Next: `zkrunbook run \(next)`") }
            lines.append("")
            lines += finding.evidence.map { "    " + $0 }
            lines.append("")
        }
        if !timeline.isEmpty {
            lines += ["## Timeline (UTC)", "", "| time | server | event | detail | lines | planned | evidence |", "| --- | --- | --- | --- | --- | --- | --- |"]
            let cell = { (text: String) in text.replacingOccurrences(of: "|", with: "\\|") }
            for event in timeline.prefix(500) {
                lines.append(
                    "| \(event.time) | \(cell(event.server)) | \(event.kind.rawValue) | \(cell(event.detail)) | \(event.count) | \(cell(event.plannedBy ?? "")) | \(cell(event.evidence ?? "")) |")
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
