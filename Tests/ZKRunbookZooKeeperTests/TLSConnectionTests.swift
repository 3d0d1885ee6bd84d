import Foundation
import Testing
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookZooKeeper

/// TLS through the system's OpenSSL 3 (loaded at run time), against a real TLS server: `openssl s_server`
/// with certificates the test makes (Tests/support/make-test-certificates.sh). Each failure an operator
/// meets is produced for real and must come back named, with its fix — never "unreachable".
@Suite(.serialized)
struct TLSConnectionTests {
    let certificates: Scratch

    init() throws {
        certificates = Scratch("tls-certificates")
        let made = LocalCommandRunner().run(
            CommandSpec(argv: ["bash", repositoryRoot + "/Tests/support/make-test-certificates.sh", certificates.path], timeout: 120), cancellation: nil)
        #expect(made.termination == .exited(0), "\(made.stderr.text)")
    }

    func file(_ name: String) -> String { certificates.file(name) }

    /// `openssl s_server -rev` (answers each line reversed) on a free port of 127.0.0.1, ready once it says ACCEPT.
    final class TLSServer {
        let process = Process()
        let port: Int
        private let output: String

        init(certificate: String, key: String, ca: String, requireClientCertificate: Bool, scratch: Scratch) throws {
            output = scratch.file("s_server-\(UInt32.random(in: 0...UInt32.max)).out")
            FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments =
                ["s_server", "-accept", "127.0.0.1:0", "-cert", certificate, "-key", key, "-CAfile", ca, "-rev"]
                + (requireClientCertificate ? ["-Verify", "1"] : [])
            process.standardOutput = FileHandle(forWritingAtPath: output)
            process.standardError = FileHandle(forWritingAtPath: output)
            process.standardInput = Pipe()
            try process.run()
            var found: Int?
            let path = output
            try poll("openssl s_server says ACCEPT", timeout: 20) {
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT ") }) else { return false }
                found = line.split(separator: ":").last.flatMap { Int($0) }
                return found != nil
            }
            port = found!
        }

        var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

        /// SIGKILL: a child started from a test thread inherits its blocked SIGTERM.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func server(_ name: String = "server", requireClientCertificate: Bool = true) throws -> TLSServer {
        try TLSServer(
            certificate: file("\(name).pem"), key: file("\(name).key"), ca: file("ca.pem"), requireClientCertificate: requireClientCertificate,
            scratch: certificates)
    }

    func settings(key: String = "client.key", password: String? = nil, ca: String = "ca.pem", client: Bool = true) -> TLSSettings {
        TLSSettings(
            caFile: file(ca), certificateFile: client ? file("client.pem") : nil, keyFile: client ? file(key) : nil, keyPasswordFile: password.map(file))
    }

    /// Sends a line and reads the reversed answer, through the connector as every client of the seam does.
    func roundTrip(_ connector: TLSConnector, _ endpoint: Endpoint) -> Result<String, ZooKeeperError> {
        connector.connect(endpoint, timeout: 5).flatMap { connection in
            defer { connection.close() }
            let deadline = Date().addingTimeInterval(5)
            if case .failure(let failure) = connection.send(Array("srvr\n".utf8), until: deadline) {
                return .failure(.io(endpoint: endpoint.description, reason: failure.description))
            }
            var buffer = [UInt8](repeating: 0, count: 256)
            let received = buffer.withUnsafeMutableBytes { connection.receive(into: $0, until: deadline) }
            switch received {
            case .success(let count): return .success(String(decoding: buffer[..<count], as: UTF8.self))
            case .failure(.tls(let failure, let detail)): return .failure(.tls(endpoint: endpoint.description, failure: failure, detail: detail))
            case .failure(let failure): return .failure(.io(endpoint: endpoint.description, reason: failure.description))
            }
        }
    }

    @Test func aClientCertificateAndTheCAGiveASessionAndTheServersCertificateIsRead() throws {
        let tls = try server()
        defer { tls.stop() }
        let connector = try TLSConnector(settings())
        #expect(try roundTrip(connector, tls.endpoint).get().hasPrefix("rvrs"))
        let connection = try connector.connect(tls.endpoint, timeout: 5).get() as! TLSConnection
        defer { connection.close() }
        let (notAfter, serial) = connection.peerCertificate
        let days = (notAfter?.timeIntervalSinceNow ?? 0) / 86_400
        #expect(days > 1 && days <= 2, "the test's certificate is valid for 2 days: \(String(describing: notAfter))")
        #expect((serial ?? "").count >= 8)
    }

    @Test func anEncryptedKeyIsOpenedWithThePasswordFromItsFile() throws {
        let tls = try server()
        defer { tls.stop() }
        let connector = try TLSConnector(settings(key: "client-encrypted.key", password: "client-key-password"))
        #expect(try roundTrip(connector, tls.endpoint).get().hasPrefix("rvrs"))
        #expect(throws: ZooKeeperError.self) { try TLSConnector(settings(key: "client-encrypted.key", password: "ca.pem")) }
    }

