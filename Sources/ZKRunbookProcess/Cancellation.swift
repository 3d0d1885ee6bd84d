import Foundation

/// A thread-safe flag that long-running work polls to stop early (SIGINT, SIGTERM, a caller's abort).
///
/// Why a polled flag and not Swift task cancellation: the engine runs steps on plain threads and blocks on
/// child processes; a flag that the process runner checks every few milliseconds is what lets it tear the
/// child's process group down promptly.
public final class CancellationToken: @unchecked Sendable {
    private let lock = NSLock()
    private var reasonStorage: String?

    public init() {}

    /// Marks the token cancelled; the first reason given wins.
    public func cancel(reason: String) {
        lock.lock()
        if reasonStorage == nil { reasonStorage = reason }
        lock.unlock()
    }

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return reasonStorage != nil
    }

    /// Why the token was cancelled, or nil while it is not.
    public var reason: String? {
        lock.lock()
        defer { lock.unlock() }
        return reasonStorage
    }

    /// Sleeps for `seconds`, waking early when cancelled. Returns false if cancelled.
    @discardableResult
    public func sleep(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if isCancelled { return false }
            let remaining = deadline.timeIntervalSinceNow
            Thread.sleep(forTimeInterval: min(0.02, max(0, remaining)))
        }
        return !isCancelled
    }
}
