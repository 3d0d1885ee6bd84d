import Dispatch
import Foundation

/// Reads several pipes concurrently on one thread with poll(2), keeping a capped head and tail of each.
///
/// Draining from the moment of launch is what prevents the classic deadlock (child blocked writing to a full
/// pipe while the parent waits for it to exit). After the child exits, `finish(grace:)` gives a short grace
/// for the last bytes and then stops: a daemon the child started may hold the pipe open forever.
final class StreamDrain: @unchecked Sendable {
    private let fds: [Int32]
    private let headCap: Int
    private let tailCap: Int
    private let lock = NSLock()
    private var heads: [Data]
    private var tails: [Data]
    private var totals: [Int]
    private var stopAt: Date?
    private let done = DispatchSemaphore(value: 0)
    /// Called on the drain thread with each complete line of the first pipe (stdout), as it arrives.
    private let firstPipeLines: OutputLineHandler?
    private var pendingLine = Data()

    init(fds: [Int32], cap: Int, firstPipeLines: OutputLineHandler? = nil) {
        self.fds = fds
        self.firstPipeLines = firstPipeLines
        self.headCap = cap / 2
        self.tailCap = cap - cap / 2
        self.heads = Array(repeating: Data(), count: fds.count)
        self.tails = Array(repeating: Data(), count: fds.count)
        self.totals = Array(repeating: 0, count: fds.count)
    }

    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "zkrunbook.drain"
        thread.start()
    }

    /// Waits for end-of-file on every pipe, at most `grace` seconds from now.
    func finish(grace: Double) {
        lock.lock()
        stopAt = Date().addingTimeInterval(grace)
        lock.unlock()
        done.wait()
    }

    var outputs: [CapturedOutput] {
        lock.lock()
        defer { lock.unlock() }
        return (0..<fds.count).map { CapturedOutput(head: heads[$0], tail: tails[$0], totalBytes: totals[$0]) }
    }

    private func loop() {
        var open = Array(repeating: true, count: fds.count)
        let bufferSize = 65_536
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer {
            buffer.deallocate()
            // A last line without its newline is still a line.
            if let firstPipeLines, !pendingLine.isEmpty { firstPipeLines.handle(String(decoding: pendingLine, as: UTF8.self)) }
            done.signal()
        }
        while open.contains(true) {
            lock.lock()
            let stop = stopAt
            lock.unlock()
            if let stop, Date() >= stop { return }
            var pollSet: [pollfd] = []
            var indices: [Int] = []
            for (index, fd) in fds.enumerated() where open[index] {
                pollSet.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                indices.append(index)
            }
            let ready = poll(&pollSet, nfds_t(pollSet.count), 20)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if ready == 0 { continue }
            for (slot, entry) in pollSet.enumerated() where entry.revents != 0 {
                let index = indices[slot]
                let count = read(entry.fd, buffer, bufferSize)
                if count > 0 {
                    let chunk = Data(bytes: buffer, count: count)
                    append(chunk, to: index)
                    if index == 0, let firstPipeLines { deliverLines(chunk, to: firstPipeLines) }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open[index] = false
                }
            }
        }
    }

    /// Complete lines of `chunk` (with what an earlier chunk left unfinished) to `handler`, on this thread.
    private func deliverLines(_ chunk: Data, to handler: OutputLineHandler) {
        pendingLine.append(chunk)
        while let newline = pendingLine.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pendingLine[pendingLine.startIndex..<newline]
            handler.handle(String(decoding: line, as: UTF8.self))
            pendingLine = Data(pendingLine[pendingLine.index(after: newline)...])
        }
    }

    private func append(_ chunk: Data, to index: Int) {
        lock.lock()
        defer { lock.unlock() }
        totals[index] += chunk.count
        var rest = chunk
        if heads[index].count < headCap {
            let room = headCap - heads[index].count
            heads[index].append(rest.prefix(room))
            rest = rest.dropFirst(room)
        }
        guard !rest.isEmpty, tailCap > 0 else { return }
        tails[index].append(rest)
        if tails[index].count > tailCap {
            tails[index] = Data(tails[index].suffix(tailCap))
        }
    }
}
