import Foundation
import Testing
import ZKRunbookTestSupport

@testable import ZKRunbookClient

/// SASL DIGEST-MD5's pieces against their references: MD5 against RFC 1321's vectors and Python's hashlib on
/// random data, the exchange against RFC 2831's worked example, and a server that does not prove itself.
struct DigestMD5Tests {
    @Test func md5MatchesRFC1321AndHashlib() throws {
        #expect(MD5.hex([UInt8]()) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hex(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5.hex(Array("message digest".utf8)) == "f96b697d7cb7938d525a2f31aaf161d0")
        #expect(MD5.hex(Array(String(repeating: "1234567890", count: 8).utf8)) == "57edf4a22be3c955ac49da2e2107b67a")
        // Every length around the padding boundaries, and a large buffer, against Python's hashlib.
        let workspace = Scratch("md5")
        var samples: [[UInt8]] = (0...130).map { length in (0..<length).map { _ in UInt8.random(in: 0...255) } }
        samples.append((0..<(1 << 16) + 7).map { _ in UInt8.random(in: 0...255) })
        let folder = workspace.file("samples")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, sample) in samples.enumerated() { try Data(sample).write(to: URL(fileURLWithPath: "\(folder)/\(index)")) }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [
            "-c", "import hashlib,sys\nfor i in range(int(sys.argv[2])): print(hashlib.md5(open(f'{sys.argv[1]}/{i}','rb').read()).hexdigest())", folder,
            String(samples.count),
        ]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        let reference = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        python.waitUntilExit()
        #expect(reference.count == samples.count)
        let ours = samples.map { MD5.hex($0) }
        #expect(ours == reference, "lengths that differ: \(zip(ours, reference).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset))")
    }

    /// RFC 2831 section 4, the IMAP example: the same nonce and cnonce give its response and its rspauth.
    @Test func theExchangeGivesRFC2831sWorkedExample() throws {
        var mechanism = DigestMD5(username: "chris", password: "secret", digestURI: "imap/elwood.innosoft.com", cnonce: "OA6MHXh6VqTrRk")
        let challenge = #"realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8"#
        let response = String(decoding: try mechanism.answer(Array(challenge.utf8)), as: UTF8.self)
        #expect(response.contains("response=d388dad90d4bbd760a152321f2143af7"), "\(response)")
        #expect(response.contains(#"username="chris""#) && response.contains(#"digest-uri="imap/elwood.innosoft.com""#) && response.contains("qop=auth"))
        #expect(!mechanism.isComplete)
        var impostor = mechanism
        #expect(throws: DigestMD5.Failure.serverNotProven) { try impostor.answer(Array("rspauth=00000000000000000000000000000000".utf8)) }
        #expect(try mechanism.answer(Array("rspauth=ea40f60335c427b5527b84dbabcdfffd".utf8)) == [])
        #expect(mechanism.isComplete)
    }

    @Test func challengesItCannotAnswerAreNamed() throws {
        var mechanism = DigestMD5(username: "bob", password: "x")
        #expect(throws: DigestMD5.Failure.unsupportedQOP("auth-conf")) { try mechanism.answer(Array(#"nonce="n",qop="auth-conf""#.utf8)) }
        #expect(throws: DigestMD5.Failure.badChallenge("no nonce")) { try mechanism.answer(Array(#"realm="r",qop="auth""#.utf8)) }
        #expect(throws: DigestMD5.Failure.badChallenge("an unterminated quoted value for 'nonce'")) {
            try mechanism.answer(Array(#"nonce="abc"#.utf8))
        }
        #expect(
            try DigestMD5.parse(#"realm="a \"quoted\", realm",nonce=xyz, qop="auth,auth-int""#) == [
                "realm": "a \"quoted\", realm", "nonce": "xyz", "qop": "auth,auth-int",
            ])
    }
}
