import CZKRunbookBytes
import Dispatch
import Foundation

/// The seam through which everything in zkrunbook runs a command: locally, over ssh or through kubectl exec.
public protocol CommandRunner: Sendable {
    /// Runs `spec` to completion, timeout or cancellation. Never throws: every way a command can end,
    /// including failing to start, is a `Termination` in the result.
    func run(_ spec: CommandSpec, cancellation: CancellationToken?) -> CommandResult
}

/// Runs commands on this machine through Foundation `Process`.
///
/// Hygiene, in the order it matters: stdout and stderr are drained from launch by one poll(2) thread with a
/// byte cap, so a chatty child never blocks on a full 64 KiB pipe; `terminationHandler` is set before
/// `run()`, so a fast exit is never missed; the child leads its own process group (Foundation on Linux puts
/// it there), so on timeout or cancellation SIGTERM and then SIGKILL reach grandchildren too.
public struct LocalCommandRunner: CommandRunner {
    /// Told of each command's process group as it starts and ends (a `GroupSentinel`, where one runs).
    public static let groupObserver = GroupObserver()

    public init() {}

    public func run(_ spec: CommandSpec, cancellation: CancellationToken? = nil) -> CommandResult {
        let started = Date()
        guard let first = spec.argv.first, !first.isEmpty else {
            return CommandResult(termination: .spawnFailed("empty argv: nothing to run"))
        }
        var environment = ProcessInfo.processInfo.environment
        for name in spec.unsetEnvironment { environment[name] = nil }
        for (name, value) in spec.environment { environment[name] = value }
        let executable: String
        switch ExecutableLocator.locate(first, path: environment["PATH"]) {
        case .success(let path): executable = path
        case .failure(let why): return CommandResult(termination: .spawnFailed(why.message))
        }
        if let directory = spec.workingDirectory {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                return CommandResult(termination: .spawnFailed("working directory \(directory) does not exist"))
            }
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(spec.argv.dropFirst())
        process.environment = environment
        if let directory = spec.workingDirectory {
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        var outputFile: FileHandle?
        if let path = spec.standardOutputFile {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: path)
            else { return CommandResult(termination: .spawnFailed("cannot create \(path) for the command's output")) }
            outputFile = handle
            process.standardOutput = handle
        } else {
            process.standardOutput = stdoutPipe
        }
        process.standardError = stderrPipe
        let stdinPipe: Pipe?
        if spec.standardInput != nil || spec.holdStandardInputOpen || spec.standardInputWriter != nil {
            let pipe = Pipe()
            process.standardInput = pipe
            stdinPipe = pipe
        } else {
            process.standardInput = FileHandle.nullDevice
            stdinPipe = nil
        }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }

        let drain = StreamDrain(
            fds: [stdoutPipe.fileHandleForReading.fileDescriptor, stderrPipe.fileHandleForReading.fileDescriptor],
            cap: max(0, spec.outputCap), firstPipeLines: spec.standardOutputFile == nil ? spec.onStandardOutputLine : nil)
        do {
            try SignalMask.withEmptyMask { try process.run() }
        } catch {
            return CommandResult(
                termination: .spawnFailed("\(executable): \(error.localizedDescription)"),
                seconds: Date().timeIntervalSince(started))
        }
        let pid = process.processIdentifier
        Self.groupObserver.tell(pid, started: true)
        defer { Self.groupObserver.tell(pid, started: false) }
        // Written to a file: the pipe gets no writer, so its drain ends at once.
        if outputFile != nil { try? stdoutPipe.fileHandleForWriting.close() }
        drain.start()
        if let stdinPipe, let writer = spec.standardInputWriter { writer.attach(stdinPipe.fileHandleForWriting) }
        if let stdinPipe, let input = spec.standardInput {
            let writer = stdinPipe.fileHandleForWriting
            Thread.detachNewThread {
                writer.writeAllIgnoringErrors(input)
                try? writer.close()
            }
        }

