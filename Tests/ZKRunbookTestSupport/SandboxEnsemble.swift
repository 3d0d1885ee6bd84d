import Foundation
import ZKRunbookSandbox
import ZKRunbookZooKeeper

#if canImport(Glibc)
    import Glibc
#endif

/// A sandbox ensemble a test started (`zkrunbook sandbox up`, as an operator would): its folder, ports and
/// files, and the library's handle on it for tests that drive servers directly. The one sandbox fixture.
public struct SandboxEnsemble: Sendable {
    public var directory: String
    public var base: Int
    public var nodes: Int
    /// The library's view of the same sandbox: members, stop and start one node.
    public var sandbox: Sandbox
    /// The folder `start` made for it, removed by `close()`.
    var owned: String?
    public var file: String { directory + "/ensemble.json5" }
    public func pid(_ node: Int) -> String { (try? String(contentsOfFile: "\(directory)/node\(node)/pid", encoding: .utf8)) ?? "" }
    public var pids: [String] { (1...nodes).map(pid) }
    public func log(_ node: Int) -> String { (try? String(contentsOfFile: "\(directory)/node\(node)/zookeeper.log", encoding: .utf8)) ?? "" }
    public func zooCfg(_ node: Int) -> String { "\(directory)/node\(node)/zoo.cfg" }
    public func myid(_ node: Int) -> String { "\(directory)/node\(node)/data/myid" }
    /// The port clients reach node `node` on (its secure one in a `--tls` sandbox).
    public func clientPort(_ node: Int) -> Int { sandbox.spec.reachPort(node) }

    /// The `server.N=` lines of each of nodes 1 to `nodes`' /zookeeper/config, read through that node (the
    /// membership as every member holds it); a node that does not answer throws.
    public func membership(_ zkrunbook: ZKRunbookBinary, nodes: Int = 3) throws -> [[String]] {
        try (1...nodes).map { node in
            let config = try zkrunbook.run(["zk", "config", "--server", "127.0.0.1:\(clientPort(node))"])
            guard config.status == 0 else { throw HarnessError(message: "zk config through node \(node): exit \(config.status): \(config.stderr)") }
            return config.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("server.") }
        }
    }
    /// New leaders elected so far: the "LEADING - LEADER ELECTION TOOK" lines of every node.
    public var leaderElections: Int { (1...nodes).map { log($0).components(separatedBy: "LEADING - LEADER ELECTION TOOK").count - 1 }.reduce(0, +) }

    /// The ensemble file again, with every node reached over `ssh` (and runbooks from the repo).
    public func overSSH(_ ssh: SSHServer, zkrunbook: ZKRunbookBinary, agent: String? = nil) throws -> String {
        try variant("ensemble-ssh.json5") { text in
            text = text.replacingOccurrences(of: "/zoo.cfg\" },", with: "/zoo.cfg\", \(ssh.sshBlock) },")
            if let agent { text = text.replacingOccurrences(of: "agentPath: \"\(zkrunbook.path)\"", with: "agentPath: \"\(agent)\"") }
        }
    }

    /// A copy of the ensemble file named `name`, changed by `edit`, whose agents find runbooks in the repo.
    public func variant(_ name: String, _ edit: (inout String) throws -> Void) throws -> String {
        var text = try String(contentsOfFile: file, encoding: .utf8)
        try edit(&text)
        text = text.replacingOccurrences(of: "  agentPath:", with: "  runbookPath: \"\(repositoryRoot)/runbooks\",\n  agentPath:")
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A copy of the ensemble file whose restart command is `command` (a test's wrapper, a failing command).
    public func variant(_ name: String, restartCommand command: [String]) throws -> String {
        try variant(name) { text in
            guard let start = text.range(of: "restartCommand: ["), let end = text[start.upperBound...].range(of: "],") else {
                throw HarnessError(message: "no restartCommand in \(file)")
            }
            let words = command.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ", ")
            text.replaceSubrange(start.lowerBound..<end.upperBound, with: "restartCommand: [\(words)],")
        }
    }
}

extension ZKRunbookBinary {
    /// Starts a sandbox on the first free base port from `firstPort` on (suites start apart, and retry on a
    /// port in use, since suites run side by side).
    public func sandbox(_ workspace: Scratch, nodes: Int = 3, observers: Int = 0, extra: [String] = [], firstPort: Int) throws -> SandboxEnsemble {
        try sandbox(at: workspace.path, nodes: nodes, observers: observers, extra: extra, firstPort: firstPort)
    }

