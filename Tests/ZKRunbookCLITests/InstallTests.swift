import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `zkrunbook install` over a real sshd on loopback: three "nodes" are three agent paths on this machine.
@Suite(.serialized, .tags(.ssh))
struct InstallTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func agent(_ workspace: Scratch, _ node: Int) -> String { workspace.file("node\(node)/bin/zkrunbook") }
    func state(_ workspace: Scratch, _ node: Int) -> String { workspace.file("node\(node)/state") }

    func ensembleFile(_ workspace: Scratch, ssh: String) -> String {
        let nodes = (1...3).map { node in
            "{ id: \(node), host: \"127.0.0.1\", clientPort: \(2180 + node), agentPath: \"\(agent(workspace, node))\", stateDir: \"\(state(workspace, node))\", \(ssh) }"
        }
        return workspace.write(
            "ensemble.json5",
            "{ name: \"install-test\", runbookPath: \"\(workspace.file("books"))\", restartCommand: [\"true\"],\n  nodes: [\n    "
                + nodes.joined(separator: ",\n    ") + ",\n  ],\n}\n")
    }

    /// The file's bytes, compared whole (a byte-for-byte check needs no hash).
    func contents(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data("missing \(path)".utf8) }

    @Test func installsVerifiesIsIdempotentAndNeverReplacesABusyAgent() throws {
        let workspace = Scratch("install")
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let ensemble = ensembleFile(workspace, ssh: ssh.sshBlock)

        let dry = try zkrunbook.run(["install", "--ensemble", ensemble, "--dry-run"], directory: repositoryRoot, timeout: 120)
        #expect(dry.status == 0, "\(dry.stdout)\n\(dry.stderr)")
        #expect(dry.stdout.contains("3 would be installed"), "\(dry.stdout)")
        #expect(!FileManager.default.fileExists(atPath: agent(workspace, 1)), "a dry run copies nothing")

        let first = try zkrunbook.run(["install", "--ensemble", ensemble], directory: repositoryRoot, timeout: 300)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("3 installed"), "\(first.stdout)")
        #expect(first.stdout.contains("over ssh to root@127.0.0.1:\(ssh.port)"), "the copy went over ssh: \(first.stdout)")
        let original = contents(zkrunbook.path)
        for node in 1...3 {
            #expect(contents(agent(workspace, node)) == original, "node \(node)'s agent is byte-identical to the source")
            #expect(FileManager.default.isExecutableFile(atPath: agent(workspace, node)))
        }
        let shipped = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/runbooks").filter { $0.hasSuffix(".json5") }
        for name in shipped {
            #expect(contents(workspace.file("books/\(name)")) == contents(repositoryRoot + "/runbooks/\(name)"), "runbook \(name)")
        }
        // The parts go with the runbooks that include them: an installed rolling-restart loads there.
        let parts = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/runbooks/parts").filter { $0.hasSuffix(".json5") }
        #expect(!parts.isEmpty)
        for name in parts {
            #expect(contents(workspace.file("books/parts/\(name)")) == contents(repositoryRoot + "/runbooks/parts/\(name)"), "part \(name)")
        }
        let installedRoll = try zkrunbook.run(["validate", workspace.file("books/rolling-restart.json5")])
        #expect(installedRoll.status == 0, "\(installedRoll.stdout)\(installedRoll.stderr)")
        let strays = try FileManager.default.contentsOfDirectory(atPath: workspace.file("books/parts")).filter { $0.contains("zkrunbook-new") }
        #expect(strays.isEmpty, "no temporary file left among the parts: \(strays)")
        let version = try ZKRunbookBinary(path: agent(workspace, 2)).run(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("zkrunbook "), "the installed agent runs: \(version.stdout)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: workspace.file("node1/bin")).filter { $0.contains("zkrunbook-new") }
        #expect(leftovers.isEmpty, "no temporary file is left beside the agent")

        let again = try zkrunbook.run(["install", "--ensemble", ensemble], directory: repositoryRoot, timeout: 300)
        #expect(again.status == 0)
        #expect(again.stdout.contains("0 installed, 3 already current"), "a second install copies nothing: \(again.stdout)")

        // A new build (a different file) while node 2's agent runs a journaled run: refused everywhere.
        let newBuild = workspace.file("zkrunbook-new-build")
        var bytes = try #require(FileManager.default.contents(atPath: zkrunbook.path))
        bytes.append(contentsOf: Array("\nnew build\n".utf8))
        try bytes.write(to: URL(fileURLWithPath: newBuild))
        chmod(newBuild, 0o755)
        let hold = workspace.write(
            "hold.json5",
            "{ name: \"hold\", description: \"keeps a journaled run open\", steps: [{ id: \"hold\", description: \"wait\", action: \"sleep\", with: { duration: \"120s\" } }] }\n"
        )
        let busy = try ZKRunbookBinary(path: agent(workspace, 2)).start(["run", hold, "--state-dir", state(workspace, 2)])
        try poll("node 2's run to hold its lock", timeout: 30) {
            !((try? String(contentsOfFile: state(workspace, 2) + "/locks/node.lock", encoding: .utf8)) ?? "").isEmpty
        }
        let refused = try zkrunbook.run(["install", "--ensemble", ensemble, "--binary", newBuild, "--no-runbooks"], timeout: 300)
        #expect(refused.status == 3, "\(refused.stdout)\n\(refused.stderr)")
        #expect(refused.stdout.contains("node 2: a journaled run is using \(agent(workspace, 2)); not replaced"), "\(refused.stdout)")
        #expect(refused.stdout.contains("pid \(busy.pid)"), "the refusal names the run's pid: \(refused.stdout)")
        #expect(refused.stdout.contains("2 held back"), "\(refused.stdout)")
        for node in 1...3 { #expect(contents(agent(workspace, node)) == original, "node \(node) was not touched") }

        busy.signal(SIGKILL)
        _ = try busy.wait(timeout: 30)
        let after = try zkrunbook.run(["install", "--ensemble", ensemble, "--binary", newBuild, "--no-runbooks"], timeout: 300)
        #expect(after.status == 0, "\(after.stdout)\n\(after.stderr)")
        for node in 1...3 { #expect(contents(agent(workspace, node)) == bytes, "node \(node) has the new build") }
    }

    @Test func anUnreachableNodeStopsTheInstallBeforeAnyCopy() throws {
        let workspace = Scratch("install-down")
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        var text = try String(contentsOfFile: ensembleFile(workspace, ssh: ssh.sshBlock), encoding: .utf8)
        // Node 3 is reached on a port nobody listens on.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.contains("id: 3,") ? line.replacingOccurrences(of: "port: \(ssh.port)", with: "port: 1") : String(line)
        }
        text = lines.joined(separator: "\n")
        let ensemble = workspace.write("ensemble-down.json5", text)
        let run = try zkrunbook.run(["install", "--ensemble", ensemble, "--no-runbooks"], timeout: 120)
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("preflight node 3"), "\(run.stdout)")
        #expect(run.stdout.contains("[ssh-unreachable]") || run.stdout.contains("unreachable"), "the failure is named: \(run.stdout)")
        #expect(run.stdout.contains("0 installed"), "\(run.stdout)")
        for node in 1...3 { #expect(!FileManager.default.fileExists(atPath: agent(workspace, node)), "nothing was copied to node \(node)") }
    }

    @Test func badInputIsAUsageErrorThatSaysWhatToSet() throws {
        let workspace = Scratch("install-usage")
        let noAgent = workspace.write("e.json5", "{ nodes: [{ id: 1, host: \"127.0.0.1\", clientPort: 2181 }], restartCommand: [\"true\"] }")
        let run = try zkrunbook.run(["install", "--ensemble", noAgent, "--no-runbooks"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("node 1 has no absolute agentPath"), "\(run.stderr)")
        let missing = try zkrunbook.run(["install"])
        #expect(missing.status == 2 && missing.stderr.contains("--ensemble FILE is required"))
    }
}
