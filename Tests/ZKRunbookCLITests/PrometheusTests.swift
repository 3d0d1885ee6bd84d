import Foundation
import Testing
import ZKRunbookTestSupport

/// `status --prometheus` read by Prometheus' own checker, the shipped alert rules run by promtool's rule
/// tests, and the Grafana dashboard asking only for series that exist.
@Suite(.serialized, .tags(.realZooKeeper))
struct PrometheusTests {
    let zkrunbook: ZKRunbookBinary
    static let promtool = "/usr/bin/promtool"
    static let alerts = repositoryRoot + "/packaging/prometheus/zookeeper-alerts.yml"

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func promtool(_ arguments: [String], input: String? = nil) throws -> ZKRunbookBinary.Result {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.promtool),
            "\(Self.promtool) is missing: apt-get install -y prometheus (packaging/install-deps.sh installs it)")
        if let input {
            return try ZKRunbookBinary(path: "/bin/sh").run(["-c", "\"$0\" \"$@\" < \"\(input)\"", Self.promtool] + arguments)
        }
        return try ZKRunbookBinary(path: Self.promtool).run(arguments, directory: repositoryRoot + "/packaging/prometheus")
    }

    /// The series names in a textfile.
    static func names(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: "{").first.map(String.init) })
    }

    @Test func eachNodeWritesItsServerAndOneWritesTheEnsembleAndPromtoolAcceptsIt() throws {
        let workspace = Scratch("prometheus")
        let ensemble = try zkrunbook.sandbox(workspace, firstPort: 26_000)
        defer { _ = try? zkrunbook.run(["sandbox", "down", "--dir", ensemble.directory]) }
        try poll("the ensemble healthy", timeout: 90) { (try? zkrunbook.run(["status", "--ensemble", ensemble.file]))?.status == 0 }

        func textfile(_ name: String, _ source: [String]) throws -> String {
            let path = workspace.file(name)
            let status = try zkrunbook.run(["status", "--prometheus", path, "--state-dir", workspace.folder("state-" + name)] + source)
            #expect([0, 1].contains(status.status), "\(status.stdout)\(status.stderr)")
            let check = try promtool(["check", "metrics"], input: path)
            #expect(check.status == 0, "promtool check metrics \(name): \(check.stdout)\(check.stderr)")
            return workspace.text(name)
        }
        // Each node, as its health timer runs it, naming itself (on a real node, the myid beside its zoo.cfg's
        // dataDir; the sandbox's servers share one host, which a zoo.cfg's server lines cannot tell apart).
        let node1 = try textfile("node1.prom", ["--ensemble", ensemble.file, "--metrics-server", "1"])
        let node2 = try textfile("node2.prom", ["--ensemble", ensemble.file, "--metrics-server", "2"])
        #expect(node1.contains("zookeeper_serving{ensemble=\""))
        #expect(node1.contains(",server=\"1\"} 1") && !node1.contains("server=\"2\""), "node 1 writes its own server only:\n\(node1)")
        #expect(!node2.contains("server=\"1\"") && node2.contains("zookeeper_up{"), "\(node2)")
        // A follower's own mntr series too, not only the leader's.
        for name in ["zookeeper_watches", "zookeeper_open_file_descriptors", "zookeeper_avg_latency", "zookeeper_znodes"] {
            #expect(node1.contains(name + "{") && node2.contains(name + "{"), "\(name) missing:\n\(node1)\n---\n\(node2)")
        }
        // The ensemble series once: the lowest id that answered (node 1), with every verdict a stable series.
        #expect(node1.contains("zookeeper_ensemble_verdict{") && !node2.contains("zookeeper_ensemble_verdict{"), "\(node1)\n---\n\(node2)")
        for verdict in ["healthy", "degraded-but-quorate", "no-quorum", "split", "unknown"] {
            #expect(node1.contains("verdict=\"\(verdict)\"} \(verdict == "healthy" ? 1 : 0)\n"), "\(verdict) in\n\(node1)")
        }
        #expect(node1.contains("zookeeper_quorum_size{") && node1.contains("zkrunbook_textfile_last_success_timestamp_seconds{"))
        let labelled = node1.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(labelled.allSatisfy { $0.contains("ensemble=\"") }, "a series without its ensemble label in\n\(node1)")

        // Node 1 stops: node 2 is now the lowest that answers, and writes the ensemble series (degraded).
        #expect(try zkrunbook.run(["sandbox", "stop", "--dir", ensemble.directory, "--node", "1"]).status == 0)
        var after = ""
        try poll("node 2 writing the ensemble's degraded verdict", timeout: 60) {
            after = try textfile("node2-after.prom", ["--ensemble", ensemble.file, "--metrics-server", "2"])
            return after.contains("verdict=\"degraded-but-quorate\"} 1\n")
        }
        #expect(after.contains("zookeeper_ensemble_serving_voters{ensemble=") && after.contains("} 2\n"))
        #expect(try zkrunbook.run(["sandbox", "start", "--dir", ensemble.directory, "--node", "1", "--wait"]).status == 0)

        // A central exporter (--ensemble) writes every server; two rounds around a write give the rollover ETA.
        let stateDir = workspace.folder("state-central")
        let central = workspace.file("central.prom")
        let first = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--prometheus", central, "--state-dir", stateDir])
        #expect([0, 1].contains(first.status), "\(first.stdout)\(first.stderr)")
        try ensemble.write("/metrics-witness", through: 2)
        try poll("a rollover ETA after a write", timeout: 30) {
            _ = try zkrunbook.run(["status", "--ensemble", ensemble.file, "--prometheus", central, "--state-dir", stateDir])
            return workspace.text("central.prom").contains("zookeeper_zxid_rollover_eta_seconds{")
        }
        let all = workspace.text("central.prom")
        #expect((1...3).allSatisfy { all.contains("zookeeper_up{ensemble=\"sandbox-\(ensemble.base)\",server=\"\($0)\"} 1") }, "\(all)")
        let check = try promtool(["check", "metrics"], input: central)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        // What the dashboard and the alerts ask for is what the file holds.
        let written = Self.names(all)
        let pattern = try NSRegularExpression(pattern: "\\b(zookeeper|zkrunbook)_[a-z_]+")
        for file in ["packaging/grafana/zookeeper-dashboard.json", "packaging/prometheus/zookeeper-alerts.yml"] {
            let text = try String(contentsOfFile: repositoryRoot + "/" + file, encoding: .utf8)
            let asked = Set(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { (text as NSString).substring(with: $0.range) })
            #expect(!asked.isEmpty)
            // The certificate expiry is written only for servers reached over TLS: TLSEnsembleTests checks it there.
            let unwritten = asked.subtracting(written).subtracting(["zookeeper_tls_certificate_expiry_timestamp_seconds"])
            #expect(unwritten.isEmpty, "\(file) asks for series status never wrote: \(unwritten.sorted())")
        }
        let dashboard = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/packaging/grafana/zookeeper-dashboard.json")))
        #expect(((dashboard as? [String: Any])?["panels"] as? [Any])?.count ?? 0 >= 10)
    }

    @Test func aFileThatCannotBeWrittenFailsWithItsOwnExitCode() throws {
        let workspace = Scratch("prometheus-unwritable")
        // Nothing listens on port 1: the view is unknown, and the file is still due.
        let result = try zkrunbook.run([
            "status", "--server", "127.0.0.1:1", "--prometheus", workspace.file("missing-folder/zk.prom"), "--state-dir", workspace.folder("state"),
        ])
        let bad = try zkrunbook.run(["status", "--server", "127.0.0.1:1", "--prometheus", workspace.file("zk.prom"), "--metrics-server", "first"])
        #expect(bad.status == 2 && bad.stderr.contains("--metrics-server") && !bad.stdout.contains("voter"), "\(bad.stdout)\(bad.stderr)")
        // 5, not 1 or 3: the health unit counts those as success, since the verdict is in the metrics.
        #expect(result.status == 5, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("cannot write"), "\(result.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: workspace.path)) ?? []).allSatisfy { !$0.contains(".tmp-") })
    }

    /// On a node, the health unit gives only its zoo.cfg: the series are its own myid's, labelled with the
    /// members' identity; with nobody answering, nobody writes the ensemble's verdict (never a guess).
    @Test func aNodesOwnMyidChoosesItsSeries() throws {
        let workspace = Scratch("prometheus-myid")
        let data = workspace.folder("data")
        _ = workspace.write("data/myid", "2\n")
        let config = workspace.write(
            "zoo.cfg",
            """
            tickTime=2000
            dataDir=\(data)
            clientPort=1
            server.1=127.0.0.1:2:3
            server.2=127.0.0.1:4:5
            server.3=127.0.0.1:6:7

            """)
        let result = try zkrunbook.run(["status", "--zoo-cfg", config, "--prometheus", workspace.file("zk.prom"), "--state-dir", workspace.folder("state")])
        #expect([1, 3].contains(result.status), "\(result.stdout)\(result.stderr)")
        let text = workspace.text("zk.prom")
        #expect(text.range(of: "zookeeper_up\\{ensemble=\"[0-9a-f]{16}\",server=\"2\"\\} 0\n", options: .regularExpression) != nil, "\(text)")
        #expect(text.contains(",server=\"2\"} 0\n") && !text.contains("server=\"1\"") && !text.contains("server=\"3\""), "\(text)")
        #expect(!text.contains("zookeeper_ensemble_verdict"), "\(text)")
        let check = try promtool(["check", "metrics"], input: workspace.file("zk.prom"))
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test func theShippedAlertRulesPassPromtoolAndFireOnTheirSeries() throws {
        let check = try promtool(["check", "rules", Self.alerts])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 11 rules found"), "\(check.stdout)")
        let unit = try promtool(["test", "rules", "zookeeper-alerts.test.yml"])
        #expect(unit.status == 0, "promtool test rules: \(unit.stdout)\(unit.stderr)")
    }
}
