import Foundation
import Testing
import ZKRunbookSandbox
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Secured ensembles of real servers (`sandbox up --tls`: secureClientPort only, ssl.clientAuth=need, quorum
/// TLS, certificates from a throwaway CA), reached the way an operator's ensemble file says, with kazoo
/// over TLS as the independent witness.
@Suite(.serialized, .tags(.realZooKeeper, .witness))
struct TLSEnsembleTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func status(_ arguments: [String]) throws -> ZKRunbookBinary.Result { try zkrunbook.run(["status"] + arguments) }

    /// A rolling restart with kazoo writing over TLS throughout: it succeeds, no acknowledged write is lost,
    /// one election (when the old leader restarts). Returns the run's output.
    func rollWithKazooOverTLS(_ ensemble: SandboxEnsemble, _ workspace: Scratch, label: String) throws -> ZKRunbookBinary.Result {
        let electionsBefore = ensemble.leaderElections
        let witness = try KazooWitness.start(ensemble, in: workspace, name: "roll-\(label)")
        let roll = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--json", "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        let verdict = try witness.finish()
        print(
            "TLS rolling restart on \(label): kazoo over TLS wrote \(verdict.acked) writes, \(verdict.lost.count) lost, longest gap \(verdict.longestGapMs) ms")
        #expect(roll.status == 0, "\(label): \(roll.stdout.suffix(3000))\n\(roll.stderr)")
        #expect(verdict.lost.isEmpty, "\(label): acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(verdict.acked > 50, "\(label): kazoo wrote over TLS throughout")
        #expect(ensemble.leaderElections == electionsBefore + 1, "\(label): one election, when the old leader restarts")
        return roll
    }

    /// Debian's 3.8: whole and healthy over TLS, every failure of the wrong client named, a rolling restart
    /// with kazoo writing over TLS throughout, zk, a backup and a restore that brings a deleted znode back, a bundle.
    @Test func aTLSOnlyEnsembleIsWholeRollsWithKazooOverTLSAndIsBackedUpRestoredAndCollected() throws {
        let workspace = Scratch("tls-only")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--tls"], firstPort: 32_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let files = ensemble.sandbox.certificates
        let config = try String(contentsOfFile: ensemble.zooCfg(1), encoding: .utf8)
        #expect(!config.contains("\nclientPort="), "no plaintext client port:\n\(config)")
        #expect(config.contains("secureClientPort=") && config.contains("ssl.clientAuth=need") && config.contains("sslQuorum=true"))
        for node in 1...3 {
            #expect(ensemble.log(node).contains("Creating TLS-only quorum server socket"), "node \(node) talks TLS to the others")
        }

        let whole = try status(["--ensemble", ensemble.file])
        #expect(whole.status == 0, "\(whole.stdout)\n\(whole.stderr)")
        #expect(whole.stdout.contains("verdict: healthy") && whole.stdout.contains("scope: whole"), "\(whole.stdout)")
        #expect(whole.stdout.contains("127.0.0.1:\(ensemble.clientPort(1))"), "the secure port is the one asked")
        #expect(whole.stdout.contains("certificates (as each server showed it over TLS):") && whole.stdout.contains("day(s) left"), "\(whole.stdout)")

        // The wrong clients, each named with its fix: plaintext to the TLS port, no client certificate, another CA.
        let secure = "127.0.0.1:\(ensemble.clientPort(1))"
        let plaintext = try status(["--server", secure])
        #expect(plaintext.stdout.contains("the port speaks TLS") && plaintext.stdout.contains("tls block"), "\(plaintext.stdout)")
        let noCertificate = try status(["--server", secure, "--tls-ca", files.caFile])
        #expect(noCertificate.stdout.contains("without a client certificate it trusts"), "\(noCertificate.stdout)")
        let certificates = workspace.folder("other-certificates")
        let made = try ZKRunbookBinary(path: "/bin/bash").run([repositoryRoot + "/Tests/support/make-test-certificates.sh", certificates], timeout: 120)
        #expect(made.status == 0, "\(made.stderr)")
        let otherCA = try status([
            "--server", secure, "--tls-ca", certificates + "/other-ca.pem", "--tls-cert", files.clientCertificate, "--tls-key", files.clientKey,
        ])
        #expect(otherCA.stdout.contains("not signed by the CA given") && otherCA.stdout.contains("tls.caFile"), "\(otherCA.stdout)")
        let flags = try status(["--server", secure, "--tls-ca", files.caFile, "--tls-cert", files.clientCertificate, "--tls-key", files.clientKey])
        #expect(flags.stdout.contains("follower") || flags.stdout.contains("leader"), "the same server over TLS from the flags: \(flags.stdout)")

        // zk over TLS.
        #expect(try zkrunbook.run(["zk", "create", "/tls-kept", "kept", "--ensemble", ensemble.file]).status == 0)
        #expect(try zkrunbook.run(["zk", "get", "/tls-kept", "--ensemble", ensemble.file]).stdout == "kept")

        // A rolling restart, kazoo writing over TLS with a client certificate throughout.
        let roll = try rollWithKazooOverTLS(ensemble, workspace, label: "3.8")
        let agents = jsonLines(roll.stdout).filter { $0["type"] as? String == "run-finished" && $0["parentStep"] != nil }
        #expect(agents.count == 3, "each node's agent reached its own server over TLS and reported back")

        // Backup, the znode deleted, restore: it reads back.
        let state = workspace.file("state")
        let dest = workspace.file("backups")
        let backup = try zkrunbook.run(
            ["run", "backup", "--ensemble", ensemble.file, "--param", "dest=\(dest)", "--state-dir", state, "--json"], directory: repositoryRoot, timeout: 300)
        #expect(backup.status == 0, "\(backup.stdout.suffix(2000))")
        let folder = dest + "/" + (try #require(((try? FileManager.default.contentsOfDirectory(atPath: dest)) ?? []).sorted().last))
        let manifest = try String(contentsOfFile: folder + "/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"countCheck\" : \"matched:"), "the node's agent asked its server over TLS:\n\(manifest)")
        #expect(try zkrunbook.run(["zk", "delete", "/tls-kept", "--ensemble", ensemble.file]).status == 0)
        let name = "sandbox-\(ensemble.base)"
        let restore = try zkrunbook.run(
            ["run", "restore", "--ensemble", ensemble.file, "--param", "backup=\(folder)", "--param", "confirm=\(name)", "--state-dir", state, "--json"],
            directory: repositoryRoot, timeout: 600)
        #expect(restore.status == 0, "\(restore.stdout.suffix(3000))")
        #expect(try zkrunbook.run(["zk", "get", "/tls-kept", "--ensemble", ensemble.file]).stdout == "kept", "the restore brought it back")

        // A support bundle: every server's words over TLS, no password in it.
        let output = workspace.folder("bundles")
        let collect = try zkrunbook.run(["collect", "--ensemble", ensemble.file, "--output", output, "--state-dir", state], timeout: 300)
        #expect(collect.status == 0 && collect.stdout.contains("3 of 3 server(s) collected"), "\(collect.stdout)\n\(collect.stderr)")
        let archive = try #require(((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).first { $0.hasSuffix(".tar.gz") })
        let listing = try ZKRunbookBinary(path: "/bin/tar").run(["-xzf", output + "/" + archive, "-C", output])
        #expect(listing.status == 0)
        let srvr = try String(
            contentsOfFile: try #require(
                FileManager.default.enumerator(atPath: output)?.allObjects.compactMap { $0 as? String }
                    .first { $0.contains("server-1-") && $0.hasSuffix("4lw/srvr.txt") }.map { output + "/" + $0 }), encoding: .utf8)
        #expect(srvr.hasPrefix("Zookeeper version: 3.8"), "srvr over TLS in the bundle: \(srvr.prefix(300))")
        let password = try ZKRunbookBinary(path: "/bin/grep").run(["-rl", SandboxCertificates.storePassword, output])
        #expect(password.status == 1 && password.stdout.isEmpty, "the stores' password appears in no file of the bundle: \(password.stdout)")
    }

    /// 3.9.3 without a Netty new enough for its quorum TLS is refused before a server starts, saying what to
    /// fetch; with the client port's TLS alone it serves, and its AdminServer's snapshot is read over HTTPS.
    @Test func version393IsRefusedQuorumTLSOnOldNettyBacksUpOverHTTPSRollsRestoresAndIsCollected() throws {
        let jars = Sandbox.jarFolder("3.9.3")
        guard FileManager.default.fileExists(atPath: jars + "/zookeeper-3.9.3.jar") else {
            throw HarnessError(message: "no ZooKeeper 3.9.3 jars in \(jars): run bash packaging/fetch-zookeeper-jars.sh 3.9.3")
        }
        let workspace = Scratch("tls-393")
        // Only the version's own jars: no fetched Netty beside them, so Debian's 4.1.48 is the one found.
        let bare = workspace.folder("jars-3.9.3")
        for name in try FileManager.default.contentsOfDirectory(atPath: jars) where !name.hasPrefix("netty-") {
            try FileManager.default.copyItem(atPath: jars + "/" + name, toPath: bare + "/" + name)
        }
        let refused = try zkrunbook.run(
            ["sandbox", "up", "--tls", "--zookeeper", bare, "--dir", workspace.file("refused"), "--base-port", "33000"],
            environment: ["ZKRUNBOOK_ZOOKEEPER_JARS": workspace.folder("no-jar-cache")])
        #expect(refused.status == 2, "\(refused.stdout)\n\(refused.stderr)")
        #expect(refused.stderr.contains("Netty 4.1.113 or newer") && refused.stderr.contains("fetch-zookeeper-jars.sh netty-4.1.118"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.file("refused") + "/node1/pid"), "no server was started")

        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--tls", "--no-quorum-tls", "--admin-https", "--zookeeper", bare], firstPort: 32_500)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let whole = try status(["--ensemble", ensemble.file])
        #expect(whole.status == 0 && whole.stdout.contains("scope: whole"), "\(whole.stdout)\n\(whole.stderr)")
        #expect(try zkrunbook.run(["zk", "create", "/tls-393", "kept", "--ensemble", ensemble.file]).status == 0)
        let dest = workspace.file("backups")
        let backup = try zkrunbook.run(
            ["run", "backup", "--ensemble", ensemble.file, "--param", "dest=\(dest)", "--state-dir", workspace.file("state"), "--json"],
            directory: repositoryRoot, timeout: 300)
        #expect(backup.status == 0, "\(backup.stdout.suffix(2000))")
        #expect(backup.stdout.contains("from its AdminServer's snapshot"), "3.9's snapshot command over HTTPS: \(backup.stdout.suffix(1500))")
        #expect(backup.stdout.contains("count matched"), "\(backup.stdout.suffix(1500))")

        // A rolling restart of the 3.9.3 servers with kazoo writing over TLS throughout.
        _ = try rollWithKazooOverTLS(ensemble, workspace, label: "3.9.3")

        // The znode deleted, the backup restored: it reads back; then a bundle with every server's words over TLS.
        let folder = dest + "/" + (try #require(((try? FileManager.default.contentsOfDirectory(atPath: dest)) ?? []).sorted().last))
        #expect(try zkrunbook.run(["zk", "delete", "/tls-393", "--ensemble", ensemble.file]).status == 0)
        let restore = try zkrunbook.run(
            [
                "run", "restore", "--ensemble", ensemble.file, "--param", "backup=\(folder)", "--param", "confirm=sandbox-\(ensemble.base)", "--state-dir",
                workspace.file("state"), "--json",
            ], directory: repositoryRoot, timeout: 600)
        #expect(restore.status == 0, "\(restore.stdout.suffix(3000))")
        #expect(try zkrunbook.run(["zk", "get", "/tls-393", "--ensemble", ensemble.file]).stdout == "kept", "the restore brought it back")
        let output = workspace.folder("bundles")
        let collect = try zkrunbook.run(["collect", "--ensemble", ensemble.file, "--output", output, "--state-dir", workspace.file("state")], timeout: 300)
        #expect(collect.status == 0 && collect.stdout.contains("3 of 3 server(s) collected"), "\(collect.stdout)\n\(collect.stderr)")
    }

    /// ZooKeeper's three rolls on a running ensemble whose servers talk plaintext, kazoo writing throughout:
    /// first with one server's quorum keystore password wrong (the run halts after roll 1, every server back
    /// on roll 1's files and serving), then, the password put right, again: roll 1 skipped, rolls 2 and 3
    /// done, every election port speaking TLS.
    @Test func enableQuorumTLSHaltsOnAWrongKeystorePasswordThenFinishesOnceItIsRight() throws {
        let workspace = Scratch("quorum-tls")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--tls", "--tls-plaintext-port", "--no-quorum-tls"], firstPort: 33_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let files = ensemble.sandbox.certificates
        func zooCfg(_ node: Int) -> String { (try? String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)) ?? "" }
        for node in 1...3 { #expect(!zooCfg(node).contains("sslQuorum=true") && !ensemble.log(node).contains("TLS-only quorum server socket")) }
        // TLS asked of the real server's plaintext client port: named, with its fix.
        let plaintextPort = try status([
            "--server", "127.0.0.1:\(ensemble.base + 1)", "--tls-ca", files.caFile, "--tls-cert", files.clientCertificate, "--tls-key", files.clientKey,
        ])
        #expect(plaintextPort.stdout.contains("the port does not speak TLS") && plaintextPort.stdout.contains("secureClientPort"), "\(plaintextPort.stdout)")
        // The server logged those hellos as a "Len error" of 369295617 (a TLS record read as a length): doctor names a TLS client.
        try poll("server 1's log of the TLS hellos", timeout: 30) { ensemble.log(1).contains("369295") }
        let doctor = try zkrunbook.run(["doctor", "--logs", ensemble.directory + "/node1/zookeeper.log", "--json"])
        #expect(doctor.stdout.contains("\"tls-on-plaintext-port\"") && !doctor.stdout.contains("\"request-over-maxbuffer\""), "\(doctor.stdout.prefix(3000))")
        let state = workspace.file("state")
        func enable() throws -> ZKRunbookBinary.Result {
            try zkrunbook.run(
                ["run", "enable-quorum-tls", "--ensemble", ensemble.file, "--param", "gateTimeout=30s", "--state-dir", state, "--json"],
                directory: repositoryRoot, timeout: 900)
        }

        // Server 2's quorum keystore cannot be opened: it serves as before (nothing asks for the key yet).
        let good = zooCfg(2)
        try good.replacingOccurrences(of: "ssl.quorum.keyStore.password=\(SandboxCertificates.storePassword)", with: "ssl.quorum.keyStore.password=wrong")
            .write(toFile: ensemble.zooCfg(2), atomically: true, encoding: .utf8)
        #expect(try zkrunbook.run(["sandbox", "restart", "--dir", ensemble.directory, "--node", "2", "--wait"]).status == 0)

        let witness = try KazooWitness.start(ensemble, in: workspace, name: "first")
        let down = DownCounter(ports: (1...3).map(ensemble.clientPort))
        let halted = try enable()
        let firstDown = down.stop()
        let firstVerdict = try witness.finish()
        #expect(halted.status == 1, "\(halted.stdout.suffix(3000))")
        let events = jsonLines(halted.stdout)
        let finished = Set(
            events.filter { $0["type"] as? String == "step-finished" && $0["parentStep"] == nil && $0["status"] as? String == "succeeded" }.compactMap {
                $0["step"] as? String
            })
        #expect(finished.contains("change-each-node-unify"), "roll 1 done: \(finished.sorted())")
        #expect(!finished.contains("change-each-node-only"), "roll 3 never started")
        for node in 1...3 {
            #expect(
                zooCfg(node).contains("portUnification=true") && zooCfg(node).contains("sslQuorum=false"), "node \(node) on roll 1's files:\n\(zooCfg(node))")
        }
        let after = try status(["--ensemble", ensemble.file])
        #expect(after.status == 0, "every server serves on roll 1's files: \(after.stdout)")
        #expect(firstVerdict.lost.isEmpty, "acknowledged writes lost: \(firstVerdict.lost.prefix(5))")
        #expect(firstDown.maxDown <= 1, "at most one server down at a time: \(firstDown)")

        // The password put right on server 2 (on roll 1's files), and the runbook run again.
        let fixed = zooCfg(2).replacingOccurrences(
            of: "ssl.quorum.keyStore.password=wrong", with: "ssl.quorum.keyStore.password=\(SandboxCertificates.storePassword)")
        try fixed.write(toFile: ensemble.zooCfg(2), atomically: true, encoding: .utf8)
        #expect(try zkrunbook.run(["sandbox", "restart", "--dir", ensemble.directory, "--node", "2", "--wait"]).status == 0)
        try poll("the ensemble healthy after server 2's restart", timeout: 60) { (try? status(["--ensemble", ensemble.file]))?.status == 0 }
        let second = try KazooWitness.start(ensemble, in: workspace, name: "second")
        let downAgain = DownCounter(ports: (1...3).map(ensemble.clientPort))
        let done = try enable()
        let secondDown = downAgain.stop()
        let secondVerdict = try second.finish()
        print(
            "enable-quorum-tls: halted run \(firstVerdict.acked) writes/\(firstVerdict.lost.count) lost/max \(firstDown.maxDown) down; "
                + "second run \(secondVerdict.acked) writes/\(secondVerdict.lost.count) lost/max \(secondDown.maxDown) down over \(secondDown.samples) samples")
        #expect(done.status == 0, "\(done.stdout.suffix(3000))")
        #expect(done.stdout.contains("every node already holds this change"), "roll 1 skipped: every node held it")
        #expect(secondVerdict.lost.isEmpty && secondDown.maxDown <= 1, "\(secondVerdict.lost.prefix(5)) \(secondDown)")
        for node in 1...3 {
            #expect(zooCfg(node).contains("sslQuorum=true") && !zooCfg(node).contains("portUnification"), "node \(node):\n\(zooCfg(node))")
            #expect(ensemble.log(node).contains("Creating TLS-only quorum server socket"), "node \(node)'s log shows the TLS-only quorum socket")
            // Live: the election port completes a TLS handshake with a certificate of the sandbox's CA.
            let handshake = try ZKRunbookBinary(path: "/usr/bin/openssl").run(
                [
                    "s_client", "-connect", "127.0.0.1:\(ensemble.sandbox.spec.electionPort(node))", "-cert", files.clientCertificate, "-key", files.clientKey,
                    "-CAfile", files.caFile, "-verify_return_error", "-brief",
                ], timeout: 20)
            #expect(handshake.stderr.contains("CONNECTION ESTABLISHED"), "node \(node)'s election port speaks TLS: \(handshake.stderr.prefix(400))")
        }
    }

    /// The serial each server shows over a handshake, by id, from status --json.
    func serials(_ ensemble: SandboxEnsemble) throws -> [Int: String] {
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let view = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        var out: [Int: String] = [:]
        for case let member as [String: Any] in view?["members"] as? [Any] ?? [] {
            let id = (member["member"] as? [String: Any])?["id"] as? Int
            let serial = ((member["facts"] as? [String: Any])?["certificate"] as? [String: Any])?["serial"] as? String
            if let id, let serial { out[id] = serial }
        }
        return out
    }

    /// Renewed certificates put in place on every node, then rotate-certs with kazoo writing over TLS: every
    /// server shows its new serial over a handshake afterwards. A node whose files were not renewed halts the run.
    @Test func rotateCertsPutsEveryRenewedCertificateIntoServiceAndHaltsOnANodeNotRenewed() throws {
        let workspace = Scratch("rotate-certs")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--tls"], firstPort: 33_500)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let original = try serials(ensemble)
        #expect(original.count == 3, "\(original)")
        // Renewed for 20 days only: what status, the metrics and doctor then say of them is checked below.
        #expect(try zkrunbook.run(["sandbox", "renew-certs", "--dir", ensemble.directory, "--serial-base", "2000", "--days", "20"]).status == 0)
        #expect(try serials(ensemble) == original, "renewed files are not served before a restart")

        let witness = try KazooWitness.start(ensemble, in: workspace)
        let rotate = try zkrunbook.run(
            ["run", "rotate-certs", "--ensemble", ensemble.file, "--json", "--state-dir", workspace.file("state")], directory: repositoryRoot, timeout: 300)
        let verdict = try witness.finish()
        print("rotate-certs: kazoo over TLS wrote \(verdict.acked) writes, \(verdict.lost.count) lost, longest gap \(verdict.longestGapMs) ms")
        #expect(rotate.status == 0, "\(rotate.stdout.suffix(3000))")
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        let renewed = try serials(ensemble)
        #expect(renewed == [1: "07D1", 2: "07D2", 3: "07D3"], "every server shows its new certificate (serials 2001-2003): \(renewed)")
        let soon = try status(["--ensemble", ensemble.file])
        #expect(soon.stdout.contains("(19 day(s) left: renew soon)"), "\(soon.stdout)")
        let metrics = workspace.file("zookeeper.prom")
        #expect(try status(["--ensemble", ensemble.file, "--prometheus", metrics]).status == 0)
        let exposition = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
        let expiries = exposition.split(separator: "\n").filter { $0.hasPrefix("zookeeper_tls_certificate_expiry_timestamp_seconds{") }
        #expect(expiries.count == 3, "one expiry series per server: \(exposition.prefix(3000))")
        let doctor = try zkrunbook.run(["doctor", "--ensemble", ensemble.file, "--json"])
        #expect(
            doctor.stdout.contains("\"certificate-expiry\"") && doctor.stdout.contains("\"warning\""),
            "doctor warns under 30 days: \(doctor.stdout.prefix(2000))")

        // Renewed again, but node 2's old keystore put back: the run halts when server 2 still shows it.
        let store = ensemble.sandbox.certificates.keyStore(2)
        let kept = try Data(contentsOf: URL(fileURLWithPath: store))
        #expect(try zkrunbook.run(["sandbox", "renew-certs", "--dir", ensemble.directory, "--serial-base", "3000"]).status == 0)
        try kept.write(to: URL(fileURLWithPath: store))
        let halted = try zkrunbook.run(
            ["run", "rotate-certs", "--ensemble", ensemble.file, "--param", "gateTimeout=10s", "--json", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 300)
        #expect(halted.status == 1, "\(halted.stdout.suffix(2000))")
        #expect(halted.stdout.contains("still the certificate of before on server(s) 2"), "\(halted.stdout.suffix(2000))")
        let after = try serials(ensemble)
        #expect(after[2] == "07D2", "server 2 serves the certificate it had: \(after)")
        #expect(try status(["--ensemble", ensemble.file]).status == 0, "the ensemble serves")
    }

    /// A plaintext ensemble whose servers have their stores (sandbox --tls-files-only): enable-client-tls opens
    /// each server's planned secure port with kazoo writing in plaintext throughout; the TLS ensemble file then
    /// reaches every server over TLS; removing the plaintext port is refused while the ensemble file still
    /// reaches servers there, and done, as its own run, through the TLS file.
    @Test func enableClientTLSOpensTheSecurePortsThenThePlaintextPortIsRemovedOnItsOwn() throws {
        let workspace = Scratch("client-tls")
        let ensemble = try zkrunbook.sandbox(workspace, extra: ["--tls", "--tls-files-only"], firstPort: 34_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let secured = ensemble.directory + "/" + Sandbox.securedEnsembleFile
        let state = workspace.file("state")
        for node in 1...3 { #expect(!((try? String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)) ?? "").contains("secureClientPort")) }

        let witness = try KazooWitness.start(ensemble, in: workspace)
        let down = DownCounter(ports: (1...3).map(ensemble.clientPort))
        let opened = try zkrunbook.run(
            ["run", "enable-client-tls", "--ensemble", ensemble.file, "--json", "--state-dir", state], directory: repositoryRoot, timeout: 600)
        let sampled = down.stop()
        let verdict = try witness.finish()
        print(
            "enable-client-tls: kazoo wrote \(verdict.acked) writes, \(verdict.lost.count) lost; at most \(sampled.maxDown) server(s) down over \(sampled.samples) samples"
        )
        #expect(opened.status == 0, "\(opened.stdout.suffix(3000))")
        #expect(verdict.lost.isEmpty && sampled.maxDown <= 1, "\(verdict.lost.prefix(5)) \(sampled)")
        // A server's first TLS handshake after its start is slow (its TLS context is made then): looked at until whole.
        try poll("every server healthy over TLS through the TLS ensemble file", timeout: 90) {
            (try? status(["--ensemble", secured, "--timeout", "5s"]))?.status == 0
        }

        // The plaintext port: refused while the ensemble file reaches the servers there; removed through the TLS file.
        let change = ["run", "rolling-config-change", "--param", "remove=clientPort;clientPortAddress", "--json", "--state-dir", state]
        let refused = try zkrunbook.run(change + ["--ensemble", ensemble.file], directory: repositoryRoot, timeout: 120)
        #expect(refused.status == 3 && refused.stdout.contains("removing clientPort would close port"), "\(refused.stdout.suffix(1500))")
        let removed = try zkrunbook.run(change + ["--ensemble", secured, "--param", "gateTimeout=90s"], directory: repositoryRoot, timeout: 600)
        #expect(removed.status == 0, "\(removed.stdout.suffix(3000))")
        for node in 1...3 {
            let config = (try? String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)) ?? ""
            #expect(!config.contains("\nclientPort=") && config.contains("secureClientPort="), "node \(node): TLS only now:\n\(config)")
        }
        let plaintext = try status(["--server", "127.0.0.1:\(ensemble.base + 1)"])
        #expect(plaintext.stdout.contains("refused"), "nothing listens on the plaintext port: \(plaintext.stdout)")
        #expect(try status(["--ensemble", secured, "--timeout", "5s"]).status == 0)
    }

    /// Membership through reconfig on secured servers: a server with only a secure client port cannot be added
    /// (ZooKeeper's reconfig needs each new server's client port), refused before any change and said so; with a
    /// plaintext client port beside the secure one, a server is added and removed, every gate over TLS.
    @Test func addAndRemoveServerOverTLSAndTheTLSOnlyServerRefusedBeforeAnyChange() throws {
        let workspace = Scratch("tls-reconfig")
        let state = workspace.file("state")
        func change(_ runbook: String, _ ensemble: SandboxEnsemble, listing nodes: [Int]) throws -> ZKRunbookBinary.Result {
            try zkrunbook.run(
                ["run", runbook, "--ensemble", try ensemble.file(listing: nodes), "--param", "server=4", "--json", "--state-dir", state],
                directory: repositoryRoot, timeout: 600)
        }
        let only = try zkrunbook.sandbox(workspace, extra: ["--tls", "--reconfig", "--spares", "1"], firstPort: 34_500)
        let refused = try change("add-server", only, listing: [1, 2, 3, 4])
        _ = try? zkrunbook.run(["sandbox", "down", "--dir", only.directory])
        #expect(refused.status == 3, "\(refused.stdout.suffix(2000))")
        #expect(
            refused.stdout.contains("server 4 has no plaintext client port") && refused.stdout.contains("add-server-static"), "\(refused.stdout.suffix(2000))")
        #expect(!refused.stdout.contains("\"step\":\"join\",\"status\":\"succeeded\""), "nothing was started or changed")

        let both = try zkrunbook.sandbox(workspace, extra: ["--tls", "--tls-plaintext-port", "--reconfig", "--spares", "1"], firstPort: 34_500)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", both.directory]) }
        let added = try change("add-server", both, listing: [1, 2, 3, 4])
        #expect(added.status == 0, "\(added.stdout.suffix(3000))")
        let four = try status(["--ensemble", try both.file(listing: [1, 2, 3, 4])])
        #expect(four.status == 0 && four.stdout.contains("127.0.0.1:\(both.clientPort(4))"), "server 4 reached on its secure port: \(four.stdout)")
        let removed = try change("remove-server", both, listing: [1, 2, 3, 4])
        #expect(removed.status == 0, "\(removed.stdout.suffix(3000))")
        #expect(try status(["--ensemble", both.file]).status == 0)
    }
}
