import Foundation

/// Which server wrote a log, from the log itself: ZooKeeper's own layouts name it on most lines (`[myid:3]` in
/// the log4j and logback pattern it ships, `QuorumPeer[myid=3]` and `WorkerReceiver[myid=3]` in its thread
/// names, "Starting quorum peer, myid=3"; a log that names its id in none of these is left as a file). Three servers' logs given together are three servers, and a rotated
/// `zookeeper.log.1` is the same server as its `zookeeper.log`; a file that names several servers (a collector's
/// output) or none is left as a file.
public enum LogServerIdentity {
    /// How much of a file is read to find its server: its start names it on most lines.
    static let window = 256 << 10

    /// The one server `path` names; nil when it names none or several (none more than nine in ten of the mentions).
    /// Read on the bytes (memchr/memcmp): "myid" then ':' or '=' then the id.
    public static func myid(ofFile path: String) -> Int? {
        guard let data = head(of: path) else { return nil }
        var counts: [Int: Int] = [:]
        data.withUnsafeBytes { raw in
            mentions(in: raw) { id in
                counts[id, default: 0] += 1
                return true
            }
        }
        let total = counts.values.reduce(0, +)
        guard let (id, count) = counts.max(by: { $0.value < $1.value }), total > 0, count * 10 >= total * 9 else { return nil }
        return id
    }

    /// Each "myid:N" or "myid=N" (up to six digits) in `raw`, in order, while `body` returns true.
    static func mentions(in raw: UnsafeRawBufferPointer, _ body: (Int) -> Bool) {
        var marker = "myid"
        marker.withUTF8 { pattern in
            var index = 0
            while let found = ByteSearch.first(UnsafeRawBufferPointer(pattern), in: raw, from: index) {
                var at = found + pattern.count
                index = at
                guard at < raw.count, raw[at] == 0x3A || raw[at] == 0x3D else { continue }
                at += 1
                var value = 0
                var digits = 0
                while at < raw.count, (48...57).contains(raw[at]), digits < 6 {
                    value = value * 10 + Int(raw[at] - 48)
                    digits += 1
                    at += 1
                }
                if digits > 0, !body(value) { return }
            }
        }
    }

    /// A file's first `window` bytes; a compressed one's (a rotated `zookeeper.log.1.gz`) through gzip -dc.
    static func head(of path: String) -> Data? {
        guard path.hasSuffix(".gz") else {
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            return handle.readData(ofLength: window)
        }
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/bin/gzip") ? "/bin/gzip" : "/usr/bin/gzip")
        gunzip.arguments = ["-dc", path]
        let pipe = Pipe()
        gunzip.standardOutput = pipe
        gunzip.standardError = FileHandle.nullDevice
        guard (try? gunzip.run()) != nil else { return nil }
        var data = Data()
        while data.count < window {
            let chunk = pipe.fileHandleForReading.readData(ofLength: window - data.count)
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        // Enough read: gzip may be stopped (SIGPIPE when it writes on).
        try? pipe.fileHandleForReading.close()
        gunzip.waitUntilExit()
        return data
    }

    /// `files` grouped by the server each names, each group oldest first (a rotated `.1` before the live file);
    /// and the files that name no single server.
    public static func group(_ files: [String]) -> (servers: [(id: Int, files: [String])], unnamed: [String]) {
        var servers: [Int: [String]] = [:]
        var unnamed: [String] = []
        for file in files {
            if let id = myid(ofFile: file) { servers[id, default: []].append(file) } else { unnamed.append(file) }
        }
        func modified(_ path: String) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
        }
        return (servers.keys.sorted().map { ($0, servers[$0]!.sorted { (modified($0), $0) < (modified($1), $1) }) }, unnamed)
    }
}