        var termination: Termination?
        var observedExit: Termination?
        let deadline = started.addingTimeInterval(spec.timeout)
        let watch = ExitWatch(pid)
        defer { watch.close() }
        var finished = false
        while !finished {
            if watch.wait(milliseconds: 10, orUntil: exited) {
                finished = true
                break
            }
            if case .exited(let status) = ExitProbe.peek(pid) {
                observedExit = status
                finished = true
                break
            }
            if let cancellation, let reason = cancellation.reason {
                termination = .cancelled(reason)
            } else if Date() >= deadline {
                termination = .timedOut
            }
            if termination != nil {
                if spec.holdStandardInputOpen || spec.standardInputWriter != nil, let stdinPipe {
                    if let writer = spec.standardInputWriter { writer.close() } else { try? stdinPipe.fileHandleForWriting.close() }
                    let graceEnd = Date().addingTimeInterval(max(0, spec.terminationGrace))
                    while Date() < graceEnd && ExitProbe.peek(pid) == .running {
                        if exited.wait(timeout: .now() + .milliseconds(10)) == .success { break }
                    }
                }
                Self.tearDown(group: pid, grace: spec.terminationGrace, exited: exited)
                finished = true
            }
        }
        drain.finish(grace: 0.25)
        if let writer = spec.standardInputWriter { writer.close() } else if spec.holdStandardInputOpen { try? stdinPipe?.fileHandleForWriting.close() }
        try? stdoutPipe.fileHandleForReading.close()
        try? stderrPipe.fileHandleForReading.close()
        try? outputFile?.close()
        if termination == nil, let observedExit {
            termination = observedExit
        } else if termination == nil {
            switch process.terminationReason {
            case .exit: termination = .exited(process.terminationStatus)
            case .uncaughtSignal: termination = .signaled(process.terminationStatus)
            @unknown default: termination = .exited(process.terminationStatus)
            }
        }
        let outputs = drain.outputs
        return CommandResult(
            termination: termination!, stdout: outputs[0], stderr: outputs[1], pid: pid,
            seconds: Date().timeIntervalSince(started))
    }

    /// SIGTERM to the whole process group, a grace period, then SIGKILL to whatever of the group is left.
    /// Returns once the leader has exited (or after 10 s more if even SIGKILL did not end it).
    ///
    /// SIGKILL goes to the group even when the leader obeyed SIGTERM: a grandchild that ignores SIGTERM
    /// (or was simply never told) would otherwise outlive the step as an orphan.
    static func tearDown(group pid: Int32, grace: Double, exited: DispatchSemaphore) {
        _ = killpg(pid, SIGTERM)
        let graceEnd = Date().addingTimeInterval(max(0, grace))
        while Date() < graceEnd && ExitProbe.peek(pid) == .running {
            if exited.wait(timeout: .now() + .milliseconds(10)) == .success { break }
        }
        _ = killpg(pid, SIGKILL)
        let killEnd = Date().addingTimeInterval(10)
        while Date() < killEnd && ExitProbe.peek(pid) == .running {
            if exited.wait(timeout: .now() + .milliseconds(10)) == .success { break }
        }
    }
}

/// Spawns with an empty signal mask on the calling thread.
///
/// posix_spawn hands the spawning thread's mask to the child, and Dispatch worker threads block most
/// signals: a child started from one would ignore the SIGTERM meant to stop it on timeout.
enum SignalMask {
    static func withEmptyMask<T>(_ body: () throws -> T) rethrows -> T {
        var empty = sigset_t()
        var previous = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }
}

/// Waits for a child's exit to be seen, woken by the exit itself where the kernel gives a pidfd, so a short
/// command is not charged the rest of a polling tick; otherwise by Foundation's termination handler or the
/// tick's end.
struct ExitWatch {
    private let pid: Int32
    private let pidfd: Int32

    init(_ pid: Int32) {
        self.pid = pid
        pidfd = zkrunbook_pidfd_open(pid)
    }

    /// True when Foundation's handler has signalled `exited`; false after at most `milliseconds`, or as soon
    /// as the child has exited (then `ExitProbe.peek` reads how).
    func wait(milliseconds: Int, orUntil exited: DispatchSemaphore) -> Bool {
        guard pidfd >= 0 else { return exited.wait(timeout: .now() + .milliseconds(milliseconds)) == .success }
        if exited.wait(timeout: .now()) == .success { return true }
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        if poll(&entry, 1, Int32(milliseconds)) > 0, ExitProbe.peek(pid) == .gone {
            // Already reaped by Foundation, whose handler is about to signal: wait for that, not a spin.
            return exited.wait(timeout: .now() + .milliseconds(milliseconds)) == .success
        }
        return false
    }

    func close() { if pidfd >= 0 { Glibc.close(pidfd) } }
}

/// Sees whether a child has exited without reaping it.
///
/// Foundation on Linux calls `terminationHandler` only once the child's pipes are closed, so a child that
/// leaves a daemon holding its stdout would look alive for as long as the daemon lives. `waitid` with
/// `WNOWAIT` reads the exit status and leaves the zombie for Foundation to reap.
/// Once Foundation (or an auto-reaping SIGCHLD disposition) has reaped the child, `.gone` says only that it
/// is no longer running.
enum ExitProbe: Equatable {
    case running
    case exited(Termination)
    case gone

    static func peek(_ pid: Int32) -> ExitProbe {
        var info = siginfo_t()
        let rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if rc != 0 { return errno == ECHILD ? .gone : .running }
        guard info._sifields._kill.si_pid == pid else { return .running }
        let status = info._sifields._sigchld.si_status
        switch info.si_code {
        case Int32(CLD_EXITED): return .exited(.exited(status))
        case Int32(CLD_KILLED), Int32(CLD_DUMPED): return .exited(.signaled(status))
        default: return .running
        }
    }
}

/// Finds the file to execute for argv[0], with the reason in words when there is none.
public enum ExecutableLocator {
    public struct NotFound: Error, Sendable { public let message: String }

    public static func locate(_ name: String, path: String?) -> Result<String, NotFound> {
        if name.contains("/") {
            guard FileManager.default.fileExists(atPath: name) else {
                return .failure(NotFound(message: "\(name): no such file"))
            }
            guard access(name, X_OK) == 0 else {
                return .failure(NotFound(message: "\(name): not executable"))
            }
            return .success(name)
        }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return .success(candidate) }
        }
        return .failure(NotFound(message: "'\(name)' not found in PATH (\(path ?? "unset"))"))
    }
}

extension FileHandle {
    /// Writes everything, giving up quietly when the reader has gone (the child closed stdin early).
    public func writeAllIgnoringErrors(_ data: Data) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = Glibc.write(fileDescriptor, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                remaining -= written
                pointer += written
            }
        }
    }
}
