import Foundation
import ZKRunbookProcess

/// One thing that happened in a run, as printed with `--json` and written to the journal (JSON Lines).
///
/// A flat record with optional fields rather than an enum with payloads: every consumer (a log shipper,
/// `jq`, the journal reader) sees the same keys, and a new field never breaks an old reader.
/// `schema` is bumped only when a field changes meaning.
public struct Event: Codable, Sendable, Equatable {
    public static let schemaVersion = 1

    public enum Kind: String, Codable, Sendable {
        case runStarted = "run-started"
        case runResumed = "run-resumed"
        case runFinished = "run-finished"
        case stepStarted = "step-started"
        case guardEvaluated = "guard-evaluated"
        case stepFinished = "step-finished"
        case attemptStarted = "attempt-started"
        case attemptFailed = "attempt-failed"
        case rollbackStarted = "rollback-started"
        case rollbackFinished = "rollback-finished"
        /// A per-node procedure begins or ends on one node (rolling restart).
        case nodeStarted = "node-started"
        case nodeFinished = "node-finished"
        /// The run took its hold on what it changes (a runbook's `lease`), before its first change.
        case leaseTaken = "lease-taken"
    }

    public var schema: Int = Event.schemaVersion
    public var type: Kind
    public var time: String
    public var runID: String
    public var runbook: String?
    public var runbookPath: String?
    public var runbookSHA256: String?
    /// `forward` for the runbook's steps, `rollback` while undoing them.
    public var phase: Phase?
    public var step: String?
    public var index: Int?
    public var total: Int?
    public var description: String?
    public var action: String?
    public var readOnly: Bool?
    /// What the step does, in words and argv (secrets shown as ***).
    public var plan: [String]?
    public var command: [String]?
    public var attempt: Int?
    public var attempts: Int?
    public var timeoutMs: Int?
    /// Machine-readable cause of a failure: timeout, exit-status, guard-failed, spawn-failed, interrupted…
    public var cause: FailureCause?
    public var message: String?
    public var exitStatus: Int?
    /// For step-finished: succeeded, failed, continued (failed but non-critical), skipped (dry run).
    /// For run-finished: succeeded, failed, rolled-back, rollback-failed, refused, interrupted.
    public var status: EventStatus?
    public var verdict: String?
    public var fact: String?
    public var op: String?
    public var actual: FactValue?
    public var expected: FactValue?
    public var facts: [String: FactValue]?
    public var evidence: [String]?
    public var durationMs: Int?
    public var parameters: [String: String]?
    public var dryRun: Bool?
    public var exitCode: Int?
    public var steps: [String]?
    /// What is left for the operator once the run is done (the runbook's `afterwards`): on run-started of a
    /// plan, said first; on run-finished of a run that succeeded, said last.
    public var next: [String]?
    /// For step-started: how the step would be undone, one line per rollback step.
    public var rollback: [String]?
    public var lock: String?
    public var pid: Int?
    /// For events from inside a per-node procedure or a remote agent: the node's id and host.
    public var node: Int?
    public var nodeHost: String?
    /// The machine whose zkrunbook emitted the event (an agent's events keep their node's).
    public var host: String?
    /// For an agent's events relayed by its conductor: the conductor's run, whose step started this one.
    public var parentRunID: String?
    /// For a nested step's events: the step of the outer runbook that runs it.
    public var parentStep: String?

    public init(type: Kind, runID: String, time: Date = Date()) {
        self.type = type
        self.runID = runID
        self.time = Event.timestamp(time)
    }

