import Foundation
import ZKRunbookTestSupport
import Testing

/// Changing an ensemble safely, on real sandboxes: configuration drift read on every node by its agent over ssh.
@Suite(.serialized, .tags(.realZooKeeper, .ssh))
struct EnsembleChangeTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func edit(_ path: String, _ change: (inout String) -> Void) throws {
        var text = try String(contentsOfFile: path, encoding: .utf8)
        change(&text)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A clean sandbox shows no drift; then a setting changed on one node, a server line added on another and a
    /// wrong myid on a third are each named, over ssh through the agents; a node whose agent cannot read its
    /// files makes the picture partial, never cleaner.
    @Test func driftIsFoundAndNamedOnEveryNodeThroughItsAgent() throws {
        let workspace = Scratch("drift")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let file = try ensemble.overSSH(ssh, zkrunbook: zkrunbook)

        let clean = try zkrunbook.run(["diff", "--ensemble", file])
        #expect(clean.status == 0, "\(clean.stdout)\n\(clean.stderr)")
        #expect(clean.stdout.contains("3 of 3 node(s) read") && clean.stdout.contains("verdict: no drift"), "\(clean.stdout)")
        #expect(clean.stdout.contains("set per node, as expected:") && clean.stdout.contains("zoo.cfg clientPort"), "\(clean.stdout)")

        try edit(ensemble.zooCfg(2)) { $0 = $0.replacingOccurrences(of: "maxClientCnxns=100", with: "maxClientCnxns=60") }
        try edit(ensemble.zooCfg(3)) { $0 += "server.4=127.0.0.1:29999:29998\n" }
        try "7\n".write(toFile: ensemble.myid(1), atomically: true, encoding: .utf8)
        let drifted = try zkrunbook.run(["diff", "--ensemble", file, "--json"])
        #expect(drifted.status == 1, "\(drifted.stdout)\n\(drifted.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(drifted.stdout.utf8)) as? [String: Any])
        let findings = (report["findings"] as? [[String: Any]]) ?? []
        #expect(findings.compactMap { $0["kind"] as? String } == ["server-lists-differ", "myid-mismatch", "not-in-own-list", "settings-differ"], "\(findings)")
        let rows = (report["rows"] as? [[String: Any]]) ?? []
        let cnxns = rows.first { $0["key"] as? String == "maxClientCnxns" }
        #expect((cnxns?["values"] as? [String: String]) == ["1": "100", "2": "60", "3": "100"], "\(rows)")
        #expect(rows.contains { $0["key"] as? String == "server.4" && ($0["values"] as? [String: Any])?["3"] as? String == "127.0.0.1:29999:29998:participant" })

        let human = try zkrunbook.run(["diff", "--ensemble", file])
        #expect(human.stdout.contains("split-brain risk"), "\(human.stdout)")
        #expect(human.stdout.contains("says '7', but the ensemble file lists this node as server 1"), "\(human.stdout)")

        // Node 3's zoo.cfg named wrongly: it is not read, and nothing is claimed of it.
        let partial = try ensemble.variant("ensemble-partial.json5") { text in
            text = text.replacingOccurrences(of: "/node3/zoo.cfg\" }", with: "/node3/missing.cfg\" }")
            text = text.replacingOccurrences(of: "/zoo.cfg\" },", with: "/zoo.cfg\", \(ssh.sshBlock) },")
            text = text.replacingOccurrences(of: "/missing.cfg\" }", with: "/missing.cfg\", \(ssh.sshBlock) }")
        }
        let seen = try zkrunbook.run(["diff", "--ensemble", partial])
        #expect(seen.status == 1)
        #expect(seen.stdout.contains("2 of 3 node(s) read"), "\(seen.stdout)")
        #expect(seen.stdout.contains("unread: node 3") && seen.stdout.contains("missing.cfg"), "\(seen.stdout)")
        #expect(!seen.stdout.contains("server-lists-differ"), "node 3's extra server is not judged unseen: \(seen.stdout)")
    }

    /// The files that a config change may touch, by node: zoo.cfg, myid, java.env (nil when absent).
    func files(_ ensemble: SandboxEnsemble) -> [String: String?] {
        var out: [String: String?] = [:]
        for node in 1...ensemble.nodes {
            for path in [ensemble.zooCfg(node), ensemble.myid(node), ensemble.directory + "/node\(node)/java.env"] {
                out.updateValue(try? String(contentsOfFile: path, encoding: .utf8), forKey: path)
            }
        }
        return out
    }

