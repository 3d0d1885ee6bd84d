import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A sandbox ensemble a test started (`zkrunbook sandbox up`): its folder, ports and files.
struct SandboxEnsemble {
    var directory: String
    var base: Int
    var nodes: Int
    var file: String { directory + "/ensemble.json5" }
    func pid(_ node: Int) -> String { (try? String(contentsOfFile: "\(directory)/node\(node)/pid", encoding: .utf8)) ?? "" }
    var pids: [String] { (1...nodes).map(pid) }
    func log(_ node: Int) -> String { (try? String(contentsOfFile: "\(directory)/node\(node)/zookeeper.log", encoding: .utf8)) ?? "" }
    func zooCfg(_ node: Int) -> String { "\(directory)/node\(node)/zoo.cfg" }
    func myid(_ node: Int) -> String { "\(directory)/node\(node)/data/myid" }
    func clientPort(_ node: Int) -> Int { base + node }
    /// New leaders elected so far: the "LEADING - LEADER ELECTION TOOK" lines of every node.
    var leaderElections: Int { (1...nodes).map { log($0).components(separatedBy: "LEADING - LEADER ELECTION TOOK").count - 1 }.reduce(0, +) }

    /// The ensemble file again, with every node reached over `ssh` (and runbooks from the repo).
    func overSSH(_ ssh: SSHServer, zkrunbook: ZKRunbookBinary, agent: String? = nil) throws -> String {
        try variant("ensemble-ssh.json5") { text in
            text = text.replacingOccurrences(of: "/zoo.cfg\" },", with: "/zoo.cfg\", \(ssh.sshBlock) },")
            if let agent { text = text.replacingOccurrences(of: "agentPath: \"\(zkrunbook.path)\"", with: "agentPath: \"\(agent)\"") }
        }
    }

    /// A copy of the ensemble file named `name`, changed by `edit`, whose agents find runbooks in the repo.
    func variant(_ name: String, _ edit: (inout String) throws -> Void) throws -> String {
        var text = try String(contentsOfFile: file, encoding: .utf8)
        try edit(&text)
        text = text.replacingOccurrences(of: "  agentPath:", with: "  runbookPath: \"\(repositoryRoot)/runbooks\",\n  agentPath:")
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

extension ZKRunbookBinary {
    /// Starts a sandbox on the first free base port from `firstPort` on (suites start apart, and retry on a
    /// port in use, since suites run side by side).
    func sandbox(_ workspace: Workspace, nodes: Int = 3, observers: Int = 0, extra: [String] = [], firstPort: Int) throws -> SandboxEnsemble {
        for attempt in 0..<10 {
            let base = firstPort + ((Int(getpid()) + attempt * 13 + nodes) % 85) * 400
            let directory = workspace.file("sandbox-\(base)")
            let up = try run(
                ["sandbox", "up", "--nodes", String(nodes), "--observers", String(observers), "--dir", directory, "--base-port", String(base)] + extra,
                timeout: 120)
            if up.status == 0 { return SandboxEnsemble(directory: directory, base: base, nodes: nodes) }
            if !up.stderr.contains("is in use") { throw HarnessError(message: "sandbox up failed (exit \(up.status)):\n\(up.stdout)\n\(up.stderr)") }
        }
        throw HarnessError(message: "no free base port for a sandbox")
    }
}
