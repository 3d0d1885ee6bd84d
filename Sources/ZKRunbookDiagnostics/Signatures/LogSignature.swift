import Foundation

/// A known incident as it shows in ZooKeeper's log: a fixed token found fast (memmem), what to measure on
/// each line that has it, and how to judge what was measured.
///
/// A new signature is one file with a type conforming to this, and one entry in `LogSignatures.all`.
protocol LogSignature: Sendable {
    var info: SignatureInfo { get }
    /// Reads what this signature measures from one matching line into `tally` (count and evidence are kept
    /// by the scanner).
    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally)
    /// The finding's severity and detail from everything measured; nil: nothing worth saying.
    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)?
    /// What one matching line puts on the timeline (none: the signature is not drawn).
    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark]
}

/// What a finding says of itself: its id, the fixed text every matching line holds, its severity before
/// judgement, its title, and the runbook to run next.
struct SignatureInfo: Sendable {
    var id: String
    var token: String
    var severity: Finding.Severity
    var title: String
    var nextRunbook: String?
    /// The text after which each matching line holds a number (a duration, a length): the largest is kept.
    var largestNumberAfter: String? = nil
    /// What each matching line is on the timeline.
    var timeline: TimelineEvent.Kind? = nil
    /// A line right after one holding this text is another incident's (a stack trace's head under "problem
    /// reading snap file" is a snapshot's, not a client's): not counted here.
    var notAfter: String? = nil
}

extension LogSignature {
    var id: String { info.id }
    var token: String { info.token }
    var severity: Finding.Severity { info.severity }
    var title: String { info.title }
    var nextRunbook: String? { info.nextRunbook }
    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        if let marker = info.largestNumberAfter, let number = LineBytes.number(after: marker, in: line) {
            tally.largest = max(tally.largest ?? number, number)
        }
    }
    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? { (severity, "\(tally.count) line(s)") }
    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        guard let kind = info.timeline else { return [] }
        let number = info.largestNumberAfter.flatMap { LineBytes.number(after: $0, in: line) }
        return [TimelineMark(kind: kind, detail: info.title + (number.map { " (\($0))" } ?? ""))]
    }
}

/// What one signature found: a count, the first lines as evidence, and what its `measure` keeps.
struct SignatureTally: Sendable {
    var count = 0
    var evidence: [String] = []
    /// The largest number measured (a duration in ms, a length in bytes).
    var largest: Int?
    /// Numbers seen in order (epochs), at most 50.
    var sequence: [UInt64] = []
    /// Names seen, with how often (client addresses).
    var names: [String: Int] = [:]
    /// The time span of the lines measured with a time, and the busiest second (a rate, not only a count).
    var firstMs: Int64?
    var lastMs: Int64?
    var second: (start: Int64, count: Int) = (0, 0)
    var peak: (start: Int64, count: Int) = (0, 0)

    /// Counts a line at `time` into the span and the busiest second.
    mutating func rate(at time: Int64) {
        (firstMs, lastMs) = (min(firstMs ?? time, time), max(lastMs ?? time, time))
        let start = time - time % 1000
        second = second.start == start ? (start, second.count + 1) : (start, 1)
        if second.count > peak.count { peak = second }
    }
}

/// A signature with nothing to measure: counted, its first lines kept.
struct FixedSignature: LogSignature {
    var info: SignatureInfo
    /// What to do, after the count (empty: the count alone).
    var advice: String

    init(
        id: String, token: String, severity: Finding.Severity, title: String, nextRunbook: String?, timeline: TimelineEvent.Kind? = nil,
        advice: String = ""
    ) {
        info = SignatureInfo(id: id, token: token, severity: severity, title: title, nextRunbook: nextRunbook, timeline: timeline)
        self.advice = advice
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        (severity, "\(tally.count) line(s)" + (advice.isEmpty ? "" : ": " + advice))
    }
}

