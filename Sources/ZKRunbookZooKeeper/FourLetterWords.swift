import Foundation

/// The four-letter words zkrunbook speaks.
public enum FourLetterWord: String, Sendable, CaseIterable, Codable {
    case ruok, srvr, stat, mntr, cons, conf, envi, isro, wchs, dirs
}

/// Sends four-letter words and classifies the replies.
///
/// ZooKeeper answers a refused word with text, not an error code: "<cmd> is not executed because it is
/// not in the whitelist." and "This ZooKeeper instance is not currently serving requests". Both become
/// named errors here, so nobody parses them as facts.
public struct FourLetterWordClient: Sendable {
    public var limits: SocketLimits
    public var connector: any ServerConnector

    public init(limits: SocketLimits = .standard, connector: any ServerConnector = PlaintextConnector()) { (self.limits, self.connector) = (limits, connector) }

    static let notServingText = "This ZooKeeper instance is not currently serving requests"
    static let whitelistSuffix = "is not executed because it is not in the whitelist."

    public func send(_ word: FourLetterWord, to endpoint: Endpoint) -> Result<String, ZooKeeperError> {
        SocketClient.exchange(Data(word.rawValue.utf8), with: endpoint, command: word.rawValue, limits: limits, connector: connector).flatMap { data in
            Self.classify(data, word: word, endpoint: endpoint)
        }
    }

    /// Sorts a reply into text, "not serving", "not whitelisted" or malformed, on its bytes: a `mntr` reply is
    /// hundreds of lines, and trimming it as a Foundation string cost a quarter of a whole `status`.
    static func classify(_ data: Data, word: FourLetterWord, endpoint: Endpoint) -> Result<String, ZooKeeperError> {
        data.withUnsafeBytes { raw -> Result<String, ZooKeeperError> in
            let bytes = raw.bindMemory(to: UInt8.self)
            func malformed(_ reason: String) -> Result<String, ZooKeeperError> {
                .failure(.malformed(endpoint: endpoint.description, command: word.rawValue, reason: reason))
            }
            guard let text = String(validating: bytes, as: UTF8.self) else { return malformed("the reply is not UTF-8 text") }
            var first = 0
            var end = bytes.count
            while first < end, ReplyBytes.isWhitespace(bytes[first]) { first += 1 }
            while end > first, ReplyBytes.isWhitespace(bytes[end - 1]) { end -= 1 }
            let trimmed = UnsafeBufferPointer(rebasing: bytes[first..<end])
            if ReplyBytes.starts(trimmed, with: notServingText) {
                return .failure(.notServing(endpoint: endpoint.description, command: word.rawValue))
            }
            if ReplyBytes.ends(trimmed, with: whitelistSuffix) {
                return .failure(.notWhitelisted(endpoint: endpoint.description, command: word.rawValue))
            }
            if trimmed.isEmpty {
                // ZooKeeper closes without a word for a command it does not know; a server that closes at once
                // is as unhelpful, and the caller must not take silence for a fact.
                return malformed("empty reply (connection closed without an answer)")
            }
            if bytes.count > 0, memchr(raw.baseAddress!, 0, bytes.count) != nil { return malformed("binary data in the reply") }
            return .success(text)
        }
    }
}

/// Byte tests for replies, without bridging to Foundation strings.
enum ReplyBytes {
    /// What `CharacterSet.whitespacesAndNewlines` holds in ASCII (replies are ASCII where it matters).
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    static func starts(_ bytes: UnsafeBufferPointer<UInt8>, with prefix: String) -> Bool {
        let pattern = prefix.utf8
        return bytes.count >= pattern.count && zip(bytes, pattern).allSatisfy { $0 == $1 }
    }

    static func ends(_ bytes: UnsafeBufferPointer<UInt8>, with suffix: String) -> Bool {
        let pattern = suffix.utf8
        return bytes.count >= pattern.count && zip(bytes[(bytes.count - pattern.count)...], pattern).allSatisfy { $0 == $1 }
    }
}

/// Reads AdminServer commands (`http://host:8080/commands/<name>`) with a plain HTTP/1.1 GET.
///
/// The AdminServer answers 200 with `"error": "…not currently serving…"` in the body when the server is
/// not serving, so the body is always read, never just the status.
public struct AdminServerClient: Sendable {
    public var limits: SocketLimits
    public var connector: any ServerConnector

    public init(limits: SocketLimits = .standard, connector: any ServerConnector = PlaintextConnector()) { (self.limits, self.connector) = (limits, connector) }

    public func command(_ name: String, at endpoint: Endpoint) -> Result<[String: Any], ZooKeeperError> {
        let request = "GET /commands/\(name) HTTP/1.1\r\nHost: \(endpoint)\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        return SocketClient.exchange(Data(request.utf8), with: endpoint, command: "admin \(name)", limits: limits, connector: connector).flatMap {
            Self.parse($0, command: name, endpoint: endpoint)
        }
    }

    static func parse(_ data: Data, command: String, endpoint: Endpoint) -> Result<[String: Any], ZooKeeperError> {
        let label = "admin \(command)"
        let separator = Data("\r\n\r\n".utf8)
        guard let split = data.range(of: separator) else {
            return .failure(.malformed(endpoint: endpoint.description, command: label, reason: "no HTTP header end"))
        }
        let head = String(decoding: data[..<split.lowerBound], as: UTF8.self)
        var body = Data(data[split.upperBound...])
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            return .failure(.malformed(endpoint: endpoint.description, command: label, reason: "not an HTTP response"))
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            guard let decoded = dechunk(body) else {
                return .failure(.malformed(endpoint: endpoint.description, command: label, reason: "bad chunked encoding"))
            }
            body = decoded
        } else if let length = headers["content-length"].flatMap(Int.init), length <= body.count {
            body = body.prefix(length)
        }
        guard status == 200 else {
            return .failure(.http(endpoint: endpoint.description, status: status, reason: statusParts.count > 2 ? String(statusParts[2]) : ""))
        }
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return .failure(.malformed(endpoint: endpoint.description, command: label, reason: "the body is not a JSON object"))
        }
        if let error = json["error"] as? String, !error.isEmpty {
            if error.contains("not currently serving") { return .failure(.notServing(endpoint: endpoint.description, command: label)) }
            return .failure(.malformed(endpoint: endpoint.description, command: label, reason: error))
        }
        return .success(json)
    }

    static func dechunk(_ data: Data) -> Data? {
        var out = Data()
        var index = data.startIndex
        while index < data.endIndex {
            guard let lineEnd = data[index...].range(of: Data("\r\n".utf8)) else { return nil }
            let sizeText = String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            if size == 0 { return out }
            let start = lineEnd.upperBound
            guard data.distance(from: start, to: data.endIndex) >= size else { return nil }
            let end = data.index(start, offsetBy: size)
            out.append(data[start..<end])
            index = data.index(end, offsetBy: 2, limitedBy: data.endIndex) ?? data.endIndex
        }
        return out
    }
}
