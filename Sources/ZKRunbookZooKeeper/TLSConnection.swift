import CZKRunbookTLS
import Foundation

/// How to reach a server over TLS: the CA the servers' certificates are checked against, the client
/// certificate and key a server with `ssl.clientAuth=need` asks for (PEM), and the key's password, read
/// from a file (never given on a command line, printed or journaled).
public struct TLSSettings: Sendable, Hashable, Codable {
    /// PEM file of the CA(s); nil: the system's trust store.
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var keyPasswordFile: String?
    /// The client certificate and key in one PKCS#12 file (instead of `certificateFile` and `keyFile`; its
    /// password from `keyPasswordFile`).
    public var pkcs12File: String?
    /// Check the certificate names the host connected to (on by default; ZooKeeper 3.9.5+ checks servers' too).
    public var verifyHostname: Bool

    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, keyPasswordFile: String? = nil, pkcs12File: String? = nil,
        verifyHostname: Bool = true
    ) {
        (self.caFile, self.certificateFile, self.keyFile, self.keyPasswordFile, self.verifyHostname) =
            (caFile, certificateFile, keyFile, keyPasswordFile, verifyHostname)
        self.pkcs12File = pkcs12File
    }

    /// The file's format from its first bytes, so a Java keystore is named with its conversion rather than
    /// failing in OpenSSL's words.
    enum FileKind { case pem, javaKeystore, der, unreadable }

    static func kind(of path: String) -> FileKind {
        guard let handle = FileHandle(forReadingAtPath: path) else { return .unreadable }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 4096))
        if head.starts(with: [0xFE, 0xED, 0xFE, 0xED]) || head.starts(with: [0xCE, 0xCE, 0xCE, 0xCE]) { return .javaKeystore }
        if String(decoding: head, as: UTF8.self).contains("-----BEGIN") { return .pem }
        return head.first == 0x30 ? .der : .pem
    }

    /// The settings' files checked for what OpenSSL cannot read: a Java keystore (JKS, JCEKS) is refused
    /// with the `keytool` command that converts it; a DER certificate file is taken as PKCS#12.
    func resolvedForOpenSSL() throws(ZooKeeperError) -> TLSSettings {
        var resolved = self
        if let ca = caFile, Self.kind(of: ca) == .javaKeystore {
            throw .tls(
                endpoint: "this machine", failure: .settings,
                detail: "\(ca) is a Java keystore, which OpenSSL cannot read: export the CA as PEM "
                    + "(keytool -list -keystore \(ca) shows its alias; keytool -exportcert -rfc -keystore \(ca) -alias ALIAS -file ca.pem) and give tls.caFile: \"ca.pem\""
            )
        }
        for path in [certificateFile, pkcs12File].compactMap({ $0 }) where Self.kind(of: path) == .javaKeystore {
            throw .tls(
                endpoint: "this machine", failure: .settings,
                detail: "\(path) is a Java keystore, which OpenSSL cannot read: convert it to PKCS#12 "
                    + "(keytool -importkeystore -srckeystore \(path) -srcstoretype JKS -destkeystore client.p12 -deststoretype PKCS12) and give tls.pkcs12File: \"client.p12\" with its password in tls.keyPasswordFile"
            )
        }
        if pkcs12File == nil, let certificate = certificateFile, keyFile == nil, Self.kind(of: certificate) == .der {
            (resolved.pkcs12File, resolved.certificateFile) = (certificate, nil)
        }
        return resolved
    }
}

/// Connections over TLS through the system's OpenSSL 3 (loaded at run time: see `CZKRunbookTLS`).
public final class TLSConnector: ServerConnector, @unchecked Sendable {
    public let settings: TLSSettings
    private let context: UnsafeMutableRawPointer
    /// Each endpoint's certificate at its last handshake: what status and the metrics report.
    private let seen = NSLock()
    private var certificates: [Endpoint: PeerCertificate] = [:]

    public func peerCertificate(of endpoint: Endpoint) -> PeerCertificate? { seen.withLock { certificates[endpoint] } }