/// Every signature doctor knows, in the order findings are reported.
enum LogSignatures {
    static let all: [any LogSignature] = [
        LeaderElectionSignature(),
        LookingSignature(),
        EpochChangeSignature(),
        LeaderEpochSignature(),
        FixedSignature(
            id: "zxid-rollover", token: "zxid lower 32 bits have rolled over", severity: .critical,
            title: "The zxid counter rolled over and forced a leader election", nextRunbook: "zxid-rollover-watch", timeline: .rollover),
        FixedSignature(
            id: "not-serving", token: "not currently serving requests", severity: .critical, title: "The server was not serving requests",
            nextRunbook: "health-check", timeline: .notServing),
        FixedSignature(
            id: "not-ready", token: "because the server is not ready", severity: .warning,
            title: "Client connections closed because the server was not ready", nextRunbook: "health-check", timeline: .notServing),
        FixedSignature(
            id: "connection-loss", token: "ConnectionLoss", severity: .warning, title: "Clients lost their connections", nextRunbook: "health-check",
            timeline: .connectionLoss),
        SlowFsyncSignature(),
        TooManyConnectionsSignature(),
        SessionExpirySignature(),
        FixedSignature(
            id: "quorum-channel", token: "Cannot open channel to", severity: .warning, title: "Servers could not reach each other (quorum/election ports)",
            nextRunbook: "health-check", timeline: .connectionLoss),
        FixedSignature(
            id: "followers-not-synced", token: "Not sufficient followers synced", severity: .critical,
            title: "The leader lost its quorum of synced followers", nextRunbook: "health-check", timeline: .connectionLoss),
        OversizedPacketSignature(),
        RequestOverMaxBufferSignature(),
        TLSOnPlaintextPortSignature(),
        ForeignProtocolSignature.request,
        ForeignProtocolSignature.payload,
        StartFailureSignatures.noSnapshot,
        StartFailureSignatures.databaseNotLoaded,
        StartFailureSignatures.snapshotUnreadable,
        StartFailureSignatures.portInUse,
        WriteAheadLogSignatures.criticalThread,
        WriteAheadLogSignatures.fileTooLarge,
        QuorumLossSignatures.notRunning,
        QuorumLossSignatures.followerDropped,
        ElectionStuckSignature(),
        JvmPauseSignature(),
        ServerStartSignature(),
        StandaloneStartSignature(),
        DiskFullSignature(),
    ]
}

/// Reading numbers and words out of a log line's bytes, without making it a String.
enum LineBytes {
    /// Where `marker` ends in `line` (the index just after it).
    static func end(of marker: String, in line: ArraySlice<UInt8>) -> Int? {
        var marker = marker
        return marker.withUTF8 { pattern in
            let found: Int? = line.withUnsafeBytes { raw in ByteSearch.first(UnsafeRawBufferPointer(pattern), in: raw, from: 0) }
            return found.map { line.startIndex + $0 + pattern.count }
        }
    }

    /// The whole number right after `marker`.
    static func number(after marker: String, in line: ArraySlice<UInt8>) -> Int? {
        guard var index = end(of: marker, in: line) else { return nil }
        var value = 0
        var digits = 0
        while index < line.endIndex, (48...57).contains(line[index]), digits < 18 {
            value = value * 10 + Int(line[index] - 48)
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }

    /// How many times a line stands for: N in ZooKeeper's rate-limited "[N times] Message: …", else 1.
    static func repeats(in line: ArraySlice<UInt8>) -> Int {
        guard var index = end(of: " times] ", in: line) else { return 1 }
        index -= " times] ".utf8.count
        var value = 0
        var scale = 1
        while index > line.startIndex, (48...57).contains(line[index - 1]), scale < 1_000_000_000 {
            value += Int(line[index - 1] - 48) * scale
            scale *= 10
            index -= 1
        }
        return index > line.startIndex && line[index - 1] == 0x5B && value > 0 ? value : 1
    }

    /// The hexadecimal number right after `marker`.
    static func hex(after marker: String, in line: ArraySlice<UInt8>) -> UInt64? {
        guard var index = end(of: marker, in: line) else { return nil }
        var value: UInt64 = 0
        var digits = 0
        while index < line.endIndex, digits < 16, let digit = hexDigit(line[index]) {
            value = value << 4 | UInt64(digit)
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }

    /// The word (up to a space) right after `marker`.
    static func word(after marker: String, in line: ArraySlice<UInt8>) -> String? {
        guard let start = end(of: marker, in: line) else { return nil }
        var index = start
        while index < line.endIndex, line[index] != 0x20, index - start < 80 { index += 1 }
        return index > start ? String(decoding: line[start..<index], as: UTF8.self) : nil
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }
}
