import Foundation

/// Everything that can go wrong talking to a ZooKeeper server, named precisely.
///
/// "Not in the whitelist", "not currently serving" and "connection refused" call for different runbooks;
/// an operator (and a guard) must be able to tell them apart.
public enum ZooKeeperError: Error, Sendable, Hashable, CustomStringConvertible {
    case resolveFailed(host: String, reason: String)
    case connectionRefused(endpoint: String)
    case connectTimedOut(endpoint: String, seconds: Double)
    case readTimedOut(endpoint: String, command: String, seconds: Double, receivedBytes: Int)
    case notWhitelisted(endpoint: String, command: String)
    case notServing(endpoint: String, command: String)
    case oversized(endpoint: String, command: String, limit: Int)
    case malformed(endpoint: String, command: String, reason: String)
    case io(endpoint: String, reason: String)
    case http(endpoint: String, status: Int, reason: String)

    public var description: String {
        switch self {
        case .resolveFailed(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .connectionRefused(let endpoint): return "\(endpoint): connection refused (is ZooKeeper running and listening there?)"
        case .connectTimedOut(let endpoint, let seconds):
            return "\(endpoint): no answer to connect within \(Self.format(seconds))s (host down or port filtered)"
        case .readTimedOut(let endpoint, let command, let seconds, let received):
            return "\(endpoint): '\(command)' got no complete reply within \(Self.format(seconds))s (\(received) bytes received)"
        case .notWhitelisted(let endpoint, let command):
            return "\(endpoint): '\(command)' is not in 4lw.commands.whitelist"
        case .notServing(let endpoint, let command):
            return "\(endpoint): not currently serving requests (answered '\(command)'; no quorum, or still syncing)"
        case .oversized(let endpoint, let command, let limit):
            return "\(endpoint): the reply to '\(command)' is larger than \(limit) bytes; stopped reading"
        case .malformed(let endpoint, let command, let reason): return "\(endpoint): malformed reply to '\(command)': \(reason)"
        case .io(let endpoint, let reason): return "\(endpoint): \(reason)"
        case .http(let endpoint, let status, let reason): return "\(endpoint): AdminServer answered HTTP \(status): \(reason)"
        }
    }

    /// A short machine-readable kind, for facts and events.
    public var kind: String {
        switch self {
        case .resolveFailed: return "resolve-failed"
        case .connectionRefused: return "connection-refused"
        case .connectTimedOut: return "connect-timeout"
        case .readTimedOut: return "read-timeout"
        case .notWhitelisted: return "not-whitelisted"
        case .notServing: return "not-serving"
        case .oversized: return "oversized"
        case .malformed: return "malformed"
        case .io: return "io-error"
        case .http: return "http-error"
        }
    }

    /// True when the server could not be reached at all (as opposed to answering something unwanted).
    public var isUnreachable: Bool {
        switch self {
        case .resolveFailed, .connectionRefused, .connectTimedOut, .io: return true
        default: return false
        }
    }

    static func format(_ seconds: Double) -> String { String(format: "%.1f", seconds) }
}

/// host:port, parsed from `host:port`, `[v6]:port`, or a bare host with a default port.
public struct Endpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(parsing text: String, defaultPort: Int? = nil) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else { return nil }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if rest.isEmpty, let defaultPort {
                port = defaultPort
            } else if rest.hasPrefix(":"), let value = Int(rest.dropFirst()) {
                port = value
            } else {
                return nil
            }
        } else if let colon = trimmed.lastIndex(of: ":"), trimmed.firstIndex(of: ":") == colon {
            host = String(trimmed[..<colon])
            guard let value = Int(trimmed[trimmed.index(after: colon)...]) else { return nil }
            port = value
        } else if let defaultPort, !trimmed.contains(":") {
            host = trimmed
            port = defaultPort
        } else {
            return nil
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
