import Foundation
import Testing
import ZKRunbookTestSupport

/// doctor's timeline and signatures on what real servers wrote: a 3-server sandbox lives through a long
/// election, a planned rolling restart, a forced election, a burst over maxClientCnxns, a request over
/// jute.maxbuffer, an abandoned session, reported fsyncs, a paused JVM and a full disk; the page is opened
/// in a real headless browser.
@Suite(.serialized, .tags(.realZooKeeper, .ssh))
struct TimelineTests {
    let zkrunbook: ZKRunbookBinary
    static let chromium = "/usr/bin/chromium"

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    /// Tests/support/incidents.py: raw sockets that make the server log an incident.
    func incident(_ arguments: [String]) throws {
        let result = try ZKRunbookBinary(path: KazooWitness.python).run([repositoryRoot + "/Tests/support/incidents.py"] + arguments)
        #expect(result.status == 0, "incidents.py \(arguments.joined(separator: " ")) failed: \(result.stdout)\(result.stderr)")
    }

    func healthy(_ ensemble: SandboxEnsemble) throws {
        try poll("the ensemble healthy", timeout: 90) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }
    }

    func leader(_ ensemble: SandboxEnsemble) throws -> Int {
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let view = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return try #require(view?["leaderID"] as? Int, "no leader in \(status.stdout.prefix(500))")
    }

    @Test func aThreeServerIncidentOnOneTimelineInARealBrowser() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.chromium), "\(Self.chromium) is missing: apt-get install -y chromium (Tests/run.sh installs it)")
        let workspace = Scratch("timeline")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 30_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let sandbox = ["--dir", ensemble.directory]
        // The settings that make the incidents show: two connections per client host, every fsync reported
        // (and done: the sandbox skips them otherwise), the JVM pause monitor on. Applied by a full restart.
        for node in 1...3 {
            var text = try String(contentsOfFile: ensemble.zooCfg(node), encoding: .utf8)
            text = text.replacingOccurrences(of: "maxClientCnxns=100", with: "maxClientCnxns=2").replacingOccurrences(of: "forceSync=no", with: "forceSync=yes")
            text += "fsync.warningthresholdms=0\njvm.pause.monitor=true\n"
            try text.write(toFile: ensemble.zooCfg(node), atomically: true, encoding: .utf8)
            #expect(try zkrunbook.run(["sandbox", "stop", "--node", String(node)] + sandbox, timeout: 60).status == 0)
        }
        for node in 1...3 { #expect(try zkrunbook.run(["sandbox", "start", "--node", String(node)] + sandbox, timeout: 60).status == 0) }
        try healthy(ensemble)

        // 1. A long election: server 1 alone, looking for a quorum for three seconds (the wait is the incident).
        for node in 2...3 { #expect(try zkrunbook.run(["sandbox", "stop", "--node", String(node)] + sandbox, timeout: 60).status == 0) }
        try poll("server 1 looking", timeout: 30) { (try? zkrunbook.run(["status", "--server", "127.0.0.1:\(ensemble.clientPort(1))"]))?.status != 0 }
        Thread.sleep(forTimeInterval: 3)  // the incident itself: an election that cannot finish for 3 s
        for node in 2...3 { #expect(try zkrunbook.run(["sandbox", "start", "--node", String(node), "--wait"] + sandbox, timeout: 120).status == 0) }
        try healthy(ensemble)

        // 2. A planned rolling restart, in zkrunbook's journal.
        let state = workspace.file("state")
        let rolled = try zkrunbook.run(["run", "rolling-restart", "--ensemble", ensemble.file, "--state-dir", state], directory: repositoryRoot, timeout: 300)
        #expect(rolled.status == 0, "\(rolled.stdout.suffix(2000))")

        // 3. A forced election: the leader stopped until the others elect one, then started again.
        let first = try leader(ensemble)
        #expect(try zkrunbook.run(["sandbox", "stop", "--node", String(first)] + sandbox, timeout: 60).status == 0)
        let others = (1...3).filter { $0 != first }
        try poll("a new leader among \(others)", timeout: 60) {
            (try? zkrunbook.run(["status", "--server", "127.0.0.1:\(ensemble.clientPort(others[0]))"]))?.status == 0
        }
        #expect(try zkrunbook.run(["sandbox", "start", "--node", String(first), "--wait"] + sandbox, timeout: 120).status == 0)
        try healthy(ensemble)

        // 4. Clients: three connections from one host at once, a request over jute.maxbuffer, a session
        //    abandoned without closeSession; all on server 1.
        let refusals = { ensemble.log(1).components(separatedBy: "Too many connections").count }
        let refusedBefore = refusals()
        try incident(["too-many-connections", "127.0.0.1", String(ensemble.clientPort(1)), "3"])
        #expect(
            eventually(10) { refusals() > refusedBefore },
            "server 1 logged no refused connection; its log ends:\n\(ensemble.log(1).suffix(4000))")
        try incident(["request-over-maxbuffer", "127.0.0.1", String(ensemble.clientPort(1))])
        try incident(["abandoned-session", "127.0.0.1", String(ensemble.clientPort(1)), "1000"])
        let allLogs = { (1...3).map(ensemble.log).joined() }
        try poll("the abandoned session expired", timeout: 30) { allLogs().contains("Expiring session") }

        // 5. A paused JVM: a follower stopped for 2.5 s. The monitor sleeps 500 ms at a time and reports what it
        //    overslept beyond 1 s: a 1.5 s stop that began as its sleep did came out at about 1 s, unreported.
        let current = try leader(ensemble)
        let follower = (1...3).first { $0 != current }!
        let pid = try #require(Int32(ensemble.pid(follower).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGSTOP)
        Thread.sleep(forTimeInterval: 2.5)  // the incident itself: the JVM stands still for 2.5 s
        kill(pid, SIGCONT)
        try poll("the pause reported", timeout: 30) { ensemble.log(follower).contains("Detected pause in JVM") }
        try healthy(ensemble)

        // 6. A full disk: another follower's data folder on a 1 MiB tmpfs, then 2.1 MB written through kazoo.
        let full = (1...3).first { $0 != current && $0 != follower }!
        let dataFolder = ensemble.directory + "/node\(full)/data/version-2"
        #expect(try zkrunbook.run(["sandbox", "stop", "--node", String(full)] + sandbox, timeout: 60).status == 0)
        let mounted = try ZKRunbookBinary(path: "/bin/mount").run(["-t", "tmpfs", "-o", "size=1m", "tmpfs", dataFolder])
        try #require(mounted.status == 0, "mounting a 1 MiB tmpfs failed (this test needs root): \(mounted.stderr)")
        defer {
            _ = try? zkrunbook.run(["sandbox", "stop", "--node", String(full)] + sandbox, timeout: 60)
            _ = try? ZKRunbookBinary(path: "/bin/umount").run([dataFolder])
        }
        #expect(try zkrunbook.run(["sandbox", "start", "--node", String(full), "--wait"] + sandbox, timeout: 120).status == 0)
        let writes = """
            from kazoo.client import KazooClient
            client = KazooClient(hosts="127.0.0.1:\(ensemble.clientPort(current))")
            client.start()
            for index in range(3):
                client.create("/disk-full-%d" % index, b"x" * 700000)
            client.stop()
            """
        #expect(try ZKRunbookBinary(path: KazooWitness.python).run(["-c", writes], timeout: 120).status == 0)
        try poll("server \(full)'s disk full", timeout: 30) { ensemble.log(full).contains("No space left on device") }

        let html = workspace.file("report.html")
        let doctor = try zkrunbook.run(["doctor", "--ensemble", ensemble.file, "--state-dir", state, "--html", html, "--json"], timeout: 120)
        #expect(doctor.status == 1, "warnings found: \(doctor.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any], "\(doctor.stdout.prefix(2000))")
        let findings = report["findings"] as? [[String: Any]] ?? []
        let timeline = report["timeline"] as? [[String: Any]] ?? []
        let server1 = "server 1 (127.0.0.1)"
        func finding(_ id: String, on node: String? = nil) -> [String: Any]? {
            findings.first { $0["id"] as? String == id && (node == nil || $0["node"] as? String == node) }
        }
        // Signatures, each on a line a real server wrote.
        #expect(finding("too-many-connections", on: server1).map { ($0["detail"] as? String ?? "").contains("maxClientCnxns is 2") } == true, "\(findings)")
        #expect(finding("request-over-maxbuffer", on: server1).map { ($0["detail"] as? String ?? "").contains("2097152 bytes") } == true, "\(findings)")
        #expect(finding("session-expiry") != nil, "the expired session: \(findings.map { $0["id"] ?? "" })")
        #expect(finding("slow-fsync") != nil, "fsyncs reported with fsync.warningthresholdms=0: \(findings.map { $0["id"] ?? "" })")
        #expect(finding("disk-full", on: "server \(full) (127.0.0.1)")?["nextRunbook"] as? String == "purge", "\(findings.map { $0["id"] ?? "" })")
        #expect(finding("jvm-pause", on: "server \(follower) (127.0.0.1)").map { ($0["detail"] as? String ?? "").contains("pause(s)") } == true, "\(findings)")
        // The long election on server 1 is a warning; the planned ones are said and not judged.
        let elections = try #require(finding("leader-election", on: server1), "\(findings)")
        #expect(elections["severity"] as? String == "warning", "\(elections)")
        #expect((elections["detail"] as? String ?? "").contains("during zkrunbook's own runs (planned, not judged)"), "\(elections)")
        let electionEvents = timeline.filter { $0["kind"] as? String == "election" }
        #expect(
            electionEvents.contains { ($0["durationMs"] as? Int ?? 0) > 2_500 && $0["server"] as? String == server1 && $0["plannedBy"] == nil },
            "the long election")
        #expect(electionEvents.contains { ($0["plannedBy"] as? String ?? "").contains("rolling-restart run") }, "planned elections labelled")
        #expect(electionEvents.filter { $0["plannedBy"] == nil }.count >= 3, "the long and the forced elections, unplanned")
        #expect(timeline.filter { $0["kind"] as? String == "planned-run" }.count == 3, "one window per node of the rolling restart")
        #expect(timeline.contains { $0["kind"] as? String == "too-many-connections" && $0["server"] as? String == server1 })
        #expect(timeline.contains { $0["kind"] as? String == "start" && $0["plannedBy"] == nil }, "the forced restart's start, unplanned")

        // The page in a real browser: its DOM has a lane per server, and a screenshot is kept.
        let dom = try runBrowser(["--dump-dom", "file://" + html])
        for node in 1...3 { #expect(dom.contains("class=\"lane\" data-server=\"server \(node) (127.0.0.1)\""), "lane for server \(node)") }
        #expect(dom.components(separatedBy: "class=\"incident").count > 10, "incidents drawn")
        #expect(dom.contains("<a href=\"#finding-too-many-connections-server-1--127-0-0-1-\">"), "a mark linked to its finding")
        #expect(!dom.contains("<script"), "no script on the page")
        // Each line of evidence shows its message first (the log line's text after its logger), where it was after it.
        let messages = dom.components(separatedBy: "<li><span class=\"msg\">").dropFirst().map { String($0.prefix { $0 != "<" }) }
        #expect(!messages.isEmpty && messages.allSatisfy { !$0.isEmpty && !($0.first?.isNumber ?? true) }, "\(messages.prefix(5))")
        #expect(dom.contains("<span class=\"where\">— "), "where each line was written, after its message")
        // Laid out 1400 px wide, each message is on screen: a copy of the page measures itself (the page has no script).
        let measuring = workspace.file("measured.html")
        let probe = """
            <script>
            const view = document.documentElement.clientWidth;
            const boxes = [...document.querySelectorAll('.msg')].map(e => e.getBoundingClientRect()).map(b => [Math.round(b.left), Math.round(b.right), Math.round(b.width)]);
            document.body.setAttribute('data-measured', JSON.stringify({view: view, scroll: document.documentElement.scrollWidth, boxes: boxes}));
            </script>
            """
        try (try String(contentsOfFile: html, encoding: .utf8)).replacingOccurrences(of: "</body>", with: probe + "</body>").write(
            toFile: measuring, atomically: true, encoding: .utf8)
        let measured = try runBrowser(["--window-size=1400,1000", "--dump-dom", "file://" + measuring])
        let json = try #require(measured.components(separatedBy: "data-measured=\"").dropFirst().first?.prefix { $0 != "\"" }, "\(measured.suffix(500))")
        let sizes = try #require(
            try JSONSerialization.jsonObject(with: Data(json.replacingOccurrences(of: "&quot;", with: "\"").utf8)) as? [String: Any], "\(json.prefix(300))")
        let view = sizes["view"] as? Int ?? 0
        let boxes = sizes["boxes"] as? [[Int]] ?? []
        #expect(
            view >= 1300 && (sizes["scroll"] as? Int ?? .max) <= view, "the page fits 1400 px, nothing to scroll sideways: \(sizes["scroll"] ?? "?") of \(view)"
        )
        let hidden = boxes.filter { box in box.count != 3 || box[2] <= 0 || box[1] > view || box[0] >= view / 2 }
        #expect(boxes.count == messages.count && hidden.isEmpty, "every message visible, starting on the left; not: \(hidden.prefix(8))")
        // Each kind in the legend drawn with its own mark.
        #expect(dom.components(separatedBy: "<span class=\"kind\" data-kind=").count - 1 == 15, "the legend's kinds")
        let output = repositoryRoot + "/.build/test-output"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let screenshot = output + "/doctor-timeline.png"
        try? FileManager.default.removeItem(atPath: screenshot)
        _ = try runBrowser(["--screenshot=" + screenshot, "--window-size=1400,1100", "file://" + html])
        let png = FileManager.default.contents(atPath: screenshot) ?? Data()
        #expect(png.count > 20_000 && png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG screenshot at \(screenshot)")
        try? FileManager.default.copyItem(atPath: html, toPath: output + "/doctor-timeline.html")
    }

    /// `collect --ensemble` over the real loopback sshd: each node's agent makes its bundle, which comes back
    /// checked into one archive with a folder per server; a node whose ssh port is closed is a manifest line.
    @Test func collectsEveryNodeOverSSHAndRecordsTheOneItCannotReach() throws {
        let workspace = Scratch("collect-ensemble")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 30_400)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let ssh = try SSHServer.start(in: workspace.file("sshd"))
        defer { ssh.stop() }
        let reachable = try ensemble.overSSH(ssh, zkrunbook: zkrunbook)
        var text = try String(contentsOfFile: reachable, encoding: .utf8)
        let third = try #require(text.range(of: "{ id: 3,"))
        let port = try #require(text.range(of: "port: \(ssh.port),", range: third.upperBound..<text.endIndex))
        text.replaceSubrange(port, with: "port: 1,")
        let file = ensemble.directory + "/ensemble-one-closed.json5"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let output = workspace.file("out")
        let collect = try zkrunbook.run(["collect", "--ensemble", file, "--output", output, "--state-dir", workspace.file("state")], timeout: 300)
        #expect(collect.status == 0, "\(collect.stdout)\n\(collect.stderr)")
        #expect(collect.stdout.contains("2 of 3 server(s) collected"), "\(collect.stdout)")
        #expect(collect.stdout.contains("server 3 (127.0.0.1): unreachable"), "\(collect.stdout)")
        let archives = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasSuffix(".tar.gz") }
        try #require(archives.count == 1, "one archive, no partial left: \(archives)")
        let name = String(archives[0].dropLast(".tar.gz".count))
        #expect(name.hasPrefix("sandbox-\(ensemble.base)-"), "\(name)")
        let unpacked = workspace.folder("unpacked")
        #expect(try ZKRunbookBinary(path: "/bin/tar").run(["-xzf", output + "/" + archives[0], "-C", unpacked]).status == 0)
        let top = unpacked + "/" + name
        for node in 1...2 {
            let log = (try? String(contentsOfFile: "\(top)/server-\(node)-127.0.0.1/logs/zookeeper.log", encoding: .utf8)) ?? ""
            #expect(log.contains("LEADER ELECTION TOOK"), "server \(node)'s own log in its folder")
        }
        #expect(!FileManager.default.fileExists(atPath: top + "/server-3-127.0.0.1"))
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: top + "/manifest.json"))) as? [String: Any])
        let servers = manifest["servers"] as? [[String: Any]] ?? []
        #expect(servers.map { $0["status"] as? String ?? "" } == ["collected", "collected", "unreachable"], "\(servers)")
        #expect(servers.first.flatMap { $0["bundle"] as? String }.map { $0.contains("-myid1-") && $0.hasSuffix(".tar.gz") } == true, "\(servers)")
        let report = (try? String(contentsOfFile: top + "/report.md", encoding: .utf8)) ?? ""
        #expect(report.contains("Some servers' bundles are missing") && report.contains("## Timeline"), "\(report.prefix(3000))")
        #expect(FileManager.default.fileExists(atPath: top + "/report.html"))
    }

    /// Headless chromium, its standard output (the DOM with --dump-dom).
    func runBrowser(_ arguments: [String]) throws -> String {
        let profile = NSTemporaryDirectory() + "zkr-chromium-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try ZKRunbookBinary(path: Self.chromium).run(
            ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + profile] + arguments, timeout: 120)
        #expect(result.status == 0, "chromium \(arguments.first ?? "") exited \(result.status): \(result.stderr.suffix(1000))")
        return result.stdout
    }
}
