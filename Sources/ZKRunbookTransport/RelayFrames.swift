import Foundation
import ZKRunbookProcess

/// What travels between a conductor and `zkrunbook relay` on a node, one JSON object per line: the conductor
/// asks it to run commands (several at once, told apart by `id`) and to cancel them; the relay says it is
/// ready, relays a command's stdout lines as they come, and says how each command ended.
///
/// Why a relay at all: every command sent over ssh is a new session on the node, and its login shell reads
/// its rc files first (a `pyenv init` there costs 150 ms a command on this machine, with a shared connection
/// or not); one session per node for the whole run pays that once.
public struct RelayRequest: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case run, cancel }

    public var id: Int
    public var kind: Kind
    public var argv: [String]?
    public var environment: [String: String]?
    public var unsetEnvironment: [String]?
    public var workingDirectory: String?
    public var timeout: Double?
    public var terminationGrace: Double?
    public var outputCap: Int?
    public var standardInput: Data?
    public var holdStandardInputOpen: Bool?
    /// Send each stdout line as it comes (the spec has a line handler).
    public var streamLines: Bool?
    /// Why a cancel.
    public var reason: String?

    public static func run(_ spec: CommandSpec, id: Int) -> RelayRequest {
        RelayRequest(
            id: id, kind: .run, argv: spec.argv, environment: spec.environment, unsetEnvironment: spec.unsetEnvironment,
            workingDirectory: spec.workingDirectory, timeout: spec.timeout, terminationGrace: spec.terminationGrace, outputCap: spec.outputCap,
            standardInput: spec.standardInput, holdStandardInputOpen: spec.holdStandardInputOpen, streamLines: spec.onStandardOutputLine != nil)
    }

    public static func cancel(_ id: Int, reason: String) -> RelayRequest { RelayRequest(id: id, kind: .cancel, reason: reason) }

    /// The command as the relay runs it on the node (no line handler: the relay sends lines itself).
    public var spec: CommandSpec? {
        guard kind == .run, let argv else { return nil }
        var spec = CommandSpec(
            argv: argv, environment: environment ?? [:], unsetEnvironment: unsetEnvironment ?? [], workingDirectory: workingDirectory,
            timeout: timeout ?? 60, terminationGrace: terminationGrace ?? 2, outputCap: outputCap ?? 1 << 20, standardInput: standardInput)
        spec.holdStandardInputOpen = holdStandardInputOpen ?? false
        return spec
    }
}

public struct RelayReply: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case ready, line, finished }

    public var id: Int
    public var kind: Kind
    /// `ready`: the relay's version, for messages.
    public var version: String?
    public var line: String?
    public var result: RelayResult?

    public init(id: Int, kind: Kind, version: String? = nil, line: String? = nil, result: RelayResult? = nil) {
        (self.id, self.kind, self.version, self.line, self.result) = (id, kind, version, line, result)
    }
}

/// A `CommandResult` on the wire: how the command ended, and the output kept.
public struct RelayResult: Codable, Sendable, Equatable {
    /// exited, signaled, timedOut, cancelled, spawnFailed, transportFailed.
    public var ending: String
    public var status: Int32?
    public var message: String?
    public var cause: FailureCause?
    public var stdoutHead: Data
    public var stdoutTail: Data
    public var stdoutBytes: Int
    public var stderrHead: Data
    public var stderrTail: Data
    public var stderrBytes: Int
    public var pid: Int32?
    public var seconds: Double

    public init(_ result: CommandResult) {
        (status, message, cause) = (nil, nil, nil)
        switch result.termination {
        case .exited(let code): (ending, status) = ("exited", code)
        case .signaled(let signal): (ending, status) = ("signaled", signal)
        case .timedOut: ending = "timedOut"
        case .cancelled(let why): (ending, message) = ("cancelled", why)
        case .spawnFailed(let why): (ending, message) = ("spawnFailed", why)
        case .transportFailed(let kind, let why): (ending, cause, message) = ("transportFailed", kind, why)
        }
        (stdoutHead, stdoutTail, stdoutBytes) = (result.stdout.head, result.stdout.tail, result.stdout.totalBytes)
        (stderrHead, stderrTail, stderrBytes) = (result.stderr.head, result.stderr.tail, result.stderr.totalBytes)
        (pid, seconds) = (result.pid, result.seconds)
    }

    public var commandResult: CommandResult {
        let termination: Termination
        switch ending {
        case "exited": termination = .exited(status ?? -1)
        case "signaled": termination = .signaled(status ?? 0)
        case "timedOut": termination = .timedOut
        case "cancelled": termination = .cancelled(message ?? "cancelled")
        case "transportFailed": termination = .transportFailed(kind: cause ?? .sshDropped, message: message ?? "")
        default: termination = .spawnFailed(message ?? "the relay said '\(ending)'")
        }
        return CommandResult(
            termination: termination, stdout: CapturedOutput(head: stdoutHead, tail: stdoutTail, totalBytes: stdoutBytes),
            stderr: CapturedOutput(head: stderrHead, tail: stderrTail, totalBytes: stderrBytes), pid: pid, seconds: seconds)
    }
}

/// Frames in and out: one JSON object per line.
enum RelayWire {
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        data.append(0x0A)
        return data
    }

    /// Splits `buffer` at newlines, leaving an unfinished line in it.
    static func lines(_ buffer: inout Data) -> [Data] {
        var lines: [Data] = []
        while let newline = buffer.firstIndex(of: 0x0A) {
            lines.append(buffer[buffer.startIndex..<newline])
            buffer.removeSubrange(buffer.startIndex...newline)
        }
        return lines
    }
}
