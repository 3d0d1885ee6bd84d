import Foundation
import Testing
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// doctor on logs real 3.8 servers wrote here under incidents caused for real: an HTTP request and a Kafka
/// client's first request on a client port, a leader frozen past syncLimit, a server left alone electing while
/// clients knock, a client port held by another process. Each incident named, with its severity and advice; the
/// wrong advice (raise jute.maxbuffer) absent.
@Suite(.serialized, .tags(.realZooKeeper))
struct IncidentLogTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    /// Sends `bytes` (Python's bytes literal syntax) to `port` and reads until the server closes.
    func send(_ bytes: String, to port: Int) throws {
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", \(port)), timeout=5)
            s.sendall(\(bytes))
            try:
                while s.recv(100): pass
            except Exception: pass
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
    }

    func leader(_ ensemble: SandboxEnsemble) throws -> Int {
        let status = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--json"])
        let view = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        return try #require(view["leaderID"] as? Int, "\(status.stdout.prefix(1500))")
    }

    func healthy(_ ensemble: SandboxEnsemble) throws {
        try poll("the sandbox healthy again", timeout: 60, every: 0.2) {
            try zkrunbook.run(["status", "--ensemble", ensemble.file]).status == 0
        }
    }

    @Test func incidentsCausedForRealAreNamedWithTheRightAdvice() throws {
        let workspace = Scratch("incidents")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 36_500)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        let port = ensemble.clientPort(1)
        // ZooKeeper's own pause monitor on (jvm.pause.monitor, 3.6+; off by default): a frozen server then says so.
        for node in 1...3 {
            let config = ensemble.zooCfg(node)
            try (try String(contentsOfFile: config, encoding: .utf8) + "jvm.pause.monitor=true\n").write(toFile: config, atomically: true, encoding: .utf8)
            #expect(try zkrunbook.run(["sandbox", "restart", "--node", String(node), "--dir", ensemble.directory, "--wait"]).status == 0)
            try healthy(ensemble)
        }

        // An HTTP health check and a Kafka client's first request (ApiVersions v3) on node 1's client port.
        try send(#"b"GET / HTTP/1.1\r\nHost: zk\r\nUser-Agent: curl/7.88\r\n\r\n""#, to: port)
        try send(
            #"bytes.fromhex("0000002d0012000300000001000a70726f64756365722d310012617061636865",) + b"-kafka-java\x063.6.1\x00""#, to: port)

        // A connection flood from one address past maxClientCnxns (100), in bursts: 3.8 collapses the repeats
        // into "[N times] Message: … Too many connections from /127.0.0.1 - max is 100".
        let flood = Process()
        flood.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        flood.arguments = [
            "-c",
            """
            import socket, time
            for burst in range(3):
                held = []
                for i in range(130):
                    try: held.append(socket.create_connection(("127.0.0.1", \(port)), timeout=2))
                    except Exception: break
                time.sleep(1.2)
                for s in held: s.close()
                time.sleep(0.3)
            """,
        ]
        try flood.run()
        flood.waitUntilExit()

        // A client process holding 60 sessions dies without closing them: they expire together, one tick apart at most.
        let flock = Process()
        flock.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        flock.arguments = [
            "-c",
            """
            import os
            from kazoo.client import KazooClient
            clients = []
            for i in range(60):
                z = KazooClient(hosts="127.0.0.1:\(port)", timeout=4)
                z.start(timeout=15)
                clients.append(z)
            os._exit(0)
            """,
        ]
        try flock.run()
        flock.waitUntilExit()
        try poll("the 60 sessions expired", timeout: 60, every: 0.2) {
            ensemble.log(1).components(separatedBy: "Expiring session").count + ensemble.log(2).components(separatedBy: "Expiring session").count
                + ensemble.log(3).components(separatedBy: "Expiring session").count - 3 >= 60
        }

        // The leader frozen past syncLimit (10 ticks of 200 ms): its followers drop it and elect. Meanwhile a
        // read-only run (the zxid watch an operator runs from cron) is journalled: it plans nothing.
        let state = workspace.file("doctor-state")
        let watch = try zkrunbook.start(
            ["run", "zxid-rollover-watch", "--param", "ensemble=\(ensemble.file)", "--param", "interval=6s", "--state-dir", state],
            directory: repositoryRoot)
        try poll("the watch's journal", timeout: 30, every: 0.05) {
            ((try? FileManager.default.contentsOfDirectory(atPath: state + "/runs")) ?? []).contains {
                FileManager.default.fileExists(atPath: state + "/runs/\($0)/journal.jsonl")
            }
        }
        let frozen = try leader(ensemble)
        let pid = try #require(Int32(ensemble.pid(frozen).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGSTOP)
        Thread.sleep(forTimeInterval: 4)
        kill(pid, SIGCONT)
        _ = try watch.wait(timeout: 60)
        try healthy(ensemble)

        // Node 1 alone (2 and 3 stopped): it elects without a majority while a client knocks.
        for node in [2, 3] { #expect(try zkrunbook.run(["sandbox", "stop", "--node", String(node), "--dir", ensemble.directory]).status == 0) }
        let aloneSince = Date()
        let knock = Process()
        knock.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        knock.arguments = [
            "-c",
            "from kazoo.client import KazooClient\nz = KazooClient(hosts='127.0.0.1:\(port)', timeout=2)\ntry:\n    z.start(timeout=4)\nexcept Exception:\n    pass\nz.stop()",
        ]
        try knock.run()
        knock.waitUntilExit()
        try poll("node 1 waiting for votes", timeout: 30, every: 0.2) { ensemble.log(1).contains("Notification time out: 1600") }
        let aloneMs = Int(Date().timeIntervalSince(aloneSince) * 1000)
        for node in [2, 3] {
            #expect(try zkrunbook.run(["sandbox", "start", "--node", String(node), "--dir", ensemble.directory, "--wait"]).status == 0)
        }
        try healthy(ensemble)

        // Node 1's client port held by another process when it starts.
        #expect(try zkrunbook.run(["sandbox", "stop", "--node", "1", "--dir", ensemble.directory]).status == 0)
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(holder, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        // The stopped server's port comes free within moments (its last connections closing).
        var why = ""
        try poll("node 1's client port free to hold", timeout: 20, every: 0.2) {
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            why = String(cString: strerror(errno))
            return bound == 0
        }
        #expect(listen(holder, 1) == 0, "\(why)")
        #expect(try zkrunbook.run(["sandbox", "start", "--node", "1", "--dir", ensemble.directory]).status == 0)
        try poll("node 1's bind failure in its log", timeout: 30, every: 0.2) { ensemble.log(1).contains("Address already in use") }
        close(holder)
        _ = try zkrunbook.run(["sandbox", "stop", "--node", "1", "--dir", ensemble.directory])
        #expect(try zkrunbook.run(["sandbox", "start", "--node", "1", "--dir", ensemble.directory, "--wait"]).status == 0)
        try healthy(ensemble)

        // doctor on the three servers' logs, each scanned apart (--ensemble: each node's logFile).
        let json = try zkrunbook.run(["doctor", "--ensemble", ensemble.file, "--json", "--state-dir", state], directory: repositoryRoot)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout.prefix(800))")
        let findings = report["findings"] as? [[String: Any]] ?? []
        func finding(_ id: String) -> [String: Any]? { findings.first { $0["id"] as? String == id } }
        let ids = findings.compactMap { $0["id"] as? String }

        let http = try #require(finding("foreign-protocol"), "\(ids)")
        #expect((http["detail"] as? String ?? "").contains("\"GET \": an HTTP client"))
        #expect(!(http["detail"] as? String ?? "").contains("raise -Djute.maxbuffer"))
        let kafka = try #require(finding("foreign-protocol-payload"), "\(ids)")
        #expect((kafka["detail"] as? String ?? "").contains("a Kafka client"), "\(kafka)")
        #expect(finding("request-over-maxbuffer") == nil && finding("jute-maxbuffer") == nil, "no advice to raise jute.maxbuffer: \(ids)")

        // The elections the freeze caused are judged: the read-only run that overlapped them planned nothing.
        let timeline = report["timeline"] as? [[String: Any]] ?? []
        #expect(timeline.contains { $0["kind"] as? String == "election" }, "the freeze's elections on the timeline")
        #expect(!timeline.contains { ($0["plannedBy"] as? String ?? "").contains("zxid-rollover-watch") }, "a read-only run plans nothing")
        #expect(!timeline.contains { $0["kind"] as? String == "planned-run" })
        // The freeze's election began a new epoch: the server that won it says so in its log, and it is on the timeline.
        #expect(ids.contains("leader-epoch"), "\(ids)")
        #expect(timeline.contains { $0["kind"] as? String == "epoch-change" && ($0["detail"] as? String ?? "").contains("this server leads it") })
        let dropped = try #require(finding("follower-dropped"), "the frozen leader's followers: \(ids)")
        #expect(dropped["severity"] as? String == "warning")
        #expect((dropped["detail"] as? String ?? "").contains("syncLimit"))
        // Its evidence as objects: the file, line, time and server of each line, the finding's servers and span.
        let droppedLine = (dropped["evidence"] as? [[String: Any]])?.first ?? [:]
        #expect(droppedLine["file"] is String && droppedLine["line"] is Int && droppedLine["time"] is String && droppedLine["text"] is String, "\(dropped)")
        #expect(dropped["spanSeconds"] is Double && (dropped["servers"] as? [String])?.isEmpty == false, "\(dropped)")
        let refused = try #require(finding("server-not-running"), "\(ids)")
        #expect(refused["severity"] as? String == "warning")
        // Node 1's election lasted at least as long as it was alone: measured from its LOOKING line, not from
        // the figure ZooKeeper logs.
        let lonely = timeline.filter { $0["kind"] as? String == "election" && ($0["server"] as? String ?? "").hasPrefix("server 1 ") }
        #expect(lonely.contains { ($0["durationMs"] as? Int ?? 0) >= aloneMs }, "alone for \(aloneMs) ms: \(lonely)")
        let electing = try #require(finding("election-not-ending"), "\(ids)")
        #expect((electing["detail"] as? String ?? "").contains("cannot hear a majority"))
        // The freeze as one incident, its cause first: the leader's pause, then its followers dropping it, an election.
        let chain = try #require(finding("pause-lost-leader"), "\(ids)")
        #expect(chain["severity"] as? String == "critical", "\(chain)")
        #expect((chain["node"] as? String ?? "").hasPrefix("server \(frozen) "), "the paused server named: \(chain)")
        let story = chain["detail"] as? String ?? ""
        #expect(
            story.contains("lost their connection to it") && story.contains("election(s) followed") && story.contains("First look at the pause"), "\(story)")

        // Sixty sessions of one dead client: a burst, judged by its rate.
        let expired = try #require(finding("session-expiry"), "\(ids)")
        #expect(expired["severity"] as? String == "warning" && (expired["detail"] as? String ?? "").contains("within one second"), "\(expired)")

        // Each collapsed line counted as its refusals.
        let flooded = try #require(finding("too-many-connections"), "\(ids)")
        let floodDetail = flooded["detail"] as? String ?? ""
        let refusedCount = Int(floodDetail.prefix { $0.isNumber }) ?? 0
        #expect(refusedCount > (flooded["count"] as? Int ?? 0) && floodDetail.contains("max"), "\(flooded)")
        let portTaken = try #require(finding("port-in-use"), "\(ids)")
        #expect(portTaken["severity"] as? String == "critical" && (portTaken["detail"] as? String ?? "").contains("ss -ltnp"))

        // The three servers' logs given as files: three servers, told apart by what their lines say (myid=N), each
        // judged alone; server 2's log rotated in two (zookeeper.log.1 older) is still one server, its starts counted once each.
        let rotated = workspace.file("rotated")
        try FileManager.default.createDirectory(atPath: rotated, withIntermediateDirectories: true)
        let lines = ensemble.log(2).split(separator: "\n", omittingEmptySubsequences: false)
        let half = lines.count / 2
        try lines[..<half].joined(separator: "\n").appending("\n").write(toFile: rotated + "/zookeeper.log.1", atomically: true, encoding: .utf8)
        try lines[half...].joined(separator: "\n").write(toFile: rotated + "/zookeeper.log", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: rotated + "/zookeeper.log.1")
        let byFiles = try zkrunbook.run(
            [
                "doctor", "--logs", ensemble.directory + "/node1/zookeeper.log", "--logs", rotated, "--logs", ensemble.directory + "/node3/zookeeper.log",
                "--json", "--state-dir", workspace.file("empty-state"),
            ], directory: repositoryRoot)
        let split = try #require(try JSONSerialization.jsonObject(with: Data(byFiles.stdout.utf8)) as? [String: Any])
        let splitFindings = split["findings"] as? [[String: Any]] ?? []
        let servers = Set(splitFindings.compactMap { $0["node"] as? String })
        #expect(servers == ["server 1", "server 2", "server 3"], "one lane per server: \(servers)")
        let startsOf2 = splitFindings.first { $0["id"] as? String == "server-start" && $0["node"] as? String == "server 2" }
        #expect(
            startsOf2?["detail"] as? String == "3 starts: 2 restart(s)",
            "server 2 started, was restarted for the pause monitor, then stopped and started once: \(String(describing: startsOf2))")

        // The three servers in one file, as `docker compose logs` gives them (each line behind its service's
        // prefix, the servers' lines interleaved in time order): still three servers, each line where it was.
        var records: [(time: String, node: Int, lines: [Substring])] = []
        for node in 1...3 {
            for line in ensemble.log(node).split(separator: "\n") {
                if line.count >= 23, line.first?.isNumber == true || records.last?.node != node {
                    records.append((String(line.prefix(23)), node, [line]))
                } else {
                    records[records.count - 1].lines.append(line)
                }
            }
        }
        let composed = workspace.file("compose.log")
        let composedLines = records.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
            .flatMap { record in record.element.lines.map { "zookeeper_\(record.element.node)  | \($0)" } }
        try (composedLines.joined(separator: "\n") + "\n").write(toFile: composed, atomically: true, encoding: .utf8)
        let byCompose = try zkrunbook.run(["doctor", "--logs", composed, "--json", "--state-dir", workspace.file("empty-state")], directory: repositoryRoot)
        let composeReport = try #require(try JSONSerialization.jsonObject(with: Data(byCompose.stdout.utf8)) as? [String: Any])
        let composeFindings = composeReport["findings"] as? [[String: Any]] ?? []
        #expect(Set(composeFindings.compactMap { $0["node"] as? String }) == ["server 1", "server 2", "server 3"], "\(composeFindings.map { $0["node"] })")
        let composedStarts = composeFindings.first { $0["id"] as? String == "server-start" && $0["node"] as? String == "server 2" }
        #expect(composedStarts?["detail"] as? String == "3 starts: 2 restart(s)", "\(String(describing: composedStarts))")
        // Each line of evidence names the combined file and the line it is on there.
        for finding in composeFindings {
            for line in finding["evidence"] as? [[String: Any]] ?? [] where line["file"] as? String == composed {
                let number = try #require(line["line"] as? Int)
                #expect(composedLines[number - 1].hasSuffix(line["text"] as? String ?? "?"), "\(line)")
            }
        }

        // Every "Next:" runs as printed: it carries the ensemble doctor was given.
        let markdown = try zkrunbook.run(["doctor", "--ensemble", ensemble.file, "--state-dir", state], directory: repositoryRoot)
        #expect(markdown.stdout.contains("Next: `zkrunbook run health-check --ensemble \(ensemble.file)`"), "\(markdown.stdout.prefix(3000))")
        #expect(!markdown.stdout.contains("Next: `zkrunbook run health-check`"))
    }
}