    /// Loads the CA, certificate and key once; fails, naming the file and the fix, before any connection.
    public init(_ given: TLSSettings) throws(ZooKeeperError) {
        let settings = try given.resolvedForOpenSSL()
        self.settings = settings
        var error = [CChar](repeating: 0, count: 1024)
        guard zkrunbook_tls_available(&error, error.count) == 1 else {
            throw .tls(endpoint: "this machine", failure: .unavailable, detail: cText(error))
        }
        var password: String?
        if let path = settings.keyPasswordFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw .tls(endpoint: "this machine", failure: .settings, detail: "the key password file \(path) cannot be read")
            }
            password = text.trimmingCharacters(in: .newlines)
        }
        guard let made = zkrunbook_tls_context_new(settings.caFile, settings.certificateFile, settings.keyFile, password, &error, error.count) else {
            throw .tls(endpoint: "this machine", failure: .settings, detail: cText(error))
        }
        if let bundle = settings.pkcs12File, zkrunbook_tls_context_use_pkcs12(made, bundle, password, &error, error.count) != 1 {
            zkrunbook_tls_context_free(made)
            throw .tls(endpoint: "this machine", failure: .settings, detail: cText(error))
        }
        context = made
    }

    deinit { zkrunbook_tls_context_free(context) }

    public var isPlaintext: Bool { false }

    public func connect(_ endpoint: Endpoint, timeout: Double) -> Result<any ServerConnection, ZooKeeperError> {
        let started = Date()
        let fd: Int32
        switch SocketClient.connect(endpoint, timeout: timeout) {
        case .success(let socket): fd = socket
        case .failure(let error): return .failure(error)
        }
        let left = max(0.05, timeout - Date().timeIntervalSince(started))
        var session: UnsafeMutableRawPointer?
        var verifyCode = 0
        var error = [CChar](repeating: 0, count: 1024)
        let outcome = zkrunbook_tls_handshake(
            context, fd, endpoint.host, settings.verifyHostname ? 1 : 0, Int32(left * 1000), &session, &verifyCode, &error, error.count)
        guard outcome == Int32(ZKRUNBOOK_TLS_OK), let session else {
            Glibc.close(fd)
            let detail = cText(error)
            return .failure(.tls(endpoint: endpoint.description, failure: Self.failure(outcome, verifyCode: verifyCode, detail: detail), detail: detail))
        }
        let connection = TLSConnection(fd: fd, session: session, endpoint: endpoint)
        let shown = connection.peerCertificate
        seen.withLock { certificates[endpoint] = PeerCertificate(notAfter: shown.notAfter, serial: shown.serial) }
        return .success(connection)
    }

    /// The named failure for a handshake's outcome (OpenSSL's verify codes: X509_V_ERR_*).
    static func failure(_ outcome: Int32, verifyCode: Int, detail: String) -> TLSFailure {
        switch Int(outcome) {
        case ZKRUNBOOK_TLS_TIMEOUT: return .timeout
        case ZKRUNBOOK_TLS_NOT_TLS: return .notTLS
        case ZKRUNBOOK_TLS_VERIFY_FAILED:
            switch verifyCode {
            case 9: return .notYetValid
            case 10: return .expired
            case 2, 18, 19, 20, 21: return .unknownCA
            case 62, 64: return .hostnameMismatch
            default: return .verifyFailed
            }
        case ZKRUNBOOK_TLS_ALERT:
            return TLSFailure.isClientCertificateAlert(detail) || detail.lowercased().contains("alert handshake failure")
                ? .clientCertificateRequired : .failed
        default: return .failed
        }
    }
}

/// One TLS session over a connected socket.
public final class TLSConnection: ServerConnection {
    public let endpoint: Endpoint
    private var fd: Int32
    private var session: UnsafeMutableRawPointer?

    init(fd: Int32, session: UnsafeMutableRawPointer, endpoint: Endpoint) { (self.fd, self.session, self.endpoint) = (fd, session, endpoint) }

    deinit { close() }

    static func milliseconds(until deadline: Date) -> Int32 { Int32(max(0, min(deadline.timeIntervalSinceNow * 1000, 3_600_000))) }

    public func send(_ bytes: UnsafeRawBufferPointer, until deadline: Date) -> Result<Void, ConnectionFailure> {
        guard let session else { return .failure(.failed("the TLS session is closed")) }
        var error = [CChar](repeating: 0, count: 512)
        switch zkrunbook_tls_send(session, bytes.baseAddress, bytes.count, Self.milliseconds(until: deadline), &error, error.count) {
        case 0: return .success(())
        case -1: return .failure(.timedOut)
        default: return .failure(Self.failure(cText(error)))
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: Date) -> Result<Int, ConnectionFailure> {
        guard let session else { return .success(0) }
        var error = [CChar](repeating: 0, count: 512)
        let count = zkrunbook_tls_receive(session, buffer.baseAddress, buffer.count, Self.milliseconds(until: deadline), &error, error.count)
        switch count {
        case 0...: return .success(count)
        case -1: return .failure(.timedOut)
        default: return .failure(Self.failure(cText(error)))
        }
    }

    /// A session's failure, named when it is the server's alert about our certificate.
    static func failure(_ detail: String) -> ConnectionFailure {
        TLSFailure.isClientCertificateAlert(detail) ? .tls(.clientCertificateRequired, detail) : .failed(detail)
    }

    /// The server's certificate: when it stops being valid, and its serial (hex).
    public var peerCertificate: (notAfter: Date?, serial: String?) {
        guard let session else { return (nil, nil) }
        let seconds = zkrunbook_tls_peer_not_after(session)
        var serial = [CChar](repeating: 0, count: 128)
        let hasSerial = zkrunbook_tls_peer_serial(session, &serial, serial.count) == 1
        return (seconds > 0 ? Date(timeIntervalSince1970: TimeInterval(seconds)) : nil, hasSerial ? cText(serial) : nil)
    }

    /// TLS has no half-close: the request is whole when sent, and the server answers it.
    public func shutdownWrite() {}

    public func close() {
        if let session { zkrunbook_tls_close(session) }
        session = nil
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// A C buffer's text up to its terminating zero.
func cText(_ buffer: [CChar]) -> String { String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

extension TLSFailure {
    /// The server's alert about our certificate — 42 bad certificate, 48 unknown ca, 116 certificate required
    /// (TLS 1.3, met on the first read after a handshake the client saw finish) — as OpenSSL words it.
    static func isClientCertificateAlert(_ detail: String) -> Bool {
        let lowered = detail.lowercased()
        return ["alert certificate required", "alert bad certificate", "alert unknown ca"].contains { lowered.contains($0) }
    }
}
