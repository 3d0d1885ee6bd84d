import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper

#if canImport(Glibc)
    import Glibc
#endif

/// ZooKeeper 3.9's AdminServer `snapshot` command: the server writes a snapshot and streams it back, its
/// zxid in the `last_zxid` header. Streamed to a file (chunked or not), never held in memory.
enum AdminSnapshot {
    struct Fetched {
        var lastZxid: Int64
        var bytes: Int64
        /// SHA-256 of what was written, hashed as it streamed.
        var sha256: String
    }

    /// Why the command was not used: said, then the file path is taken.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// `authorization`: the AdminServer's `Authorization` header, `<scheme> <auth>`; the default `ip`
    /// authenticates as this machine's address, enough where the root znode's ACL lets anyone in (the
    /// default); `digest user:password` where it does not.
    static func fetch(
        from endpoint: Endpoint, to path: String, timeout: Double, authorization: String = "ip", connector: any ServerConnector = PlaintextConnector()
    ) throws(Refused) -> Fetched {
        let connection: any ServerConnection
        switch connector.connect(endpoint, timeout: min(timeout, 3)) {
        case .success(let opened): connection = opened
        case .failure(let error): throw Refused(description: "the AdminServer at \(endpoint) does not answer: \(error)")
        }
        defer { connection.close() }
        let request = Array(
            "GET /commands/snapshot?streaming=true HTTP/1.1\r\nHost: \(endpoint)\r\nAuthorization: \(authorization)\r\nConnection: close\r\n\r\n".utf8)
        let deadline = Date().addingTimeInterval(timeout)
        switch connection.send(request, until: deadline) {
        case .success: break
        case .failure(.timedOut): throw Refused(description: "sending to \(endpoint) timed out")
        case .failure(let failure): throw Refused(description: "sending to \(endpoint): \(failure)")
        }
        FileManager.default.createFile(atPath: path, contents: nil)
        guard let output = FileHandle(forWritingAtPath: path) else { throw Refused(description: "cannot write \(path)") }
        defer { try? output.close() }
        var decoder = BodyDecoder()
        var head = [UInt8]()
        var headers: [String: String]?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        var written: Int64 = 0
        var hasher = SHA256()
        while true {
            let count: Int
            switch connection.receive(into: buffer, until: deadline) {
            case .success(let received): count = received
            case .failure(.timedOut): throw Refused(description: "the snapshot from \(endpoint) timed out")
            case .failure(let failure): throw Refused(description: "reading from \(endpoint): \(failure)")
            }
            if count == 0 { break }
            var bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            if headers == nil {
                head += bytes
                guard let end = head.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
                let parsed = try parseHead(Array(head[..<end.lowerBound]), endpoint: endpoint)
                headers = parsed
                decoder.chunked = parsed["transfer-encoding"]?.lowercased().contains("chunked") == true
                bytes = Array(head[end.upperBound...])
            }
            let body = try decoder.feed(bytes, endpoint: endpoint)
            if !body.isEmpty {
                do { try output.write(contentsOf: body) } catch { throw Refused(description: "writing \(path): \(error.localizedDescription)") }
                body.withUnsafeBytes { hasher.update(bytes: $0) }
                written += Int64(body.count)
            }
            if decoder.finished { break }
        }
        guard let headers, let zxidText = headers["last_zxid"], let lastZxid = Int64(zxidText.replacingOccurrences(of: "0x", with: ""), radix: 16) else {
            throw Refused(description: "the AdminServer at \(endpoint) sent no last_zxid header")
        }
        if let size = headers["snapshot_size"].flatMap(Int64.init), size != written {
            throw Refused(description: "the AdminServer said \(size) byte(s) and sent \(written)")
        }
        return Fetched(lastZxid: lastZxid, bytes: written, sha256: hasher.finalizeHex())
    }

    static func parseHead(_ bytes: [UInt8], endpoint: Endpoint) throws(Refused) -> [String: String] {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let status = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard status.count >= 2, status[0].hasPrefix("HTTP/1."), let code = Int(status[1]) else {
            throw Refused(description: "\(endpoint) did not answer HTTP")
        }
        guard code == 200 else {
            let why = [
                404: "no snapshot command (before 3.9)", 401: "not authenticated", 403: "not authorized (the root znode's ACL: ALL is needed)",
                503: "disabled (zookeeper.admin.snapshot.enabled=false)", 429: "rate-limited (one per zookeeper.admin.snapshot.intervalInMS)",
            ]
            throw Refused(description: "the AdminServer answered \(code): \(why[code] ?? (status.count > 2 ? String(status[2]) : ""))")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// HTTP/1.1 chunked transfer decoding, fed as bytes arrive.
    struct BodyDecoder {
        var chunked = false
        var finished = false
        private var pending: [UInt8] = []
        private var remaining = 0
        private var needsLineEnd = false

        mutating func feed(_ bytes: [UInt8], endpoint: Endpoint) throws(Refused) -> [UInt8] {
            guard chunked else { return bytes }
            pending += bytes
            var out: [UInt8] = []
            var index = 0
            while index < pending.count && !finished {
                if remaining > 0 {
                    let take = min(remaining, pending.count - index)
                    out += pending[index..<(index + take)]
                    index += take
                    remaining -= take
                    if remaining == 0 { needsLineEnd = true }
                    continue
                }
                guard let lineEnd = pending[index...].firstRange(of: [13, 10]) else { break }
                let line = String(decoding: pending[index..<lineEnd.lowerBound], as: UTF8.self)
                index = lineEnd.upperBound
                if needsLineEnd {
                    needsLineEnd = false
                    continue
                }
                guard let size = Int(line.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                    throw Refused(description: "bad chunked encoding from \(endpoint)")
                }
                if size == 0 { finished = true } else { remaining = size }
            }
            pending.removeFirst(index)
            return out
        }
    }
}