extension IncidentLogTests {
    /// A real 3.8 server started under a file-size limit (ulimit -f, as a systemd unit's LimitFSIZE would set):
    /// its transaction log's first write fails and the server exits. doctor names the limit, not the disk.
    @Test func aTransactionLogStoppedByAFileSizeLimitIsNamed() throws {
        let workspace = Scratch("wal-limit")
        let ensemble = try zkrunbook.sandbox(workspace, nodes: 1, firstPort: 37_500)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        #expect(try zkrunbook.run(["sandbox", "stop", "--node", "1", "--dir", ensemble.directory]).status == 0)
        try FileManager.default.removeItem(atPath: ensemble.directory + "/node1/data/version-2")
        let limited = Process()
        limited.executableURL = URL(fileURLWithPath: "/bin/sh")
        limited.arguments = ["-c", "ulimit -f 2000; exec \"$0\" sandbox start --node 1 --dir \"$1\"", zkrunbook.path, ensemble.directory]
        try limited.run()
        limited.waitUntilExit()
        // Its first write: a session (the client gives up; the server is gone). A client that could not get a session
        // on a loaded machine tries again.
        try poll("node 1 serving under the limit", timeout: 60, every: 0.1) { ensemble.log(1).contains("binding to port") }
        try poll("the write failure in node 1's log", timeout: 120, every: 0.5) {
            if ensemble.log(1).contains("File too large") { return true }
            let client = Process()
            client.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            client.arguments = [
                "-c",
                "from kazoo.client import KazooClient\nz = KazooClient(hosts='127.0.0.1:\(ensemble.clientPort(1))', timeout=10)\ntry:\n    z.start(timeout=15)\n    z.create('/w', b'x')\nexcept Exception:\n    pass\nz.stop()",
            ]
            try client.run()
            client.waitUntilExit()
            return ensemble.log(1).contains("File too large")
        }
        let doctor = try zkrunbook.run(
            ["doctor", "--logs", ensemble.directory + "/node1/zookeeper.log", "--json", "--state-dir", workspace.file("state")], directory: repositoryRoot)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any], "\(doctor.stdout.prefix(500))")
        let findings = report["findings"] as? [[String: Any]] ?? []
        let ids = findings.compactMap { $0["id"] as? String }
        let limit = try #require(findings.first { $0["id"] as? String == "file-size-limit" }, "\(ids)")
        #expect(limit["severity"] as? String == "critical" && (limit["detail"] as? String ?? "").contains("LimitFSIZE"))
        #expect(ids.contains("critical-thread-died"), "\(ids)")
        #expect(!ids.contains("disk-full"), "a file-size limit is not a full disk: \(ids)")
    }
}

