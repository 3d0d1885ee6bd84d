import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `sandbox`, `status` and the health-check runbook through the binary, against real ZooKeeper servers.
@Suite(.serialized, .tags(.realZooKeeper))
struct ZooKeeperCLITests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    /// `sandbox up` on a free base port; the caller tears it down.
    func sandboxUp(_ workspace: Scratch, nodes: Int = 3, extra: [String] = []) throws -> (directory: String, base: Int) {
        let ensemble = try zkrunbook.sandbox(workspace, nodes: nodes, extra: extra, firstPort: 25_000)
        return (ensemble.directory, ensemble.base)
    }

    /// `--base-port auto` twice: two sandboxes side by side, each on a base it chose and said, at least a layout
    /// apart; an even number of voters is warned of. (A port another suite takes between the choice and the
    /// start is said as "in use": tried again.)
    @Test func sandboxesChooseFreePortsSideBySide() throws {
        let workspace = Scratch("sandbox-auto")
        var folders: [String] = []
        defer { for folder in folders { _ = try? zkrunbook.run(["sandbox", "down", "--dir", folder]) } }
        var bases: [Int] = []
        for (name, nodes) in [("a", 1), ("b", 2)] {
            let folder = workspace.file(name)
            folders.append(folder)
            var up = try zkrunbook.run(["sandbox", "up", "--dir", folder, "--nodes", String(nodes), "--base-port", "auto"], timeout: 120)
            for _ in 0..<3 where up.status != 0 && up.stderr.contains("in use") {
                up = try zkrunbook.run(["sandbox", "up", "--dir", folder, "--nodes", String(nodes), "--base-port", "auto"], timeout: 120)
            }
            #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
            let said = up.stdout.split(separator: "\n").first { $0.hasPrefix("base port ") }
            let base = try #require(said.flatMap { Int($0.dropFirst("base port ".count).prefix { $0.isNumber }) }, "\(up.stdout)")
            bases.append(base)
            #expect(up.stdout.contains("warning: 2 voters") == (nodes == 2), "\(up.stdout)")
            let status = try zkrunbook.run(["status", "--server", "127.0.0.1:\(base + 1)"])
            #expect(status.status == 0, "node 1 serves on the base it said: \(status.stdout)")
        }
        #expect(abs(bases[0] - bases[1]) >= 500, "\(bases)")
    }

    /// A sandbox that does not serve within its timeout stops the servers it started before it fails (a JVM
    /// left behind holds ports and memory the next sandbox needs); its folder and logs stay.
    @Test func aSandboxThatDoesNotComeUpLeavesNoServerRunning() throws {
        let workspace = Scratch("sandbox-timeout")
        do {
            _ = try zkrunbook.sandbox(workspace, extra: ["--timeout", "100ms"], firstPort: 25_100)
            Issue.record("three ZooKeeper JVMs served within 100 ms: the test cannot make sandbox up fail this way")
        } catch {
            #expect("\(error)".contains("did not form a quorum"), "\(error)")
        }
        let left = processes(commandLineContaining: workspace.path)
        #expect(left.isEmpty, "servers left running after a failed sandbox up: \(left)")
    }

    /// leaderServes=no: the leader answers "not currently serving" to every client, four-letter words too.
    /// That is no outage: its AdminServer says it leads, status is healthy and whole, and a rolling restart
    /// (whose gates find the leader through the AdminServers) goes through.
    @Test func aLeaderThatServesNoClientsIsNotAnOutage() throws {
        let workspace = Scratch("leader-serves")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 25_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        for node in 1...3 {
            let handle = try #require(FileHandle(forWritingAtPath: ensemble.zooCfg(node)))
            handle.seekToEndOfFile()
            handle.write(Data("leaderServes=no\n".utf8))
            try handle.close()
            #expect(try zkrunbook.run(["sandbox", "restart", "--dir", ensemble.directory, "--node", String(node)]).status == 0)
        }
        var status = try zkrunbook.run(["status", "--ensemble", ensemble.file])
        try poll("the ensemble to elect a leader that serves no clients", timeout: 90, every: 0.25) {
            status = try zkrunbook.run(["status", "--ensemble", ensemble.file])
            return status.status == 0
        }
        #expect(status.stdout.contains("verdict: healthy (leader: server "), "\(status.stdout)")
        #expect(status.stdout.contains("scope: whole"))
        let leaderLine = status.stdout.split(separator: "\n").first { $0.contains(" leader ") && $0.contains("admin srvr") }
        #expect(leaderLine != nil, "the leader's mode came from its AdminServer: \(status.stdout)")
        let run = try zkrunbook.run(
            ["run", "rolling-restart", "--ensemble", ensemble.file, "--param", "gateTimeout=60s", "--state-dir", workspace.file("state")],
            directory: repositoryRoot, timeout: 300)
        #expect(run.status == 0, "\(run.stdout.suffix(3000))")
    }

    /// `zk` through the binary: create, read, versioned set, stat, children, config, errors by name.
    @Test func zkSubcommandSpeaksTheClientProtocol() throws {
        let workspace = Scratch("zk-cli")
        let (directory, base) = try sandboxUp(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", directory]) }
        let zk = { (words: [String]) throws -> ZKRunbookBinary.Result in
            try zkrunbook.run(["zk"] + words + ["--ensemble", directory + "/ensemble.json5"])
        }
        // A plan of the rolling restart writes nothing, not even the write gate's canary.
        let plan = try zkrunbook.run(["plan", "rolling-restart", "--ensemble", directory + "/ensemble.json5"], directory: repositoryRoot, timeout: 120)
        #expect(plan.status == 0, "\(plan.stdout.suffix(2000))")
        #expect(plan.stdout.contains("not written in a dry run"))
        #expect(try zk(["stat", "/zkrunbook"]).stderr.contains("NoNode on /zkrunbook"))
        #expect(try zk(["create", "/ops", "v1"]).stdout == "/ops\n")
        #expect(try zk(["get", "/ops"]).stdout == "v1")
        #expect(try zk(["set", "/ops", "v2", "--version", "0"]).stdout == "/ops: version 1\n")
        let stale = try zk(["set", "/ops", "v3", "--version", "0"])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("BadVersion on /ops"), "\(stale.stderr)")
        let stat = try zk(["stat", "/ops", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stat.stdout.utf8)) as? [String: Any])
        let fields = try #require(object["stat"] as? [String: Any])
        #expect(fields["dataVersion"] as? Int == 1, "\(stat.stdout)")
        // Every field as kazoo (an independent client) reads it, in zkCli.sh's names; the text in zkCli.sh's order.
        let witness = try ZKRunbookBinary(path: "/usr/bin/python3").run([
            "-c",
            "import json\nfrom kazoo.client import KazooClient\nz = KazooClient(hosts='127.0.0.1:\(base + 1)')\nz.start(timeout=20)\n"
                + "s = z.exists('/ops')\nacl, _ = z.get_acls('/ops')\n"
                + "print(json.dumps({'czxid': s.czxid, 'mzxid': s.mzxid, 'pzxid': s.pzxid, 'ctime': s.ctime, 'mtime': s.mtime, 'version': s.version, "
                + "'cversion': s.cversion, 'aversion': s.aversion, 'dataLength': s.dataLength, 'numChildren': s.numChildren, "
                + "'acl': [[a.id.scheme, a.id.id, a.perms] for a in acl]}))\nz.stop()",
        ])
        let kazoo = try #require(try JSONSerialization.jsonObject(with: Data(witness.stdout.utf8)) as? [String: Any], "\(witness.stderr)")
        func hex(_ key: String) -> String { "0x" + String(kazoo[key] as? Int ?? -1, radix: 16) }
        #expect(fields["cZxid"] as? String == hex("czxid") && fields["mZxid"] as? String == hex("mzxid") && fields["pZxid"] as? String == hex("pzxid"))
        #expect(fields["ctimeMs"] as? Int == kazoo["ctime"] as? Int && fields["mtimeMs"] as? Int == kazoo["mtime"] as? Int, "\(fields) \(kazoo)")
        #expect(fields["aclVersion"] as? Int == kazoo["aversion"] as? Int && fields["cversion"] as? Int == kazoo["cversion"] as? Int)
        #expect(fields["dataLength"] as? Int == kazoo["dataLength"] as? Int && fields["numChildren"] as? Int == kazoo["numChildren"] as? Int)
        let text = try zk(["stat", "/ops"]).stdout.split(separator: "\n").map { String($0.prefix { $0 != " " }) }
        #expect(
            text == ["cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion", "aclVersion", "ephemeralOwner", "dataLength", "numChildren"],
            "\(text)")
        #expect(try zk(["stat", "/ops"]).stdout.contains("cZxid = \(hex("czxid"))\n"))
        #expect(try zk(["getacl", "/ops"]).stdout == "'world,'anyone\n: cdrwa\n")
        let acl = try JSONSerialization.jsonObject(with: Data(try zk(["getacl", "/ops", "--json"]).stdout.utf8)) as? [String: Any]
        #expect((acl?["acl"] as? [[String: Any]])?.first?["perms"] as? String == "cdrwa" && (kazoo["acl"] as? [[Any]])?.first?[2] as? Int == 31)
        #expect(try zk(["ls", "/"]).stdout.split(separator: "\n").contains("ops"))
        let config = try zk(["config"])
        #expect(config.stdout.split(separator: "\n").filter { $0.hasPrefix("server.") }.count == 3, "\(config.stdout)")
        let missing = try zk(["delete", "/nope"])
        #expect(missing.status == 1 && missing.stderr.contains("NoNode on /nope: the znode does not exist"))
        // zk-node as a step and as a guard's probe.
        let runbook = workspace.write(
            "node.json5",
            """
            { name: "node", parameters: { ensemble: { type: "path", required: true } }, steps: [
              { id: "node", description: "the znode", action: "zk-node", with: { ensemble: "${ensemble}", path: "/ops" } },
              { id: "version", description: "set once", action: "assert", with: { fact: "steps.node.version", equals: 1 } },
              { id: "data", description: "its data", action: "assert", with: { fact: "steps.node.data", equals: "v2" } },
              { id: "absent", description: "no such znode", action: "assert",
                with: { probe: "zk-node", with: { ensemble: "${ensemble}", path: "/nope" }, fact: "exists", equals: false } },
            ] }
            """)
        let checked = try zkrunbook.run(["run", runbook, "--ensemble", directory + "/ensemble.json5", "--state-dir", workspace.file("state")])
        #expect(checked.status == 0, "\(checked.stdout.suffix(2000))")
        let typo = try zk(["gte", "/ops"])
        #expect(typo.status == 2 && typo.stderr.contains("did you mean 'get'?") && typo.stderr.contains("Try 'zkrunbook zk --help'."))
    }

    /// `status` polled every 50 ms while the leader stops and the two others elect: never "no-quorum" (exit 3)
    /// while two voters are up — healthy, degraded or electing (exit 7) only — until a new leader serves.
    @Test func statusThroughALeadersStopNeverSaysNoQuorum() throws {
        let workspace = Scratch("electing")
        let (directory, _) = try sandboxUp(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", directory]) }
        let ensemble = directory + "/ensemble.json5"
        func look() throws -> (verdict: String, status: Int32, leader: Int?) {
            let result = try zkrunbook.run(["status", "--ensemble", ensemble, "--json"], timeout: 30)
            let view = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return (view?["verdict"] as? String ?? "no view: \(result.stderr)", result.status, view?["leaderID"] as? Int)
        }
        let leader = try #require(try look().leader)
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var looks: [(verdict: String, status: Int32)] = []
            var stop = false
        }
        let seen = Seen()
        let done = DispatchSemaphore(value: 0)
        let binary = zkrunbook
        Thread.detachNewThread {
            defer { done.signal() }
            while !seen.lock.withLock({ seen.stop }) {
                if let result = try? binary.run(["status", "--ensemble", ensemble, "--json"], timeout: 30) {
                    let view = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                    seen.lock.withLock { seen.looks.append((view?["verdict"] as? String ?? "no view", result.status)) }
                }
                usleep(50_000)  // the 50 ms polling period under test, not a wait for readiness
            }
        }
        #expect(try zkrunbook.run(["sandbox", "stop", "--dir", directory, "--node", String(leader)]).status == 0)
        try poll("a new leader serving", timeout: 60) { (try? look()).map { $0.leader != nil && $0.leader != leader } ?? false }
        seen.lock.withLock { seen.stop = true }
        done.wait()
        let looks = seen.lock.withLock { seen.looks }
        let counts = Dictionary(grouping: looks, by: { "\($0.verdict) (exit \($0.status))" }).mapValues(\.count)
        print("status every 50 ms through the leader's stop: \(looks.count) looks: \(counts)")
        #expect(looks.count >= 3, "\(looks.count) looks")
        #expect(!looks.contains { $0.verdict == "no-quorum" || $0.status == 3 }, "\(counts)")
        #expect(looks.allSatisfy { ["healthy", "degraded-but-quorate", "electing"].contains($0.verdict) }, "\(counts)")
        #expect(looks.filter { $0.verdict == "electing" }.allSatisfy { $0.status == 7 }, "\(counts)")
    }

    /// `status --server` in any order names each server by the myid it reports, the leader included; a
    /// mistyped port is a partial view, exit 8, with no quorum arithmetic over it.
    @Test func statusNamesServersByTheirMyidInAnyOrder() throws {
        let workspace = Scratch("myid-order")
        let (directory, base) = try sandboxUp(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", directory]) }
        let whole = try zkrunbook.run(["status", "--ensemble", directory + "/ensemble.json5", "--json"])
        let leader = try #require((try JSONSerialization.jsonObject(with: Data(whole.stdout.utf8)) as? [String: Any])?["leaderID"] as? Int)
        let reversed = try zkrunbook.run(["status", "--server", [3, 2, 1].map { "127.0.0.1:\(base + $0)" }.joined(separator: ","), "--json"])
        let view = try #require(try JSONSerialization.jsonObject(with: Data(reversed.stdout.utf8)) as? [String: Any])
        #expect(view["leaderID"] as? Int == leader, "\(reversed.stdout.prefix(1500))")
        let ids = (view["members"] as? [[String: Any]] ?? []).compactMap { ($0["member"] as? [String: Any])?["id"] as? Int }
        #expect(ids == [3, 2, 1], "\(ids)")
        let human = try zkrunbook.run(["status", "--server", [3, 2, 1].map { "127.0.0.1:\(base + $0)" }.joined(separator: ",")])
        #expect(human.stdout.contains("(leader: server \(leader))"), "\(human.stdout)")

        let typo = try zkrunbook.run(["status", "--server", "127.0.0.1:\(base + 9)"])
        #expect(typo.status == 8, "\(typo.stdout)")
        #expect(typo.stdout.contains("verdict: unknown") && typo.stdout.contains("quorum: not judged"), "\(typo.stdout)")
        #expect(!typo.stdout.contains("too few"), "\(typo.stdout)")

        // A small server answering srvr with `Mode: leader` (conf refused, as a stale 3.5+ server with the
        // default whitelist answers) written where the real leader is: never healthy, never the leader.
        let fake = FakeServer(
            .answer { word in
                Data(
                    (word == "srvr"
                        ? "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x900000001\nMode: leader\nNode count: 5\n"
                        : "\(word) is not executed because it is not in the whitelist.\n").utf8)
            })
        defer { fake.stop() }
        let written = try String(contentsOfFile: directory + "/ensemble.json5", encoding: .utf8)
        let leaderEntry = "clientPort: \(base + leader), adminPort: \(base + 300 + leader),"
        #expect(written.contains(leaderEntry), "\(written)")
        let impostor = workspace.file("impostor.json5")
        try written.replacingOccurrences(of: leaderEntry, with: "clientPort: \(fake.port),").write(toFile: impostor, atomically: true, encoding: .utf8)
        let fooled = try zkrunbook.run(["status", "--ensemble", impostor])
        #expect(fooled.status == 1, "\(fooled.stdout)")
        #expect(fooled.stdout.contains("verdict: degraded-but-quorate, scope: partial"), "\(fooled.stdout)")
        #expect(!fooled.stdout.contains("(leader: server"), "\(fooled.stdout)")
        #expect(
            fooled.stdout.contains("127.0.0.1:\(fake.port) (written as server \(leader)) says Mode: leader but not which server it is"), "\(fooled.stdout)")
        #expect(fooled.stdout.contains("which proves a leader with a quorum"), "\(fooled.stdout)")
    }

    /// maxClientCnxns=1 on every server: the preflight's words, asked at once, meet a server that closes the
    /// connections beyond its limit without a word; they are asked again one at a time, so the plan passes —
    /// never "refuses mntr … add 4lw.commands.whitelist" (the flake the timeline test hit on a loaded machine).
    @Test func aServerAtItsConnectionLimitIsAskedOneWordAtATime() throws {
        let workspace = Scratch("cnxns")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 25_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        for node in 1...3 {
            let text = try String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)
            try text.replacingOccurrences(of: "maxClientCnxns=100", with: "maxClientCnxns=1").write(
                toFile: ensemble.zooCfg(node), atomically: true, encoding: .utf8)
            #expect(try zkrunbook.run(["sandbox", "restart", "--dir", ensemble.directory, "--node", String(node), "--wait"], timeout: 120).status == 0)
        }
        try poll("the ensemble healthy at maxClientCnxns=1", timeout: 60) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }
        let plan = try zkrunbook.run(["plan", "rolling-restart", "--ensemble", ensemble.file], directory: repositoryRoot, timeout: 120)
        #expect(plan.status == 0, "\(plan.stdout.suffix(3000))")
        #expect(!plan.stdout.contains("4lw.commands.whitelist") && !plan.stdout.contains("gave no answer"), "\(plan.stdout.suffix(3000))")

        // Another client holding the one connection allowed, on the leader and then on a follower. With an
        // AdminServer each, the server is asked over HTTP (which the limit does not count); without, it is
        // said plainly as a server that answers nothing at its limit: never the whitelist, the file or "down".
        let whole = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let leader = try #require((try JSONSerialization.jsonObject(with: Data(whole.stdout.utf8)) as? [String: Any])?["leaderID"] as? Int)
        let written = try String(contentsOfFile: ensemble.file, encoding: .utf8)
        let withoutAdmin = workspace.file("no-admin.json5")
        try written.replacingOccurrences(of: #"adminPort: \d+, "#, with: "", options: .regularExpression).write(
            toFile: withoutAdmin, atomically: true, encoding: .utf8)
        #expect(!(try String(contentsOfFile: withoutAdmin, encoding: .utf8)).contains("adminPort"))
        for node in [leader, leader % 3 + 1] {
            let holder = try ConnectionHolder(port: ensemble.clientPort(node), in: workspace, name: "holder-\(node)")
            defer { holder.release() }
            let viaAdmin = try zkrunbook.run(["status", "--ensemble", ensemble.file])
            #expect(viaAdmin.status == 0 && viaAdmin.stdout.contains("admin srvr"), "\(viaAdmin.stdout)")
            let status = try zkrunbook.run(["status", "--ensemble", withoutAdmin])
            #expect(status.status == 1, "\(status.stdout)")
            #expect(status.stdout.contains("server \(node) (127.0.0.1:\(ensemble.clientPort(node))) answered nothing"), "\(status.stdout)")
            #expect(status.stdout.contains("maxClientCnxns=1"), "\(status.stdout)")
            for wrong in ["whitelist", "ensemble file", "not as written", "is down", "are down"] {
                #expect(!status.stdout.contains(wrong), "\(wrong): \(status.stdout)")
            }
            let refused = try zkrunbook.run(["plan", "rolling-restart", "--ensemble", withoutAdmin], directory: repositoryRoot, timeout: 120)
            #expect(refused.status == 3, "\(refused.stdout.suffix(2000))")
            #expect(refused.stdout.contains("answered nothing"), "\(refused.stdout.suffix(2000))")
            #expect(!refused.stdout.contains("whitelist") && !refused.stdout.contains("not as written"), "\(refused.stdout.suffix(2000))")
        }
    }

    @Test func statusAndHealthCheckFollowTheEnsembleDown() throws {
        let workspace = Scratch("zk")
        let (directory, base) = try sandboxUp(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", directory]) }
        let ensemble = directory + "/ensemble.json5"

        let healthy = try zkrunbook.run(["status", "--ensemble", ensemble])
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        #expect(healthy.stdout.contains("verdict: healthy (leader: server "))
        let json = try zkrunbook.run(["status", "--ensemble", ensemble, "--json"])
        let view = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(view?["verdict"] as? String == "healthy")
        let leader = try #require(view?["leaderID"] as? Int)
        let follower = leader == 1 ? 2 : 1

        let parameters = [
            "--param", "server=127.0.0.1:\(base + follower)", "--param", "adminPort=\(base + 300 + follower)", "--param", "ensemble=\(ensemble)",
        ]
        let plan = try zkrunbook.run(["plan", "health-check"] + parameters, directory: repositoryRoot)
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("-> ok: 127.0.0.1:\(base + follower) is follower"), "a dry run shows live facts from read-only probes")
        let run = try zkrunbook.run(["run", "health-check", "--state-dir", workspace.file("state")] + parameters, directory: repositoryRoot)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        let other = (1...3).first { $0 != leader && $0 != follower }!
        #expect(try zkrunbook.run(["sandbox", "stop", "--dir", directory, "--node", String(other)]).status == 0)
        let degraded = try zkrunbook.run(["status", "--ensemble", ensemble])
        #expect(degraded.status == 1, "\(degraded.stdout)")
        #expect(degraded.stdout.contains("verdict: degraded-but-quorate"))
        let failing = try zkrunbook.run(["run", "health-check", "--state-dir", workspace.file("state")] + parameters, directory: repositoryRoot)
        #expect(failing.status == 3, "a failed health check changed nothing: the assert refuses")
        #expect(failing.stdout.contains("[6/6] ensemble-healthy"))
        #expect(failing.stdout.contains(#"steps.ensemble.verdict is "degraded-but-quorate", expected equals "healthy""#))

        #expect(try zkrunbook.run(["sandbox", "stop", "--dir", directory, "--node", String(leader)]).status == 0)
        var lost = try zkrunbook.run(["status", "--ensemble", ensemble])
        for _ in 0..<100 where lost.status != 3 {
            usleep(50_000)
            lost = try zkrunbook.run(["status", "--ensemble", ensemble])
        }
        #expect(lost.status == 3, "\(lost.stdout)")
        #expect(lost.stdout.contains("verdict: no-quorum"))
        #expect(lost.stdout.contains("too few up to elect a leader (2 needed)"), "\(lost.stdout)")
        #expect(lost.stdout.contains("is up but not serving, electing or syncing"), "the live voter is up, not down: \(lost.stdout)")

        #expect(try zkrunbook.run(["sandbox", "start", "--dir", directory, "--node", String(leader), "--wait"]).status == 0)
        #expect(try zkrunbook.run(["sandbox", "restart", "--dir", directory, "--node", String(other), "--wait"]).status == 0)
        var back = try zkrunbook.run(["status", "--ensemble", ensemble])
        for _ in 0..<100 where back.status != 0 {
            usleep(50_000)
            back = try zkrunbook.run(["status", "--ensemble", ensemble])
        }
        #expect(back.status == 0, "\(back.stdout)")
        let down = try zkrunbook.run(["sandbox", "down", "--dir", directory])
        #expect(down.status == 0)
        #expect(processes(named: "java", commandLineContaining: directory).isEmpty, "a sandbox server outlived 'sandbox down'")
    }

    /// `srst` resets a live server's counters: doctor, run before and after, tells it from a restart by uptime.
    @Test func doctorTellsACounterResetFromARestart() throws {
        let workspace = Scratch("zk-doctor")
        let (directory, base) = try sandboxUp(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", directory]) }
        let ensemble = directory + "/ensemble.json5"
        let state = workspace.file("state")
        // Some traffic first, so there is a counter to reset.
        for _ in 0..<5 { _ = try zkrunbook.run(["status", "--ensemble", ensemble]) }
        let first = try zkrunbook.run(["doctor", "--ensemble", ensemble, "--state-dir", state])
        #expect(!first.stdout.contains("Counters reset"), "\(first.stdout)")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(base + 1).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        _ = "srst".withCString { send(fd, $0, 4, 0) }
        var reply = [UInt8](repeating: 0, count: 256)
        _ = recv(fd, &reply, 256, 0)
        close(fd)
        let second = try zkrunbook.run(["doctor", "--ensemble", ensemble, "--state-dir", state])
        #expect(second.status == 1)
        #expect(second.stdout.contains("Counters reset without a restart"), "\(second.stdout)")
        #expect(second.stdout.contains("127.0.0.1:\(base + 1)'s packets-received counter dropped"))
    }

    /// The zxid watch on a real ensemble while zkCli.sh writes: a measured rate, an ETA, and exit 3 when
    /// the threshold is beyond that ETA (with the options said), exit 0 when it is not.
    @Test func zxidRolloverWatchMeasuresRealWrites() throws {
        let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
        guard FileManager.default.isExecutableFile(atPath: zkCli) else {
            throw HarnessError(message: "no \(zkCli): apt-get install -y zookeeper (the watch is tested with real writes)")
        }
        let workspace = Scratch("zk-zxid")
        let (directory, base) = try sandboxUp(workspace)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", directory]) }
        let ensemble = directory + "/ensemble.json5"
        let commands = workspace.write("writes.txt", (1...4000).map { "create /w\($0) x\n" }.joined() + "quit\n")
        let writer = try ZKRunbookBinary(path: "/bin/sh").start(["-c", "exec \(zkCli) -server 127.0.0.1:\(base + 1) < \(commands)"])
        defer { _ = try? writer.wait(timeout: 120) }
        func counter() -> Int {
            let status = try? zkrunbook.run(["status", "--ensemble", ensemble, "--json"])
            let view = status.flatMap { try? JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) as? [String: Any] }
            let zxid = ((view?["leaderZxid"] as? [String: Any])?["raw"] as? Int) ?? 0
            return zxid & 0xffff_ffff
        }
        try poll("zkCli.sh to start writing", timeout: 60) { counter() > 50 }

        let far = try zkrunbook.run(
            [
                "run", "zxid-rollover-watch", "--ensemble", ensemble, "--param", "interval=2s", "--param", "warnBelow=365d", "--state-dir",
                workspace.file("state"), "--json",
            ],
            directory: repositoryRoot, timeout: 60)
        let sample = jsonLines(far.stdout).first { $0["type"] as? String == "step-finished" && $0["step"] as? String == "sample" }
        let facts = sample?["facts"] as? [String: Any]
        let rate = facts?["ratePerSecond"] as? Double ?? 0
        let eta = facts?["etaSeconds"] as? Int ?? -1
        #expect(rate > 1, "the writes show as a rate: \(facts ?? [:])")
        let remaining = facts?["remaining"] as? Int ?? 0
        #expect(eta > 0 && abs(Double(eta) - Double(remaining) / rate) < Double(eta) * 0.01 + 1, "ETA = remaining / rate: \(facts ?? [:])")
        // 365d (the longest duration a runbook takes) is beyond the ETA when zkCli.sh manages more than
        // 136 writes a second; either way the exit status must follow the ETA.
        if eta > 0 && eta < 365 * 86_400 {
            #expect(far.status == 3, "a threshold beyond the ETA fails the guard: \(far.stdout.suffix(2000))")
            #expect(far.stdout.contains("restart the leader in a planned quiet window"), "the failure says what to do")
        } else {
            #expect(far.status == 0, "an ETA beyond the threshold passes: \(far.stdout.suffix(2000))")
        }

        let near = try zkrunbook.run(
            [
                "run", "zxid-rollover-watch", "--ensemble", ensemble, "--param", "interval=1s", "--param", "warnBelow=1m", "--state-dir",
                workspace.file("state"),
            ],
            directory: repositoryRoot, timeout: 60)
        #expect(near.status == 0, "years away is fine: \(near.stdout)")
        #expect(near.stdout.contains("the counter rolls over in") || near.stdout.contains("did not grow"), "\(near.stdout)")
    }

    @Test func statusInputErrors() throws {
        let workspace = Scratch("status-usage")
        let none = try zkrunbook.run(["status"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("give one of --ensemble, --zoo-cfg or --server"))
        let config = workspace.write("zoo.cfg", "tickTime=2000\nserver.1=zk1:2888\n")
        let bad = try zkrunbook.run(["status", "--zoo-cfg", config])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("\(config):2: error: server.1=zk1:2888: expected server.N=host:quorumPort:electionPort"))
        let badServer = try zkrunbook.run(["status", "--server", "zk1:notaport"])
        #expect(badServer.status == 2)
        // One server that does not answer is a partial view: never "no quorum" from it alone.
        let refused = try zkrunbook.run(["status", "--server", "127.0.0.1:1"])
        #expect(refused.status == 8, "unknown: a partial view that proves nothing")
        #expect(refused.stdout.contains("connection refused"))
        #expect(refused.stdout.contains("verdict: unknown, scope: partial"), "\(refused.stdout)")
        #expect(!refused.stdout.contains("no-quorum"))
    }
}

/// Another client (Debian's python3-kazoo) holding one session on one server, until released.
final class ConnectionHolder {
    let process: Process
    let input = Pipe()

    init(port: Int, in workspace: Scratch, name: String) throws {
        let ready = workspace.file(name + ".ready")
        process = Process()
        process.executableURL = URL(fileURLWithPath: KazooWitness.python)
        process.arguments = [
            "-c",
            "import sys; from kazoo.client import KazooClient; k = KazooClient(hosts=sys.argv[1]); k.start(timeout=30); open(sys.argv[2], 'w').close(); sys.stdin.read(); k.stop()",
            "127.0.0.1:\(port)", ready,
        ]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try poll("a kazoo session held on port \(port)", timeout: 60) { FileManager.default.fileExists(atPath: ready) || !self.process.isRunning }
        guard process.isRunning else { throw HarnessError(message: "kazoo could not hold a session on port \(port)") }
    }

    func release() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