    static func failure(_ result: Result<String, ZooKeeperError>) -> (TLSFailure, String)? {
        guard case .failure(.tls(_, let failure, _)) = result, case .failure(let error) = result else { return nil }
        return (failure, error.description)
    }

    @Test func aServerThatWantsAClientCertificateAndGetsNoneIsNamed() throws {
        let tls = try server()
        defer { tls.stop() }
        let named = Self.failure(roundTrip(try TLSConnector(settings(client: false)), tls.endpoint))
        #expect(named?.0 == .clientCertificateRequired, "\(String(describing: named))")
        #expect(named?.1.contains("tls.certificateFile") == true)
    }

    @Test func aCertificateFromAnotherCAIsNamed() throws {
        let tls = try server()
        defer { tls.stop() }
        let named = Self.failure(roundTrip(try TLSConnector(settings(ca: "other-ca.pem")), tls.endpoint))
        #expect(named?.0 == .unknownCA, "\(String(describing: named))")
        #expect(named?.1.contains("tls.caFile") == true)
    }

    @Test func aCertificateThatNamesAnotherHostIsNamed() throws {
        let tls = try server("elsewhere")
        defer { tls.stop() }
        let named = Self.failure(roundTrip(try TLSConnector(settings()), tls.endpoint))
        #expect(named?.0 == .hostnameMismatch, "\(String(describing: named))")
        var unchecked = settings()
        unchecked.verifyHostname = false
        #expect(try roundTrip(try TLSConnector(unchecked), tls.endpoint).get().hasPrefix("rvrs"), "hostname checking can be turned off")
    }

    @Test func aPlaintextServerOnTheTLSPortIsNamed() throws {
        let plain = FakeServer(.reply(Data("Zookeeper version: 3.8.0\nMode: follower\n".utf8)))
        defer { plain.stop() }
        let named = Self.failure(roundTrip(try TLSConnector(settings()), plain.endpoint))
        #expect(named?.0 == .notTLS, "\(String(describing: named))")
        #expect(named?.1.contains("secureClientPort") == true)
    }

    @Test func anExpiredAndANotYetValidCertificateAreNamedWithTheirDates() throws {
        for (name, failure, dates) in [
            ("expired", TLSFailure.expired, "valid from 2020-01-01 00:00:00 UTC until 2020-02-01 00:00:00 UTC"),
            ("future", .notYetValid, "valid from 2040-01-01 00:00:00 UTC until 2041-01-01 00:00:00 UTC"),
        ] {
            let tls = try server(name)
            defer { tls.stop() }
            let named = Self.failure(roundTrip(try TLSConnector(settings()), tls.endpoint))
            #expect(named?.0 == failure, "\(name): \(String(describing: named))")
            #expect(named?.1.contains(dates) == true, "\(name): the dates are said: \(String(describing: named))")
            #expect(named?.1.contains("clock") == true, "\(name): and the fix (renew, or this machine's clock)")
        }
    }

    @Test func aPKCS12ClientCertificateIsUsedAndAJavaKeystoreIsRefusedWithItsConversion() throws {
        let tls = try server()
        defer { tls.stop() }
        let bundle = TLSSettings(caFile: file("ca.pem"), keyPasswordFile: file("client-key-password"), pkcs12File: file("client.p12"))
        #expect(try roundTrip(try TLSConnector(bundle), tls.endpoint).get().hasPrefix("rvrs"), "PKCS#12 with its password from a file")
        var wrong = bundle
        wrong.keyPasswordFile = file("ca.pem")
        #expect(throws: ZooKeeperError.self) { try TLSConnector(wrong) }
        // The test's script makes the Java keystore with keytool, from the JRE the ZooKeeper tests need.
        let keystore = file("client.jks")
        #expect(FileManager.default.fileExists(atPath: keystore), "keytool made \(keystore)")
        var java = bundle
        java.pkcs12File = keystore
        do {
            _ = try TLSConnector(java)
            Issue.record("a JKS keystore was taken")
        } catch {
            #expect(
                error.description.contains("keytool -importkeystore -srckeystore \(keystore) -srcstoretype JKS") && error.description.contains("pkcs12File"),
                "\(error)")
        }
    }

    @Test func aTLSPortAskedInPlaintextIsSeenToSpeakTLS() throws {
        let tls = try server()
        defer { tls.stop() }
        #expect(TLSSniffer.speaksTLS(tls.endpoint, timeout: 5), "s_server answers a ClientHello")
        let plain = FakeServer(.reply(Data("Zookeeper version: 3.8.0\nMode: follower\n".utf8)))
        defer { plain.stop() }
        #expect(!TLSSniffer.speaksTLS(plain.endpoint, timeout: 5), "a plaintext server does not")
    }
}
