import Foundation
import Testing
import ZKRunbookTestSupport
import ZKRunbookZooKeeper

/// Voters that cannot reach each other cannot elect: two followers cut off from each other (both still
/// following the leader, so every member serves and every count is right) must stop the rolling restart
/// before any server stops, naming the pair. Without that guard, the first follower restarted never
/// rejoined (it needs the other follower's vote to accept the leader: 'not-serving' for the whole 60 s
/// gate) and the leader's restart would have left no majority able to elect.
///
/// The cut is real, on loopback: each server runs in a cgroup of its own, and iptables drops what one
/// server's cgroup sends to the other's quorum and election ports (the kernel uses 127.0.0.1 as the
/// source of every loopback connection, so an address cannot tell them apart; a cgroup can). Each node's
/// agent runs in its server's cgroup, as an agent on a real node shares its server's network.
@Suite(.serialized, .tags(.realZooKeeper))
struct PartitionTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    @Test func noServerIsRestartedWhenTwoFollowersCannotReachEachOther() throws {
        let cgroups = try CgroupRoot.find()
        let workspace = Scratch("partition")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 26_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let tag = "zkrunbook-test-\(getpid())-\(ensemble.base)"

        // A cgroup per server, its JVM moved in, and an agent wrapper that joins it before it runs.
        var groups: [Int: String] = [:]
        var agents: [Int: String] = [:]
        for node in 1...3 {
            let group = "\(tag)-node\(node)"
            try cgroups.create(group)
            groups[node] = group
            let server = try RunningServer.find(clientPort: ensemble.clientPort(node)).get()
            try cgroups.move(server.pid, to: group)
            let wrapper = workspace.file("agent-\(node).sh")
            try "#!/bin/sh\necho $$ > '\(cgroups.path(group))/cgroup.procs' || exit 70\nexec '\(zkrunbook.path)' \"$@\"\n".write(
                toFile: wrapper, atomically: true, encoding: .utf8)
            chmod(wrapper, 0o755)
            agents[node] = wrapper
        }
        defer {
            _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory])
            for group in groups.values { cgroups.remove(group) }
        }
        var written = try String(contentsOfFile: ensemble.file, encoding: .utf8)
        for node in 1...3 { written = written.replacingOccurrences(of: "{ id: \(node), ", with: "{ id: \(node), agentPath: \"\(agents[node]!)\", ") }
        let file = workspace.file("partitioned.json5")
        try written.write(toFile: file, atomically: true, encoding: .utf8)

        let status = try zkrunbook.run(["status", "--ensemble", file, "--json"])
        let leader = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["leaderID"] as? Int)
        let followers = (1...3).filter { $0 != leader }
        let (first, second) = (followers[0], followers[1])
        let rules = IptablesRules()
        defer { rules.removeAll() }
        for (from, to) in [(first, second), (second, first)] {
            for port in [ensemble.base + 100 + to, ensemble.base + 200 + to] {
                try rules.add(["OUTPUT", "-o", "lo", "-p", "tcp", "--dport", String(port), "-m", "cgroup", "--path", groups[from]!, "-j", "DROP"])
            }
        }
        // Everything else still says healthy: the cut is invisible to every count the guards already make.
        let stillHealthy = try zkrunbook.run(["status", "--ensemble", file])
        #expect(stillHealthy.status == 0, "\(stillHealthy.stdout)")
        let pids = try (1...3).map { node in (node, try RunningServer.find(clientPort: ensemble.clientPort(node)).get().pid) }

        let witness = try KazooWitness.start(ensemble, in: workspace)
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", file, "--state-dir", workspace.file("state"), "--param", "gateTimeout=60s"], directory: repositoryRoot,
            timeout: 300)
        let verdict = try witness.finish()
        print(
            "partitioned followers \(first) and \(second): rolling restart exit \(run.status); kazoo: \(verdict.acked) writes acknowledged, \(verdict.lost.count) lost, longest gap \(verdict.longestGapMs) ms"
        )
        print(run.stdout.split(separator: "\n").filter { $0.contains("REFUSED") || $0.hasPrefix("result:") }.joined(separator: "\n"))
        #expect(run.status != 0, "\(run.stdout.suffix(3000))")
        #expect(
            run.stdout.contains("server \(first) cannot reach server \(second)'s election port")
                || run.stdout.contains("server \(second) cannot reach server \(first)'s election port"), "\(run.stdout.suffix(3000))")
        #expect(run.status == 3, "refused before any change: \(run.stdout.suffix(3000))")
        for (node, pid) in pids {
            #expect(try RunningServer.find(clientPort: ensemble.clientPort(node)).get().pid == pid, "server \(node) was restarted: \(run.stdout.suffix(2000))")
        }
        #expect(verdict.lost.isEmpty, "acknowledged writes lost: \(verdict.lost.prefix(5))")
        #expect(verdict.acked > 10)
        let after = try zkrunbook.run(["status", "--ensemble", file, "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])?["leaderID"] as? Int == leader)
    }
}

/// The cgroup v2 hierarchy: /sys/fs/cgroup itself, or /sys/fs/cgroup/unified beside v1 controllers.
struct CgroupRoot {
    let root: String

    static func find() throws -> CgroupRoot {
        for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] where FileManager.default.fileExists(atPath: root + "/cgroup.procs") {
            if root == "/sys/fs/cgroup" && !FileManager.default.fileExists(atPath: root + "/cgroup.controllers") { continue }
            guard access(root, W_OK) == 0 else { throw HarnessError(message: "\(root) is not writable: the partition test runs as root") }
            return CgroupRoot(root: root)
        }
        throw HarnessError(message: "no cgroup v2 hierarchy (/sys/fs/cgroup or /sys/fs/cgroup/unified): the partition test needs one for iptables -m cgroup")
    }

    func path(_ group: String) -> String { root + "/" + group }

    func create(_ group: String) throws {
        guard mkdir(path(group), 0o755) == 0 || errno == EEXIST else {
            throw HarnessError(message: "mkdir \(path(group)): \(String(cString: strerror(errno)))")
        }
    }

    func move(_ pid: Int32, to group: String) throws {
        try "\(pid)\n".write(toFile: path(group) + "/cgroup.procs", atomically: false, encoding: .utf8)
    }

    /// Its processes back to the root first (an empty cgroup is removed; a stopped JVM has left already).
    func remove(_ group: String) {
        if let pids = try? String(contentsOfFile: path(group) + "/cgroup.procs", encoding: .utf8) {
            for pid in pids.split(separator: "\n") { try? "\(pid)\n".write(toFile: root + "/cgroup.procs", atomically: false, encoding: .utf8) }
        }
        rmdir(path(group))
    }
}

/// iptables rules this test added, each removed again.
final class IptablesRules {
    private var added: [[String]] = []

    func add(_ rule: [String]) throws {
        let iptables = ["/usr/sbin/iptables", "/sbin/iptables"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let iptables else { throw HarnessError(message: "no iptables: apt-get install -y iptables (bash packaging/install-deps.sh)") }
        let result = try ZKRunbookBinary(path: iptables).run(["-A"] + rule)
        guard result.status == 0 else { throw HarnessError(message: "iptables -A \(rule.joined(separator: " ")): \(result.stderr)") }
        added.append(rule)
    }

    func removeAll() {
        for rule in added {
            let iptables = ["/usr/sbin/iptables", "/sbin/iptables"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "iptables"
            _ = try? ZKRunbookBinary(path: iptables).run(["-D"] + rule)
        }
        added = []
    }
}
