import Foundation

/// What to run: argv, environment additions, working directory and the limits that bound it.
///
/// A value type with explicit limits, so a caller always states how long a command may take and how much
/// output it may keep; nothing runs unbounded by default.
public struct CommandSpec: Sendable, Hashable {
    /// argv[0] is the executable: an absolute path, or a name looked up in PATH.
    public var argv: [String]
    /// Variables added to (or overriding) zkrunbook's own environment.
    public var environment: [String: String]
    /// Variables removed from the inherited environment.
    public var unsetEnvironment: [String]
    public var workingDirectory: String?
    /// Wall-clock limit; on expiry the process group gets SIGTERM, then SIGKILL after `terminationGrace`.
    public var timeout: Double
    public var terminationGrace: Double
    /// Bytes of stdout (and separately of stderr) kept; the rest is counted and dropped from the middle.
    public var outputCap: Int
    /// Bytes written to the child's stdin, then closed. Nil gives the child /dev/null.
    public var standardInput: Data?
    /// Keep the child's stdin open (writing nothing) until it exits, instead of /dev/null. The child
    /// learns that zkrunbook is gone — killed, or giving up — when it reads EOF: over ssh the remote
    /// command's stdin closes too. On timeout or cancellation stdin is closed first and the child gets
    /// `terminationGrace` to finish on its own (and report why) before SIGTERM.
    public var holdStandardInputOpen = false
    /// The child's stdout goes to this file (created 0600, or truncated) instead of being kept in memory:
    /// a download of any size (a node's diagnostics bundle through its transport).
    public var standardOutputFile: String?
    /// Each line of stdout as the child writes it (on a drain thread), besides what is kept: a node agent's
    /// events shown while the agent still works. Runners that cannot stream leave it uncalled.
    public var onStandardOutputLine: OutputLineHandler?
    /// Writes to the child's stdin while it runs (a relay's requests): attached once the child has started,
    /// closed when it ends, and closed first on timeout or cancellation, as a held stdin is.
    public var standardInputWriter: StandardInputWriter?

    public init(
        argv: [String], environment: [String: String] = [:], unsetEnvironment: [String] = [],
        workingDirectory: String? = nil, timeout: Double = 60, terminationGrace: Double = 2,
        outputCap: Int = 1 << 20, standardInput: Data? = nil
    ) {
        (self.argv, self.environment, self.unsetEnvironment, self.workingDirectory) = (argv, environment, unsetEnvironment, workingDirectory)
        (self.timeout, self.terminationGrace, self.outputCap, self.standardInput) = (timeout, terminationGrace, outputCap, standardInput)
    }
}

/// A callback for lines of output; every handler compares equal, so a spec stays a value to compare.
public struct OutputLineHandler: Sendable, Hashable {
    public let handle: @Sendable (String) -> Void

    public init(_ handle: @escaping @Sendable (String) -> Void) { self.handle = handle }

    public static func == (lhs: OutputLineHandler, rhs: OutputLineHandler) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

/// The writing end of a running child's stdin, for a caller that talks to the child while it runs. Every
/// writer compares equal, so a spec stays a value to compare.
public final class StandardInputWriter: @unchecked Sendable, Hashable {
    private let lock = NSLock()
    private var handle: FileHandle?
    private var closed = false

    public init() {}

    func attach(_ handle: FileHandle) {
        lock.withLock {
            if closed { try? handle.close() } else { self.handle = handle }
        }
    }

    /// Writes all of `data`; false when the child has not started, has ended, or the writer was closed.
    @discardableResult
    public func write(_ data: Data) -> Bool {
        lock.withLock {
            guard let handle, !closed else { return false }
            handle.writeAllIgnoringErrors(data)
            return true
        }
    }

    /// Closes the child's stdin (it reads EOF); later writes are dropped.
    public func close() {
        lock.withLock {
            closed = true
            try? handle?.close()
            handle = nil
        }
    }

    public static func == (lhs: StandardInputWriter, rhs: StandardInputWriter) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

/// How a command ended. A non-zero exit is an ordinary outcome here, not an error.
public enum Termination: Sendable, Hashable {
    case exited(Int32)
    case signaled(Int32)
    /// The timeout expired and the process group was torn down.
    case timedOut
    /// The cancellation token fired (SIGINT to zkrunbook, say) and the process group was torn down.
    case cancelled(String)
    /// The process never started: missing executable, not executable, bad working directory.
    case spawnFailed(String)
    /// The transport to a remote node failed (kind: ssh-unreachable, ssh-auth, ssh-host-key, ssh-dropped).
    case transportFailed(kind: FailureCause, message: String)

    /// What a shell (ssh's remote one, `sh -c`) exits with when the command is not there: an agent not installed.
    public static let commandNotFound = Termination.exited(127)

    /// Why the command failed, for events; nil when it exited 0.
    public var cause: FailureCause? {
        switch self {
        case .exited(0): return nil
        case .exited: return .exitStatus
        case .signaled: return .signaled
        case .timedOut: return .timeout
        case .cancelled: return .interrupted
        case .spawnFailed: return .spawnFailed
        case .transportFailed(let kind, _): return kind
        }
    }

    public var summary: String {
        switch self {
        case .exited(let status): return "exited with status \(status)"
        case .signaled(let signo): return "killed by signal \(signo)"
        case .timedOut: return "timed out"
        case .cancelled(let reason): return "stopped: \(reason)"
        case .spawnFailed(let why): return "could not start: \(why)"
        case .transportFailed(_, let message): return message
        }
    }
}

/// Output kept from one stream: the head and the tail, with the count of bytes dropped between them.
public struct CapturedOutput: Sendable, Hashable {
    public var head: Data
    public var tail: Data
    public var totalBytes: Int

    public init(head: Data = Data(), tail: Data = Data(), totalBytes: Int = 0) {
        (self.head, self.tail, self.totalBytes) = (head, tail, totalBytes)
    }

    public var droppedBytes: Int { totalBytes - head.count - tail.count }
    public var isTruncated: Bool { droppedBytes > 0 }

    /// The kept bytes as text, with a marker where bytes were dropped.
    public var text: String {
        let first = String(decoding: head, as: UTF8.self)
        if droppedBytes == 0 && tail.isEmpty { return first }
        let marker = droppedBytes > 0 ? "\n[… \(droppedBytes) bytes not kept …]\n" : ""
        return first + marker + String(decoding: tail, as: UTF8.self)
    }

    /// The last `limit` characters of the kept text: what an operator reads first after a failure.
    public func lastLines(_ count: Int) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let trimmed = lines.last == "" ? Array(lines.dropLast()) : lines
        return Array(trimmed.suffix(count))
    }
}

public struct CommandResult: Sendable, Hashable {
    public var termination: Termination
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput
    public var pid: Int32?
    public var seconds: Double

    public init(
        termination: Termination, stdout: CapturedOutput = CapturedOutput(),
        stderr: CapturedOutput = CapturedOutput(), pid: Int32? = nil, seconds: Double = 0
    ) {
        (self.termination, self.stdout, self.stderr, self.pid) = (termination, stdout, stderr, pid)
        (self.seconds) = (seconds)
    }

    public var exitStatus: Int32? {
        if case .exited(let status) = termination { return status }
        return nil
    }
}
