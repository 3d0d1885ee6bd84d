import CZKRunbookBytes
import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

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
    /// Recognised lines whose time could not be read (no date and time in their first bytes, nor on a line just
    /// before): counted in their findings, missing from the timeline, and said so.
    private var untimed = 0
    private var untimedExample: String?
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

    /// The fixed text of every signature, each once, in order: what a `grep -F -f` of the same work would look for.
    public static var signatureTokens: [String] { uniqueTokens }

    /// Each token once: several signatures read the same lines ("Len error": a request too large, a TLS hello,
    /// another protocol's text), and a token is searched for once whoever reads its lines.
    static let uniqueTokens: [String] = signatures.map(\.token).reduce(into: []) { tokens, token in
        if !tokens.contains(token) { tokens.append(token) }
    }
    /// The signatures each unique token's lines go to, in the signatures' order.
    static let signaturesOfToken: [[Int]] = uniqueTokens.map { token in signatures.indices.filter { signatures[$0].token == token } }

    /// Every signature's token, searched for together in one pass (`zkrunbook_all_tokens`).
    static let tokens = TokenSet(uniqueTokens)

    /// Scans whole lines; returns the number of the line after them. A signature counts once per line.
    mutating func scanComplete(_ chunk: UnsafeRawBufferPointer, name: String, firstLine: Int) -> Int {
        guard let base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return firstLine }
        var line = firstLine
        var cursor = 0
        var countedUpTo = [Int](repeating: -1, count: Self.signatures.count)
        // One buffer for every matching line's bytes: a line is copied out only to be measured.
        var lineBytes: [UInt8] = []
        lineBytes.reserveCapacity(4096)
        Self.tokens.forEachHit(in: base, count: chunk.count) { position, token in
            for index in Self.signaturesOfToken[token] {
                guard position > countedUpTo[index] else { continue }
                line += Self.newlines(in: chunk, from: cursor, to: position)
                cursor = position
                let start = lineStart(in: chunk, before: position)
                if let marker = Self.notAfter[index], Self.previousLine(before: start, in: chunk, contains: marker) { continue }
                let end =
                    memchr(base + position, 0x0A, chunk.count - position).map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? chunk.count
                countedUpTo[index] = end
                lineBytes.removeAll(keepingCapacity: true)
                lineBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<end]))
                record(index, line: lineBytes[...], location: { "\(name):\(line)" }, earlierTime: { Self.timeOfLine(before: start, in: chunk) })
            }
        }
        return line + Self.newlines(in: chunk, from: cursor, to: chunk.count)
    }

    static let notAfter: [[UInt8]?] = signatures.map { $0.info.notAfter.map { Array($0.utf8) } }

    /// Whether the line that ends just before `start` holds `marker`.
    static func previousLine(before start: Int, in chunk: UnsafeRawBufferPointer, contains marker: [UInt8]) -> Bool {
        guard start > 1, let base = chunk.baseAddress else { return false }
        let from = zkrunbook_last_byte(base, 0x0A, start - 1).map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? 0
        return marker.withUnsafeBytes { ByteSearch.first($0, in: UnsafeRawBufferPointer(rebasing: chunk[from..<(start - 1)]), from: 0) != nil }
    }

    /// The time of the nearest line before `position` that starts with one (a stack trace's lines have none:
    /// they belong to the line above), at most 50 lines back.
    static func timeOfLine(before position: Int, in chunk: UnsafeRawBufferPointer) -> Int64? {
        guard let base = chunk.baseAddress else { return nil }
        var end = position - 1
        for _ in 0..<50 where end > 0 {
            let start = zkrunbook_last_byte(base, 0x0A, end).map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? 0
            let line = Array(UnsafeRawBufferPointer(rebasing: chunk[start..<min(start + LogClock.searchWindow + 40, end)]))
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

    /// Newlines in chunk[from..<to] (counted 32 bytes at a time).
    static func newlines(in chunk: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        guard from < to, let base = chunk.baseAddress else { return 0 }
        return zkrunbook_count_byte(base + from, 0x0A, to - from)
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
        // The time read once, with the scanner's clock (one mktime a day): the finding's span and the signature's
        // rate are counted from it.
        let time = clock.milliseconds(line) ?? earlierTime()
        if let time { tallies[index]!.rate(at: time) }
        guard let (kind, place) = Self.timelineKinds[index] else { return }
        guard let endMs = time else {
            untimed += 1
            if untimedExample == nil { untimedExample = "\(location()): \(String(decoding: line.prefix(160), as: UTF8.self))" }
            return
        }
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
        var found: [Finding] = Self.signatures.indices.compactMap { index in
            let signature = Self.signatures[index]
            guard let tally = tallies[index], let (severity, detail) = signature.judge(tally) else { return nil }
            var finding = Finding(
                id: signature.id, severity: severity, title: signature.title, detail: detail, count: tally.count, evidence: tally.evidence,
                nextRunbook: signature.nextRunbook)
            (finding.firstMs, finding.lastMs) = (tally.firstMs, tally.lastMs)
            return finding
        }
        if untimed > 0 {
            found.append(
                Finding(
                    id: "lines-without-time", severity: .warning, title: "Recognised lines without a time doctor can read",
                    detail:
                        "\(untimed) line(s) matched a signature but carry no date and time doctor can read in their first \(LogClock.searchWindow) bytes (YYYY-MM-DD HH:MM:SS, a T or a space): "
                        + "they are counted in their findings and missing from the timeline; log the date with the time (a logback or log4j pattern with %d{ISO8601})",
                    count: untimed, evidence: untimedExample.map { [$0] } ?? [], nextRunbook: nil))
        }
        return found
    }
}
