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
}
