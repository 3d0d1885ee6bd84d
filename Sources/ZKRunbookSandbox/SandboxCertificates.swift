import Foundation
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// How a sandbox is secured (`sandbox up --tls`): a secure client port that wants client certificates,
/// quorum TLS, and whether the plaintext client port stays.
public struct SandboxTLS: Sendable, Codable, Hashable {
    /// Keep the plaintext client port beside the secure one (default: TLS only).
    public var plaintextClientPort: Bool
    /// The servers talk to each other over TLS (`sslQuorum=true`).
    public var quorum: Bool
    /// The AdminServer answers HTTPS (and HTTP: `admin.portUnification`, 3.6+).
    public var adminHTTPS: Bool
    /// False (`--tls-files-only`): the certificates and stores are made and named in each zoo.cfg, and
    /// nothing is secured yet (no secure client port): what enable-client-tls starts from. Nil: true.
    public var secureClientPort: Bool?

    public var opensSecurePort: Bool { secureClientPort ?? true }

    public init(plaintextClientPort: Bool = false, quorum: Bool = true, adminHTTPS: Bool = false, secureClientPort: Bool = true) {
        (self.plaintextClientPort, self.quorum, self.adminHTTPS) = (plaintextClientPort, quorum, adminHTTPS)
        self.secureClientPort = secureClientPort ? nil : false
    }
}

/// A throwaway CA and the files made from it in a sandbox's `tls/` folder: each server's key and
/// certificate as a PKCS#12 keystore (what ZooKeeper reads), the CA as a PKCS#12 truststore (made by
/// keytool: OpenSSL 3.0 cannot mark a certificate trusted for Java), and a client certificate and key
/// (PEM) for zkrunbook and kazoo. Certificates name the sandbox's host (`Sandbox.host`) and localhost.
public struct SandboxCertificates: Sendable {
    public let folder: String
    /// The stores' password: a throwaway sandbox's, kept in `storePasswordFile` beside them.
    public static let storePassword = "sandbox-store"

    public init(folder: String) { self.folder = folder }

    public var caFile: String { folder + "/ca.pem" }
    var caKey: String { folder + "/ca.key" }
    public var trustStore: String { folder + "/truststore.p12" }
    public func keyStore(_ id: Int) -> String { folder + "/server\(id).p12" }
    public func serverCertificate(_ id: Int) -> String { folder + "/server\(id).pem" }
    public var clientCertificate: String { folder + "/client.pem" }
    public var clientKey: String { folder + "/client.key" }
    public var storePasswordFile: String { folder + "/store-password" }

    /// How zkrunbook reaches the sandbox's TLS ports (`ports`) with its client certificate.
    public func serverTLS(ports: Set<Int>) -> ServerTLS {
        ServerTLS(settings: TLSSettings(caFile: caFile, certificateFile: clientCertificate, keyFile: clientKey), ports: ports)
    }

    /// Makes the CA, a certificate for each of `servers` (its serial numbered from `serialBase`, so a
    /// re-issued one is told apart) and the client's. `days`: how long they are valid.
    public func make(servers: [Int], days: Int = 365, serialBase: Int = 1000, java: String) throws(SandboxError) {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw SandboxError("cannot make \(folder): \(error.localizedDescription)")
        }
        try write(Self.storePassword + "\n", to: storePasswordFile)
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", caFile, "-days", String(days), "-subj", "/CN=zkrunbook sandbox CA",
        ])
        let extensions = folder + "/extensions.cnf"
        try write(
            "subjectAltName=IP:\(Sandbox.host),DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n", to: extensions)
        for id in servers {
            try issue(name: "server\(id)", subject: "/CN=zookeeper-\(id)", serial: serialBase + id, days: days, extensions: extensions)
            try openssl([
                "pkcs12", "-export", "-in", serverCertificate(id), "-inkey", folder + "/server\(id).key", "-name", "zookeeper", "-out", keyStore(id),
                "-passout", "pass:" + Self.storePassword,
            ])
        }
        try issue(name: "client", subject: "/CN=zkrunbook", serial: serialBase, days: days, extensions: extensions)
        try? FileManager.default.removeItem(atPath: trustStore)
        try run([
            keytool(java: java), "-importcert", "-noprompt", "-alias", "ca", "-file", caFile, "-keystore", trustStore, "-storetype", "PKCS12",
            "-storepass", Self.storePassword,
        ])
    }

    /// New keys and certificates for `servers`, signed by the same CA, their keystores rewritten in place
    /// (what an operator's renewal leaves on each node before rotate-certs): serials from `serialBase`.
    public func renew(servers: [Int], days: Int = 365, serialBase: Int) throws(SandboxError) {
        guard FileManager.default.fileExists(atPath: caKey) else { throw SandboxError("\(folder) holds no CA key: not a secured sandbox (sandbox up --tls)") }
        let extensions = folder + "/extensions.cnf"
        for id in servers {
            try issue(name: "server\(id)", subject: "/CN=zookeeper-\(id)", serial: serialBase + id, days: days, extensions: extensions)
            let fresh = keyStore(id) + ".new"
            try openssl([
                "pkcs12", "-export", "-in", serverCertificate(id), "-inkey", folder + "/server\(id).key", "-name", "zookeeper", "-out", fresh,
                "-passout", "pass:" + Self.storePassword,
            ])
            guard rename(fresh, keyStore(id)) == 0 else { throw SandboxError("cannot put \(fresh) in place of \(keyStore(id))") }
        }
    }

    /// A key and a certificate signed by the CA: `NAME.key`, `NAME.pem`.
    func issue(name: String, subject: String, serial: Int, days: Int, extensions: String) throws(SandboxError) {
        let key = folder + "/\(name).key"
        let request = folder + "/\(name).csr"
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", subject])
        try openssl([
            "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-set_serial", String(serial), "-days", String(days), "-out",
            folder + "/\(name).pem", "-extfile", extensions,
        ])
        try? FileManager.default.removeItem(atPath: request)
    }

    /// keytool beside the JVM the sandbox runs (`java`), else on PATH.
    func keytool(java: String) -> String {
        let beside = ((java as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent + "/keytool"
        return FileManager.default.isExecutableFile(atPath: beside) ? beside : "keytool"
    }

    func openssl(_ words: [String]) throws(SandboxError) { try run(["openssl"] + words) }

    func run(_ argv: [String]) throws(SandboxError) {
        let result = LocalCommandRunner().run(CommandSpec(argv: argv, timeout: 60, outputCap: 1 << 16))
        guard result.termination == .exited(0) else {
            let what = argv[0] == "openssl" ? "openssl (apt-get install openssl)" : "keytool (from the JRE)"
            throw SandboxError(
                "cannot make the sandbox's certificates: \(what) \(argv.dropFirst().first ?? "") \(result.termination.summary): "
                    + result.stderr.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    func write(_ text: String, to path: String) throws(SandboxError) {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw SandboxError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
