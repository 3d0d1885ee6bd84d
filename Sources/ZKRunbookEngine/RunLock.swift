import Foundation

/// Two runs may not act on the same target at once; the second is told who holds the lock.
public struct LockHeld: Error, Sendable, CustomStringConvertible {
    public var lockName: String
    public var path: String
    public var holder: String

    public var description: String {
        "error: another run holds the lock '\(lockName)' (\(path)): \(holder); wait for it to finish, or resume it"
    }
}

/// An exclusive flock(2) on `STATE/locks/NAME.lock`, released when this value is released or the process dies.
///
/// flock is tied to the open file, so a run that is SIGKILLed frees its lock at once: there is no stale
/// lock file to delete by hand. The file records who holds it, for the message the next run prints.
public final class RunLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32

    public static func acquire(
        name: String, layout: StateLayout, runID: String, runbook: String
    ) throws -> RunLock {
        try layout.createDirectory(layout.locksDirectory)
        let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        let path = layout.locksDirectory + "/" + safeName + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw JournalError.cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw LockHeld(lockName: name, path: path, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "holder unknown")
        }
        let record = "pid \(getpid()), run \(runID), runbook \(runbook), since \(Event.timestamp(Date()))\n"
        _ = ftruncate(fd, 0)
        // Not fsynced: the record only names the holder to a run refused while the lock is held, and no
        // lock outlives a crash (flock ends with the process).
        _ = record.withCString { pwrite(fd, $0, strlen($0), 0) }
        return RunLock(path: path, fd: fd)
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
