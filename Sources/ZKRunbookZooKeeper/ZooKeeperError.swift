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
    /// A TLS connection could not be made: which failure, what OpenSSL said, and the fix.
    case tls(endpoint: String, failure: TLSFailure, detail: String)

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
        case .tls(let endpoint, let failure, let detail): return "\(endpoint): TLS: \(failure.headline): \(detail); \(failure.fix)"
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
        case .tls(_, let failure, _): return "tls-" + failure.rawValue
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

/// Why a TLS handshake or session failed, each with the operator's fix.
public enum TLSFailure: String, Sendable, Hashable, Codable {
    /// libssl.so.3 is not on this machine.
    case unavailable
    /// The CA, certificate or key files cannot be used.
    case settings
    case timeout
    /// The server's certificate is not signed by the CA given.
    case unknownCA = "unknown-ca"
    case expired
    case notYetValid = "not-yet-valid"
    /// The name or address connected to is not in the certificate's subjectAltName.
    case hostnameMismatch = "hostname-mismatch"
    /// The server wants a client certificate and none (or one it does not trust) was given.
    case clientCertificateRequired = "client-certificate-required"
    case verifyFailed = "verify-failed"
    /// The port does not speak TLS (a plaintext client port).
    case notTLS = "not-tls"
    /// A TLS port (a secureClientPort) asked in plaintext: it answered a TLS hello, not the word.
    case speaksTLS = "speaks-tls"
    case failed

    public var headline: String {
        switch self {
        case .unavailable: return "no TLS library"
        case .settings: return "the TLS settings cannot be used"
        case .timeout: return "the handshake timed out"
        case .unknownCA: return "the server's certificate is not signed by the CA given"
        case .expired: return "the server's certificate has expired"
        case .notYetValid: return "the server's certificate is not valid yet"
        case .hostnameMismatch: return "the server's certificate does not name the address connected to"
        case .clientCertificateRequired: return "the server refused the connection without a client certificate it trusts"
        case .verifyFailed: return "the server's certificate did not verify"
        case .notTLS: return "the port does not speak TLS"
        case .speaksTLS: return "the port speaks TLS (it answered a TLS hello) and was asked in plaintext"
        case .failed: return "the handshake failed"
        }
    }

    public var fix: String {
        switch self {
        case .unavailable: return "install OpenSSL 3 (Debian/Ubuntu: libssl3; RHEL 9: openssl-libs)"
        case .settings: return "check the tls files in the ensemble file (PEM certificate, its key and the key's password file)"
        case .timeout: return "is the port a ZooKeeper secureClientPort, and is the server overloaded?"
        case .unknownCA: return "give the CA that signed the servers' certificates (tls.caFile)"
        case .expired, .notYetValid: return "renew the server's certificate and restart it (zkrunbook run rolling-restart), or check this machine's clock"
        case .hostnameMismatch: return "connect by a name or address the certificate lists in its subjectAltName, or reissue it with one"
        case .clientCertificateRequired: return "give a client certificate and key the servers trust (tls.certificateFile, tls.keyFile)"
        case .verifyFailed: return "check the server's certificate chain against the CA given"
        case .notTLS: return "this looks like a plaintext port: use the server's secureClientPort, or leave tls out for this port"
        case .speaksTLS: return "reach it over TLS: the ensemble file's tls block (caFile, certificateFile, keyFile), or --tls-ca, --tls-cert and --tls-key"
        case .failed: return "see OpenSSL's words above"
        }
    }
}

extension ZooKeeperError {
    /// The reason an `io` failure gives when the peer reset the connection after accepting it (a server at its
    /// connection limit does this): one text, so that it is recognised wherever it is judged.
    public static let peerReset = "connection reset by peer"

    /// The peer closed or reset the connection: EPIPE or ECONNRESET, said by strerror or by `peerReset`.
    public var isClosedByPeer: Bool {
        guard case .io(_, let reason) = self else { return false }
        return reason.hasSuffix(Self.peerReset) || reason.hasSuffix(String(cString: strerror(EPIPE)))
            || reason.hasSuffix(String(cString: strerror(ECONNRESET)))
    }
}
