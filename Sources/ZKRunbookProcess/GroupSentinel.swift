import Foundation

/// Ends the process groups of a zkrunbook that was killed (SIGKILL, the OOM killer) while its commands ran.
///
/// Why a second process: nothing of a SIGKILLed process runs again, so a restart command it started (in a
/// process group of its own, so that a timeout reaches its grandchildren) would go on as an orphan and
/// restart the server after the conductor has moved on. The sentinel is a small zkrunbook beside it, told
/// each group as it starts and ends over a pipe only the watched process writes; when that pipe closes
/// (the watched process is gone, however it ended) the groups still told are sent SIGTERM, then SIGKILL.
/// Not PR_SET_PDEATHSIG: it fires when the spawning *thread* ends, and reaches only the direct child.
public final class GroupSentinel: @unchecked Sendable {
    /// The hidden subcommand the sentinel runs as (`zkrunbook __sentinel`).
    public static let subcommand = "__sentinel"

    private let writeEnd: Int32
    private let lock = NSLock()

    private init(writeEnd: Int32) { self.writeEnd = writeEnd }

    /// Starts a sentinel for this process (the same executable, `/proc/self/exe`) and routes every command
    /// `LocalCommandRunner` starts through it. nil (and nothing routed) where it cannot be started: the run
    /// goes on as before, without the guard.
    public static func start(grace: Double = 5) -> GroupSentinel? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        // Only this process may hold the write end: a child that inherited it would keep the pipe open
        // after this process died, and the sentinel would never be told.
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = [subcommand, "--grace", String(grace)]
        process.standardInput = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        // Not the agent's output: an ssh session stays open while anything holds it.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try SignalMask.withEmptyMask { try process.run() }
        } catch {
            close(fds[0])
            close(fds[1])
            return nil
        }
        close(fds[0])
        let sentinel = GroupSentinel(writeEnd: fds[1])
        LocalCommandRunner.groupObserver.set { pid, started in sentinel.tell(pid, started: started) }
        return sentinel
    }

    func tell(_ pid: Int32, started: Bool) {
        let line = Array("\(started ? "+" : "-")\(pid)\n".utf8)
        lock.withLock { _ = line.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) } }
    }

    /// The sentinel's side: reads `+PID` / `-PID` lines until the pipe closes, then ends every group still
    /// open (SIGTERM, `grace` seconds, SIGKILL). Returns how many groups it had to end.
    @discardableResult
    public static func watch(input: Int32 = STDIN_FILENO, grace: Double) -> Int {
        var open = Set<Int32>()
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(input, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[..<newline]
                pending.removeSubrange(...newline)
                guard let sign = line.first, let pid = Int32(String(decoding: line.dropFirst(), as: UTF8.self)), pid > 1 else { continue }
                if sign == UInt8(ascii: "+") { open.insert(pid) } else { open.remove(pid) }
            }
        }
        let live = open.filter { killpg($0, 0) == 0 }
        for group in live { _ = killpg(group, SIGTERM) }
        let end = Date().addingTimeInterval(max(0, grace))
        while Date() < end && live.contains(where: { killpg($0, 0) == 0 }) { usleep(20_000) }
        for group in live { _ = killpg(group, SIGKILL) }
        return live.count
    }
}

/// Who is told when `LocalCommandRunner` starts and ends a command's process group (the sentinel).
public final class GroupObserver: @unchecked Sendable {
    private let lock = NSLock()
    private var observer: (@Sendable (Int32, Bool) -> Void)?

    func set(_ observer: @escaping @Sendable (Int32, Bool) -> Void) { lock.withLock { self.observer = observer } }

    func tell(_ pid: Int32, started: Bool) { lock.withLock { observer }?(pid, started) }
}