    /// maxClientCnxns to 60 on a 3-node ensemble where node 2 already has it: nodes 1 and 3 are changed and
    /// restarted (the leader last, one election at most), node 2 is left running; a kazoo client writes
    /// throughout and loses nothing; every node's file holds the value afterwards.
    @Test func aRollingConfigChangeRestartsOnlyTheNodesWhoseConfigChanged() throws {
        let workspace = Scratch("config-change")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        try edit(ensemble.zooCfg(2)) { $0 = $0.replacingOccurrences(of: "maxClientCnxns=100", with: "maxClientCnxns=60") }
        // Node 2 runs with its file's old value until restarted: restart it now, so only the file decides.
        #expect(try zkrunbook.run(["sandbox", "restart", "--dir", ensemble.directory, "--node", "2"]).status == 0)
        try poll("the ensemble healthy after node 2's restart", timeout: 60) {
            (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0
        }
        let pids = ensemble.pids
        let electionsBefore = ensemble.leaderElections
        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try zkrunbook.run(
            ["run", "rolling-config-change", "--ensemble", ensemble.file, "--param", "set=maxClientCnxns=60", "--json", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 600)
        let verdict = try witness.finish()
        let elections = ensemble.leaderElections - electionsBefore
        print("config change: exit \(run.status); pids \(pids) -> \(ensemble.pids); \(elections) election(s); kazoo: \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest write gap \(verdict.longestGapMs) ms")
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\n\(run.stderr)")
        let check = jsonLines(run.stdout).first { $0["type"] as? String == "step-finished" && $0["step"] as? String == "check" }
        let facts = check?["facts"] as? [String: Any]
        #expect(facts?["changedNodes"] as? String == "1,3" && facts?["diff.2"] as? String == "unchanged", "\(facts ?? [:])")
        #expect(facts?["diff.1"] as? String == "maxClientCnxns: 100 -> 60", "\(facts ?? [:])")
        let after = ensemble.pids
        #expect(after[1] == pids[1], "node 2's config did not change: it was not restarted")
        #expect(after[0] != pids[0] && after[2] != pids[2], "nodes 1 and 3 were restarted: \(pids) -> \(after)")
        #expect(elections <= 1, "at most one election (the leader last): \(elections)")
        for node in 1...3 { #expect(try String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8).contains("maxClientCnxns=60\n")) }
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(verdict.acked > 20)
    }

    /// The same change, with the second restart failing: that node puts its own files back and restarts on
    /// them, the node changed before it is put back and restarted too, and every file is byte for byte as it
    /// was; the ensemble serves throughout, no acknowledged write lost.
    @Test func aConfigChangeThatFailsOnTheSecondNodeIsUndoneByteForByte() throws {
        let workspace = Scratch("config-change-fail")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 29_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        // A restart command whose second call fails (the node's restart never happens), the others restart.
        let counter = workspace.file("restarts")
        let wrapper = workspace.file("restart.sh")
        try """
            #!/bin/sh
            n=$(( $(cat \(counter) 2>/dev/null || echo 0) + 1 )); echo $n > \(counter)
            [ "$n" = 2 ] && { echo "restart $n refused by the test" >&2; exit 1; }
            exec "\(zkrunbook.path)" sandbox restart --dir "\(ensemble.directory)" --node "$1"
            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        let file = try ensemble.variant("ensemble-failing.json5") { text in
            let start = text.range(of: "restartCommand: [")!
            let end = text[start.upperBound...].range(of: "],")!
            text.replaceSubrange(start.lowerBound..<end.upperBound, with: "restartCommand: [\"\(wrapper)\", \"${node.id}\"],")
        }
        let before = files(ensemble)
        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try zkrunbook.run(
            ["run", "rolling-config-change", "--ensemble", file, "--param", "set=maxClientCnxns=60", "--param", "javaEnv=JVMFLAGS=-Xmx256m",
             "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 600)
        let verdict = try witness.finish()
        print("failed config change: exit \(run.status); \((try? String(contentsOfFile: counter, encoding: .utf8)) ?? "?") restart command(s); kazoo: \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest write gap \(verdict.longestGapMs) ms")
        #expect(run.status == 1, "\(run.stdout.suffix(3000))\n\(run.stderr)")
        #expect(run.stdout.contains("rolled back"), "\(run.stdout.suffix(2000))")
        let now = files(ensemble)
        for (path, text) in before { #expect(now[path] == text, "\(path) is not as it was") }
        #expect(now.count == before.count)
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        try poll("the ensemble healthy after the rollback", timeout: 60) {
            (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0
        }
    }
}