/// The timeline on the layouts real logs come in, from a real 3.8 server whose logging was configured for each
/// (its time in brackets as Kafka's layout has it, without milliseconds), and the same lines as docker compose
/// and `kubectl logs --timestamps` hand them over: the same server starts found on every one, at the same
/// instants, whatever zone the reading machine is in.
@Suite(.serialized, .tags(.realZooKeeper))
struct LogLayoutTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    /// The start times (ms) doctor's timeline puts on `log`, read under `readerZone` with `--log-timezone`.
    func starts(_ log: String, readerZone: String, serverZone: String, state: String) throws -> [Int64] {
        let run = try zkrunbook.run(
            ["doctor", "--logs", log, "--json", "--state-dir", state, "--log-timezone", serverZone], directory: repositoryRoot,
            environment: ["TZ": readerZone])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout.prefix(500))")
        let timeline = report["timeline"] as? [[String: Any]] ?? []
        return timeline.filter { $0["kind"] as? String == "start" }.compactMap { ($0["startMs"] as? NSNumber)?.int64Value }.sorted()
    }

    @Test func theTimelineIsReadOnEveryLayoutWhateverTheReadersZone() throws {
        let workspace = Scratch("layouts")
        let ensemble = try zkrunbook.sandbox(workspace, nodes: 1, firstPort: 37_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        // The server writes its times in Berlin's zone; restarted once per layout.
        let server = "Europe/Berlin"
        for format in ["'['yyyy-MM-dd HH:mm:ss,SSS']'", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSS"] {
            let restart = try zkrunbook.run(
                ["sandbox", "restart", "--node", "1", "--dir", ensemble.directory, "--wait"],
                environment: ["ZKRUNBOOK_SANDBOX_LOG_DATE_FORMAT": format, "TZ": server])
            #expect(restart.status == 0, "\(restart.stderr)")
        }
        let log = ensemble.log(1)
        #expect(log.contains("] [main] INFO"), "the bracketed layout written: \(log.suffix(300))")
        let plain = workspace.file("server.log")
        try log.write(toFile: plain, atomically: true, encoding: .utf8)

        // docker compose's prefix, and kubectl's own UTC stamp before each line (the line's instant, as a
        // container runtime stamps it on arrival).
        let berlin = DateFormatter()
        berlin.timeZone = TimeZone(identifier: server)
        berlin.locale = Locale(identifier: "en_US_POSIX")
        let utc = ISO8601DateFormatter()
        utc.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var compose: [String] = []
        var kubectl: [String] = []
        var stamp = "2000-01-01T00:00:00.000Z"
        for line in log.split(separator: "\n", omittingEmptySubsequences: false) {
            compose.append("zookeeper_1  | " + line)
            let text = String(line)
            for (pattern, length) in [("yyyy-MM-dd HH:mm:ss,SSS", 23), ("yyyy-MM-dd'T'HH:mm:ss.SSS", 23), ("yyyy-MM-dd HH:mm:ss", 19)] {
                berlin.dateFormat = pattern
                let head = text.hasPrefix("[") ? String(text.dropFirst().prefix(length)) : String(text.prefix(length))
                if let date = berlin.date(from: head) {
                    stamp = utc.string(from: date)
                    break
                }
            }
            kubectl.append(stamp + " " + line)
        }
        let composed = workspace.file("compose.log")
        let stamped = workspace.file("kubectl.log")
        try compose.joined(separator: "\n").write(toFile: composed, atomically: true, encoding: .utf8)
        try kubectl.joined(separator: "\n").write(toFile: stamped, atomically: true, encoding: .utf8)

        let state = workspace.file("state")
        // A layout with the time of day and no date: its lines are counted and said to be off the timeline, never dropped silently.
        let timeOnly = try zkrunbook.run(
            ["sandbox", "restart", "--node", "1", "--dir", ensemble.directory, "--wait"],
            environment: ["ZKRUNBOOK_SANDBOX_LOG_DATE_FORMAT": "HH:mm:ss,SSS", "TZ": server])
        #expect(timeOnly.status == 0, "\(timeOnly.stderr)")
        let undated = workspace.file("undated.log")
        try String(ensemble.log(1).dropFirst(log.count)).write(toFile: undated, atomically: true, encoding: .utf8)
        let report = try zkrunbook.run(["doctor", "--logs", undated, "--json", "--state-dir", state], directory: repositoryRoot)
        let undatedFindings =
            (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["findings"] as? [[String: Any]] ?? []
        let untimed = try #require(undatedFindings.first { $0["id"] as? String == "lines-without-time" }, "\(report.stdout.prefix(1500))")
        #expect((untimed["count"] as? Int ?? 0) >= 1 && (untimed["detail"] as? String ?? "").contains("missing from the timeline"))

        let reference = try starts(plain, readerZone: "UTC", serverZone: server, state: state)
        #expect(reference.count >= 4, "the first start and three restarts: \(reference)")

        // A bundle made by collect on the server's machine records the zone the server writes in (its TZ): doctor
        // reads the unpacked bundle's logs in it, wherever it runs, without being told.
        let bundles = workspace.file("bundles")
        let collect = try zkrunbook.run(
            [
                "collect", "--zoo-cfg", ensemble.zooCfg(1), "--log-dir", ensemble.directory + "/node1", "--output", bundles, "--state-dir", state,
            ], directory: repositoryRoot, timeout: 120)
        #expect(collect.status == 0, "\(collect.stdout.suffix(800))\(collect.stderr.suffix(800))")
        let archive = try #require(((try? FileManager.default.contentsOfDirectory(atPath: bundles)) ?? []).first { $0.hasSuffix(".tar.gz") })
        let unpacked = workspace.file("unpacked")
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        #expect(try ZKRunbookBinary(path: "/bin/tar").run(["-xzf", bundles + "/" + archive, "-C", unpacked]).status == 0)
        let root = try #require(try FileManager.default.contentsOfDirectory(atPath: unpacked).first)
        let fromBundle = try zkrunbook.run(
            ["doctor", "--logs", unpacked + "/" + root + "/logs", "--json", "--state-dir", state], directory: repositoryRoot,
            environment: ["TZ": "America/New_York"])
        let bundleReport = try #require(
            try JSONSerialization.jsonObject(with: Data(fromBundle.stdout.utf8)) as? [String: Any], "\(fromBundle.stdout.prefix(500))")
        #expect(bundleReport["logTimezone"] as? String == server, "\(bundleReport["logTimezone"] ?? "none"), \(bundleReport["logTimezoneSource"] ?? "")")
        let bundleStarts = (bundleReport["timeline"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "start" }
            .compactMap { ($0["startMs"] as? NSNumber)?.int64Value }.sorted()
        #expect(Array(bundleStarts.prefix(reference.count)) == reference, "read in the server's zone: \(bundleStarts) against \(reference)")
        for (file, name) in [(plain, "as written"), (composed, "docker compose"), (stamped, "kubectl --timestamps")] {
            for reader in ["UTC", "Asia/Tokyo", "America/New_York"] {
                let found = try starts(file, readerZone: reader, serverZone: server, state: state)
                #expect(found.count == reference.count, "\(name), read in \(reader): \(found.count) starts, \(reference.count) expected")
                // kubectl's stamp has the milliseconds of the line; the seconds-only layout had none.
                #expect(zip(found, reference).allSatisfy { abs($0 - $1) < 1_000 }, "\(name), read in \(reader): \(found) against \(reference)")
            }
        }
    }
}