    /// UTC with milliseconds, `2026-11-27T18:54:02.726Z` (ISO 8601, as ISO8601DateFormatter writes it).
    /// By hand: a new ISO8601DateFormatter opens an ICU formatter, half of a whole offline `plan`.
    public static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        let milliseconds = min(999, Int(((interval - interval.rounded(.down)) * 1000).rounded(.down)))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return "\(digits(parts.tm_year + 1900, 4))-\(digits(parts.tm_mon + 1, 2))-\(digits(parts.tm_mday, 2))T"
            + "\(digits(parts.tm_hour, 2)):\(digits(parts.tm_min, 2)):\(digits(parts.tm_sec, 2)).\(digits(Int32(milliseconds), 3))Z"
    }

    /// The milliseconds since 1970 of a `timestamp` (`2026-11-27T18:54:02.726Z`); nil for any other shape.
    public static func milliseconds(_ timestamp: String) -> Int64? {
        let bytes = Array(timestamp.utf8)
        guard bytes.count == 24, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A, bytes[16] == 0x3A, bytes[19] == 0x2E,
            bytes[23] == 0x5A
        else { return nil }
        func number(_ offset: Int, _ width: Int) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[offset..<offset + width] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2), let minute = number(14, 2),
            let second = number(17, 2), let millisecond = number(20, 3)
        else { return nil }
        var parts = tm()
        (parts.tm_year, parts.tm_mon, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec) = (year - 1900, month - 1, day, hour, minute, second)
        return Int64(timegm(&parts)) * 1000 + Int64(millisecond)
    }

    /// `value` in decimal, zero-padded to `width` digits.
    static func digits(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// One line of JSON, keys sorted so diffs of journals stay readable.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Where events go: the terminal, `--json` output, the journal. The seam between engine and presentation.
public protocol EventSink: Sendable {
    func emit(_ event: Event)
}

/// Sends each event to several sinks, in order (journal first, so a crash after printing loses nothing).
public struct EventFanout: EventSink {
    public var sinks: [any EventSink]
    public init(_ sinks: [any EventSink]) { self.sinks = sinks }
    public func emit(_ event: Event) { for sink in sinks { sink.emit(event) } }
}

/// Says which machine emitted each event (`host`), unless an agent on another machine already did: the
/// run service puts it before both the journal and the caller's sink.
public struct HostStampingSink: EventSink {
    public var inner: any EventSink
    public var host: String
    public init(_ inner: any EventSink, host: String) { (self.inner, self.host) = (inner, host) }
    public func emit(_ event: Event) {
        var event = event
        event.host = event.host ?? host
        inner.emit(event)
    }
}

/// Collects events in memory: for tests and for callers that render after the fact.
public final class EventRecorder: EventSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Event] = []
    public init() {}
    public func emit(_ event: Event) {
        lock.lock()
        stored.append(event)
        lock.unlock()
    }
    public var events: [Event] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

/// Writes JSON Lines to a file handle (stdout for `--json`).
public final class JSONLinesSink: EventSink, @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    public init(handle: FileHandle = .standardOutput) { self.handle = handle }
    public func emit(_ event: Event) {
        lock.lock()
        defer { lock.unlock() }
        try? handle.write(contentsOf: Data((event.jsonLine() + "\n").utf8))
    }
}

/// Replaces every secret parameter value with *** in the strings an event carries.
///
/// Applied to every event before any sink sees it, so neither the terminal, `--json` nor the journal can
/// hold a secret, even when a command echoes it back on stderr.
public struct Redactor: Sendable {
    public var secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }

    public func redact(_ value: FactValue) -> FactValue {
        switch value {
        case .string(let text): return .string(redact(text))
        case .list(let values): return .list(values.map(redact))
        default: return value
        }
    }

    public func redact(_ event: Event) -> Event {
        guard !secrets.isEmpty else { return event }
        var out = event
        out.message = event.message.map(redact)
        out.plan = event.plan?.map(redact)
        out.command = event.command?.map(redact)
        out.evidence = event.evidence?.map(redact)
        out.description = event.description.map(redact)
        out.actual = event.actual.map(redact)
        out.expected = event.expected.map(redact)
        out.facts = event.facts?.mapValues(redact)
        out.parameters = event.parameters?.mapValues(redact)
        return out
    }
}
