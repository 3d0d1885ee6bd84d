import Foundation
import Testing
import ZKRunbookTestSupport
import ZKRunbookZooKeeper

@testable import ZKRunbookClient

/// Our client on an authenticated ensemble (`sandbox up --sasl digest`: Debian's 3.8, enforce.auth.enabled):
/// a session without SASL is closed at its first request; DIGEST-MD5 with the right password is accepted and
/// its identity owns what it creates (`sasl:zkrunbook`); a wrong password is refused, named. kazoo, speaking
/// SASL as another user, is the independent witness: it reads what is open to it and is refused the rest.
@Suite(.serialized, .tags(.realZooKeeper, .witness))
struct SASLClientTests {
    @Test func digestMD5IsAcceptedItsIdentityOwnsItsZnodesAndAWrongPasswordIsRefused() throws {
        let ensemble = try SandboxEnsemble.start(nodes: 3, allWords: true, firstPort: 25_500, extra: ["--sasl", "digest"])
        defer { ensemble.close() }
        let endpoints = ensemble.sandbox.members.map(\.endpoint)
        func password(_ user: String) throws -> String { try String(contentsOfFile: ensemble.sandbox.saslPasswordFile(user), encoding: .utf8) }

        // No SASL: the handshake is accepted, the first request closes the session (enforce.auth.enabled).
        let anonymous = try ZooKeeperClient.connect(endpoints)
        do {
            _ = try anonymous.exists("/")
            Issue.record("an unauthenticated session was served")
        } catch {
            #expect(error.code == .sessionClosedRequireSaslAuth || "\(error)".contains("connection"), "\(error)")
        }
        anonymous.close(awaitingReply: false)

        let identity = SASLIdentity.digestMD5(username: "zkrunbook", password: try password("zkrunbook"))
        #expect(!"\(identity)".contains(try password("zkrunbook")), "the password never prints")
        let client = try ZooKeeperClient.connect(endpoints, options: ClientOptions(sasl: identity))
        defer { client.close() }
        let owned = [ACL(permissions: .all, scheme: "sasl", id: "zkrunbook")]
        // Created open, then made ours (setACL against the ACL's version 0).
        #expect(try client.create("/zkrunbook-only", Array("ours".utf8)) == "/zkrunbook-only")
        #expect(try client.setACL("/zkrunbook-only", owned, version: 0).aversion == 1)
        #expect(try client.create("/open", Array("anyone".utf8)) == "/open")
        #expect(try client.getACL("/zkrunbook-only").acl == owned)
        #expect(try String(decoding: client.getData("/zkrunbook-only").data, as: UTF8.self) == "ours")

        let wrong = SASLIdentity.digestMD5(username: "zkrunbook", password: "not-the-password")
        do {
            _ = try ZooKeeperClient.connect(endpoints, options: ClientOptions(sasl: wrong)).exists("/")
            Issue.record("a wrong password was accepted")
        } catch {
            #expect("\(error)".contains("SASL DIGEST-MD5 as 'zkrunbook' refused"), "\(error)")
        }

        // kazoo as the witness user: the open znode is readable, ours is not (NoAuth).
        let servers = endpoints.map(\.description).joined(separator: ",")
        let script = """
            import sys
            from kazoo.client import KazooClient
            from kazoo.exceptions import NoAuthError
            c = KazooClient(hosts=sys.argv[1], timeout=10.0, sasl_options={"mechanism": "DIGEST-MD5", "username": "witness", "password": sys.argv[2]})
            c.start(timeout=30)
            print("open=" + c.get("/open")[0].decode())
            try:
                c.get("/zkrunbook-only")
                print("ours=readable")
            except NoAuthError:
                print("ours=NoAuth")
            c.stop()
            """
        let kazoo = Process()
        kazoo.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        kazoo.arguments = ["-c", script, servers, try password("witness")]
        let output = Pipe()
        kazoo.standardOutput = output
        try kazoo.run()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        kazoo.waitUntilExit()
        #expect(kazoo.terminationStatus == 0 && said == "open=anyone\nours=NoAuth\n", "kazoo said: \(said)")
    }

    @Test func aclsAreReadAsZkCliWritesThem() throws {
        #expect(
            try ACL.parse("sasl:zkrunbook:cdrwa, world:anyone:r,digest:bob:Zm9vYmFy:rw,ip:10.0.0.0/8:r").get() == [
                ACL(permissions: .all, scheme: "sasl", id: "zkrunbook"), ACL(permissions: .read, scheme: "world", id: "anyone"),
                ACL(permissions: [.read, .write], scheme: "digest", id: "bob:Zm9vYmFy"), ACL(permissions: .read, scheme: "ip", id: "10.0.0.0/8"),
            ])
        #expect(
            ACL.parse("world:anyone")
                == .failure(ACL.ParseFailure(message: "'world:anyone' is not scheme:id:permissions (world:anyone:r, sasl:zkrunbook:cdrwa)")))
        #expect(ACL.parse("world:anyone:rx") == .failure(ACL.ParseFailure(message: "'world:anyone:rx': 'x' is not a permission (c, d, r, w, a)")))
        #expect(ACL.parse(" , ") == .failure(ACL.ParseFailure(message: "an empty ACL: give at least one scheme:id:permissions")))
    }
}