    public func sandbox(at folder: String, nodes: Int = 3, observers: Int = 0, extra: [String] = [], firstPort: Int) throws -> SandboxEnsemble {
        for attempt in 0..<25 {
            // Below the kernel's ephemeral range (32768 and up), where another test's outgoing connections
            // could take a port between the check and the bind; suites start apart by their firstPort.
            let base = 20_000 + ((firstPort / 100 + Int(getpid()) + attempt * 13 + nodes) % 25) * 500
            // Not while another sandbox of this test process holds it: one that is down for a while (a
            // restore's outage) would otherwise see another suite's sandbox take its ports (seen as a
            // stranger serving on a stopped node's port).
            guard SandboxBases.shared.claim(base) else { continue }
            let directory = folder + "/sandbox-\(base)"
            let up = try run(
                ["sandbox", "up", "--nodes", String(nodes), "--observers", String(observers), "--dir", directory, "--base-port", String(base)] + extra,
                timeout: 120)
            if up.status == 0 {
                do { return SandboxEnsemble(directory: directory, base: base, nodes: nodes, sandbox: try Sandbox.open(directory: directory)) } catch {
                    throw HarnessError(message: "sandbox up said ok but \(directory) does not open: \(error)")
                }
            }
            // A port taken meanwhile, or a JVM that died before it wrote a line (seen once on a loaded CI
            // machine): another base port, another try. Anything ZooKeeper itself said fails at once.
            let died = up.stderr.contains("exited while starting") && up.stderr.hasSuffix("zookeeper.log:\n\n")
            // An earlier sandbox of the same test in that folder not yet down (a slow stop on a loaded
            // machine): another folder, another try.
            let occupied = up.stderr.contains("a sandbox is already running in")
            if !up.stderr.contains("is in use") && !died && !occupied {
                throw HarnessError(message: "sandbox up failed (exit \(up.status)):\n\(up.stdout)\n\(up.stderr)")
            }
        }
        throw HarnessError(message: "no free base port for a sandbox")
    }
}

extension SandboxEnsemble {
    /// A sandbox in a folder of its own, for suites that hold no scratch folder; `close()` removes both.
    /// `zookeeper`: another version than Debian's (its jars under `Sandbox.jarCache`), as `sandbox up --zookeeper`.
    public static func start(
        nodes: Int, observers: Int = 0, allWords: Bool, firstPort: Int = 24_000, zookeeper: String? = nil, extra more: [String] = []
    ) throws -> SandboxEnsemble {
        let folder = NSTemporaryDirectory() + "zkr-sandbox-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let binary = try ZKRunbookBinary.locate()
        var extra = ["--four-letter-words", allWords ? "all" : "default"]
        if let zookeeper {
            let jars = Sandbox.jarFolder(zookeeper)
            guard FileManager.default.fileExists(atPath: jars + "/zookeeper-\(zookeeper).jar") else {
                throw HarnessError(message: "no ZooKeeper \(zookeeper) jars in \(jars): run bash packaging/fetch-zookeeper-jars.sh \(zookeeper)")
            }
            extra += ["--zookeeper", jars]
        }
        var ensemble = try binary.sandbox(at: folder, nodes: nodes, observers: observers, extra: extra + more, firstPort: firstPort)
        ensemble.owned = folder
        return ensemble
    }

    /// Stops every server, and removes the folder when `start` made it.
    public func close() {
        _ = sandbox.down()
        SandboxBases.shared.release(base)
        if let owned { try? FileManager.default.removeItem(atPath: owned) }
    }

    /// Creates a znode through ZooKeeper's own CLI, so zxid counters move the way real writes move them.
    public func write(_ path: String, through node: Int) throws {
        let endpoint = sandbox.members[node - 1].endpoint.description
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/share/zookeeper/bin/zkCli.sh")
        process.arguments = ["-server", endpoint, "create", path, "data"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
    }
}

/// The base ports handed out to sandboxes in this test process.
final class SandboxBases: @unchecked Sendable {
    static let shared = SandboxBases()
    private let lock = NSLock()
    private var claimed = Set<Int>()

    /// True when no sandbox of this process holds `base`; it is then held until `release`.
    func claim(_ base: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return claimed.insert(base).inserted
    }

    /// After `sandbox down --dir …/sandbox-BASE`: the ports are free again, for any suite's next sandbox. A
    /// test that brings its servers back afterwards stops them node by node instead (`sandbox stop --node`).
    func release(afterDown arguments: [String]) {
        guard arguments.starts(with: ["sandbox", "down"]), let flag = arguments.firstIndex(of: "--dir"), flag + 1 < arguments.count,
            let base = arguments[flag + 1].split(separator: "/").last.flatMap({ $0.hasPrefix("sandbox-") ? Int($0.dropFirst("sandbox-".count)) : nil })
        else { return }
        release(base)
    }

    func release(_ base: Int) {
        lock.lock()
        claimed.remove(base)
        lock.unlock()
    }
}

extension SandboxEnsemble {
    /// An ensemble file for a dynamic sandbox with only `nodes` listed (members and spares as the file
    /// written by 'sandbox up' gives them), `observers` among them as observers, the runbooks of this
    /// checkout on every node.
    public func file(listing nodes: [Int], observers: [Int] = []) throws -> String {
        var text = try String(contentsOfFile: directory + "/ensemble-all.json5", encoding: .utf8)
        for id in 1...9 where !nodes.contains(id) {
            if let start = text.range(of: "    { id: \(id),"), let end = text[start.upperBound...].range(of: " },\n") {
                text.removeSubrange(start.lowerBound..<end.upperBound)
            }
        }
        for id in observers {
            if let start = text.range(of: "    { id: \(id),"), let role = text[start.upperBound...].range(of: "role: \"participant\"") {
                text.replaceSubrange(role, with: "role: \"observer\"")
            }
        }
        text = text.replacingOccurrences(of: "  agentPath:", with: "  runbookPath: \"\(repositoryRoot)/runbooks\",\n  agentPath:")
        let path = directory + "/ensemble-" + nodes.map(String.init).joined() + observers.map { "-o\($0)" }.joined() + ".json5"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
