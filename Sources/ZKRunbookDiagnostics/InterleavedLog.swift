import Foundation

/// One file that holds several servers' lines: `docker compose logs` (`zookeeper_1  | `), `kubectl logs
/// --prefix` (`[pod/zk-0/zookeeper] `), or a collector that interleaves servers naming themselves
/// (`[myid:2]`). Each line goes to the server that wrote it, its file and line number kept, so each server
/// is judged alone (three servers' starts are three starts, not two restarts). A line naming no source (a
/// stack trace's) belongs to the line before it.
enum InterleavedLog {
    /// Who wrote a line: a container's prefix, else the myid it names; nil for a continuation.
    enum Source: Hashable {
        case prefix(String)
        case myid(Int)
    }

    static func source(of line: UnsafeRawBufferPointer) -> Source? {
        let head = min(line.count, 200)
        guard head > 0 else { return nil }
        // kubectl logs --prefix: "[pod/NAME/CONTAINER] ".
        if line.starts(with: Array("[pod/".utf8)), let close = line[0..<head].firstIndex(of: 0x5D) {
            return .prefix(String(decoding: line[1..<close], as: UTF8.self))
        }
        // docker compose: a service name, padding, " | ".
        var index = 0
        while index < min(head, 64), Self.nameByte(line[index]) { index += 1 }
        let name = index
        while index < min(head, 64), line[index] == 0x20 { index += 1 }
        if name > 0, index > name, index + 1 < head, line[index] == 0x7C, line[index + 1] == 0x20 {
            return .prefix(String(decoding: line[0..<name], as: UTF8.self))
        }
        return myid(in: UnsafeRawBufferPointer(rebasing: line[0..<head])).map { .myid($0) }
    }

    /// The first "myid:N" or "myid=N" in the bytes.
    static func myid(in bytes: UnsafeRawBufferPointer) -> Int? {
        var first: Int?
        LogServerIdentity.mentions(in: bytes) { id in
            first = id
            return false
        }
        return first
    }

    private static func nameByte(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 0x5F || byte == 0x2D || byte == 0x2E
    }

    /// The sources of a file's first 256 KiB with their lines; a file is interleaved when two or more sources
    /// each wrote at least one line in twenty.
    static func isInterleaved(_ path: String) -> Bool {
        guard !path.hasSuffix(".gz"), let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let data = handle.readData(ofLength: LogServerIdentity.window)
        var counts: [Source: Int] = [:]
        data.withUnsafeBytes { raw in forEachLine(raw) { line in if let source = source(of: line) { counts[source, default: 0] += 1 } } }
        let total = counts.values.reduce(0, +)
        return counts.values.filter { $0 * 20 >= total }.count >= 2
    }

    static func forEachLine(_ data: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start < data.count {
            let end = data[start...].firstIndex(of: 0x0A) ?? data.count
            body(UnsafeRawBufferPointer(rebasing: data[start..<end]))
            start = end + 1
        }
    }

    /// Each server's lines of `path` scanned into its own scanner: the server's myid where its lines name one
    /// (a container's most named), and the scanner.
    static func scan(path: String) -> [(id: Int?, name: String, scanner: LogScanner)] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        var order: [Source] = []
        var scanners: [Source: Int] = [:]
        var all: [LogScanner] = []
        var ids: [Source: [Int: Int]] = [:]
        var current: Source?
        var line = 1
        var carry: [UInt8] = []
        // Read 4 MiB at a time: whole lines are handed on, an unfinished last line waits for the next read.
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            let finished = chunk.isEmpty
            var buffer = carry
            buffer.append(contentsOf: chunk)
            let complete = finished ? buffer.count : (buffer.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
            buffer.withUnsafeBytes { whole in
                let raw = UnsafeRawBufferPointer(rebasing: whole[0..<complete])
                var runStart = 0
                var runLine = line
                func flush(upTo end: Int) {
                    guard end > runStart else { return }
                    let owner = current ?? .prefix("unattributed")
                    if scanners[owner] == nil {
                        scanners[owner] = all.count
                        order.append(owner)
                        var scanner = LogScanner(lane: "?")
                        scanner.begin(path)
                        all.append(scanner)
                    }
                    let run = UnsafeRawBufferPointer(rebasing: raw[runStart..<end])
                    all[scanners[owner]!].bytesScanned += Int64(run.count)
                    if run.last == 0x0A {
                        _ = all[scanners[owner]!].scanComplete(run, name: path, firstLine: runLine)
                    } else {
                        _ = (Array(run) + [0x0A]).withUnsafeBytes { all[scanners[owner]!].scanComplete($0, name: path, firstLine: runLine) }
                    }
                }
                var start = 0
                while start < raw.count, let base = raw.baseAddress {
                    let end = memchr(base + start, 0x0A, raw.count - start).map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? raw.count
                    let text = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    if let source = source(of: text) {
                        if case .prefix = source, let id = myid(in: UnsafeRawBufferPointer(rebasing: text.prefix(240))) {
                            ids[source, default: [:]][id, default: 0] += 1
                        }
                        if source != current {
                            flush(upTo: start)
                            (current, runStart, runLine) = (source, start, line)
                        }
                    }
                    line += 1
                    start = end
                }
                flush(upTo: raw.count)
            }
            carry = Array(buffer[complete...])
            if finished { break }
        }
        return order.map { source in
            let id: Int?
            let name: String
            switch source {
            case .myid(let value): (id, name) = (value, "server \(value)")
            case .prefix(let prefix):
                id = ids[source]?.max { $0.value < $1.value }?.key
                name = id.map { "server \($0)" } ?? prefix
            }
            return (id, name, all[scanners[source]!])
        }
    }
}
