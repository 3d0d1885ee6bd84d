import Foundation
import Testing
import ZKRunbookTestSupport

/// An ensemble that refuses every unauthenticated session (`sandbox up --sasl digest`: Debian's 3.8,
/// enforce.auth.enabled, SASL DIGEST-MD5): zkrunbook authenticates as the ensemble file's `sasl` block says
/// (its password in a file of its own), and kazoo, authenticated as another user, writes throughout.
@Suite(.serialized, .tags(.realZooKeeper, .witness))
struct SASLEnsembleTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    @Test func statusZkAndARollingRestartWithItsWriteGateOnAnEnsembleThatEnforcesSASL() throws {
        let workspace = Scratch("sasl-ensemble")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--sasl", "digest"], firstPort: 36_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file])
        #expect(status.status == 0, "\(status.stdout)")
        let listed = try zkrunbook.run(["zk", "ls", "/", "--ensemble", ensemble.file])
        #expect(listed.status == 0 && listed.stdout.contains("zookeeper"), "\(listed.stdout)\(listed.stderr)")
        // Without the file's sasl block, the same servers close the session: said, not a hang.
        let anonymous = try zkrunbook.run(["zk", "ls", "/", "--server", "127.0.0.1:\(ensemble.clientPort(1))"])
        #expect(anonymous.status != 0, "\(anonymous.stdout)")

        // acl-audit: a Kafka-like tree, one part secured as zookeeper.set.acl does it, one znode ours alone.
        for (path, acl) in [("/brokers", nil), ("/brokers/ids", nil), ("/config", "sasl:zkrunbook:cdrwa,world:anyone:r"), ("/secret", "sasl:zkrunbook:cdrwa")] {
            #expect(try zkrunbook.run(["zk", "create", path, "--ensemble", ensemble.file]).status == 0)
            if let acl { #expect(try zkrunbook.run(["zk", "setacl", path, acl, "--ensemble", ensemble.file]).status == 0) }
        }
        let audit = try zkrunbook.run(["zk", "acl-audit", "--ensemble", ensemble.file, "--json"])
        let whole = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any], "\(audit.stdout)\(audit.stderr)")
        #expect((whole["unreadable"] as? [String]) == [] && whole["identity"] as? String == "sasl:zkrunbook", "\(whole)")
        let kafka = whole["kafka"] as? [String: Any]
        #expect(
            kafka?["znodes"] as? Int == 3 && (kafka?["open"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["/brokers", "/brokers/ids"],
            "\(whole)")
        let asWitness = try ensemble.variant("ensemble-witness.json5") { text in
            text = text.replacingOccurrences(of: "username: \"zkrunbook\"", with: "username: \"witness\"")
                .replacingOccurrences(of: "/sasl/zkrunbook.password", with: "/sasl/witness.password")
        }
        let partial = try zkrunbook.run(["zk", "acl-audit", "--ensemble", asWitness])
        #expect(
            partial.status == 0 && partial.stdout.contains("PARTIAL: 1 znode(s) this identity may not read, their subtrees not audited: /secret"),
            "\(partial.stdout)")

        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--state-dir", workspace.file("state"), "--json"], directory: repositoryRoot,
            timeout: 300)
        let verdict = try witness.finish()
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\n\(run.stderr)")
        let writes = jsonLines(run.stdout).filter { $0["type"] as? String == "step-finished" && $0["step"] as? String == "write" }
        #expect(writes.map { $0["status"] as? String } == ["succeeded", "succeeded", "succeeded"], "the write gate ran through SASL on every node")
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(verdict.acked > 20)

        // A password file that cannot be read: refused before anything runs, naming the file.
        let broken = try ensemble.variant("ensemble-no-password.json5") { text in
            text = text.replacingOccurrences(of: "/sasl/zkrunbook.password", with: "/sasl/missing.password")
        }
        let refused = try zkrunbook.run(["run", "rolling-restart", "--ensemble", broken, "--state-dir", workspace.file("state")], directory: repositoryRoot)
        #expect(refused.status == 2 && refused.stderr.contains("sasl.passwordFile") && refused.stderr.contains("missing.password"), "\(refused.stderr)")
        print(
            "rolling restart with SASL: exit \(run.status); kazoo (SASL) \(verdict.acked) acknowledged, \(verdict.lost.count) lost, longest gap \(verdict.longestGapMs) ms"
        )
    }

    /// Reconfig on an authenticated ensemble: zkrunbook, the super user there (superUser=zkrunbook), hands the
    /// leader off in a rolling restart; another user is refused before any change, the ACL named, and the
    /// membership read back from every member is as before.
    @Test func reconfigRunsAsTheSuperUserAndAnotherUserIsRefusedBeforeAnyChange() throws {
        let workspace = Scratch("sasl-reconfig")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--sasl", "digest", "--reconfig"], firstPort: 36_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let asWitness = try ensemble.variant("ensemble-witness.json5") { text in
            text = text.replacingOccurrences(of: "username: \"zkrunbook\"", with: "username: \"witness\"")
                .replacingOccurrences(of: "/sasl/zkrunbook.password", with: "/sasl/witness.password")
        }
        /// The server lines (the config's version line changes with every reconfig, even one undone).
        func membership(_ file: String) throws -> [String] {
            let config = try zkrunbook.run(["zk", "config", "--ensemble", file])
            #expect(config.status == 0, "\(config.stderr)")
            return config.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("server.") }
        }
        let before = try membership(ensemble.file)
        let configBefore = try zkrunbook.run(["zk", "config", "--ensemble", ensemble.file]).stdout
        let refused = try zkrunbook.run(
            ["run", "set-role", "--ensemble", asWitness, "--param", "server=1", "--param", "role=observer", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 120)
        #expect(refused.status == 3, "\(refused.stdout.suffix(2000))")
        #expect(
            refused.stdout.contains("sasl:witness may not reconfig: /zookeeper/config's ACL is world:anyone:r and grants it no WRITE")
                && refused.stdout.contains("zookeeper.superUser=witness"), "\(refused.stdout.suffix(2000))")
        #expect(try zkrunbook.run(["zk", "config", "--ensemble", ensemble.file]).stdout == configBefore, "nothing changed, not even the config's version")
        #expect(before.count == 3)

        let roll = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--state-dir", workspace.file("state"), "--json"], directory: repositoryRoot, timeout: 300)
        #expect(roll.status == 0, "\(roll.stdout.suffix(3000))")
        let handedOff = jsonLines(roll.stdout).filter {
            $0["type"] as? String == "step-finished" && $0["step"] as? String == "hand-off" && $0["status"] as? String == "succeeded"
        }
        #expect(handedOff.count == 1, "the leader handed off through SASL as the super user: \(roll.stdout.suffix(2000))")
        #expect(try membership(ensemble.file) == before, "the membership as before the roll")
    }
}
