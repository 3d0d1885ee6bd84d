import Foundation
import ZKRunbookAgent
import ZKRunbookDiagnostics
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookRolling
import ZKRunbookSandbox
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

enum StatusCommand {
    static let usage = "Usage: zkrunbook status (--ensemble FILE | --zoo-cfg FILE | --server HOST:PORT...) [--json] [--timeout DUR] [--max-lag N]"
    static let help = """
        \(usage)

        Probes every member of an ensemble at once (srvr; then mntr on the leader) and prints who leads, each member's mode and zxid,
        how many transactions each is behind the leader, the leader's synced followers, the channel
        each fact came from (4lw srvr/mntr, or the AdminServer where the whitelist refuses), the quorum
        maths, and a verdict with its reasons.

        Options:
          --ensemble FILE      an ensemble file (JSON5: nodes with id, host, clientPort, adminPort, role)
          --zoo-cfg FILE       the server.N lines of a zoo.cfg (and its dynamic config file)
          --server HOST:PORT   a server to probe (repeatable, or comma-separated)
          --json               print the whole view as JSON
          --timeout DUR        per connect and per reply (default 2s)
          --max-lag N          transactions a member may be behind before the ensemble is degraded (default 1000)
          --prometheus FILE    also write the metrics for node_exporter's textfile collector (atomically;
                               names as ZooKeeper's Prometheus provider, zookeeper_ prefix): this node's
                               server series, and the ensemble's (verdict, quorum, leader, rollover ETA)
                               from the member with the lowest id that answered, so alerts fire once
          --ensemble-name NAME the metrics' ensemble label (default: the ensemble file's name; with
                               --zoo-cfg, the members' identity, as zkrunbook identity prints it)
          --metrics-server ID|all
                               whose server series to write (default: the myid next to --zoo-cfg's
                               dataDir; all without one, as a central exporter does)
          --state-dir DIR      where zxid samples are kept for the rollover ETA, and which member led
                               last (the next status asks only it mntr); as for run, never created here
        \(ServerTargets.tlsHelp)
          -h, --help           show this help

        The servers' own member lists (conf, or the AdminServer's voting_view) are compared with the list
        given: a member missing from it, an extra one, a role or id that differs, two ids on one endpoint
        are each named. A list that covers part of the ensemble is judged as such ("scope: partial"): a
        serving follower proves a leader with a quorum; a partial view where nothing serves is "unknown",
        never "no-quorum".

        An election is not "no quorum": with no leader but a majority of the voters up (answering "not
        currently serving requests"), the verdict is "electing"; "no-quorum" means too few voters are up to
        elect one. A voter that answers but does not serve is said as up, electing or syncing, never down.

        Exit codes: 0 healthy, 1 degraded-but-quorate, 2 usage error, 3 no quorum or split (judged on the
        whole ensemble only), 5 the --prometheus file could not be written, 7 electing (a majority is up,
        no leader yet: look again in a few seconds), 8 unknown (a partial view that proves nothing).
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments,
            valueOptions: ServerTargets.tlsValueOptions.union([
                "--ensemble", "--zoo-cfg", "--server", "--timeout", "--max-lag", "--prometheus", "--state-dir", "--ensemble-name", "--metrics-server",
            ]),
            flagOptions: ServerTargets.tlsFlagOptions.union(["--json"]), usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        if !parsed.positionals.isEmpty { throw UsageError(message: "unexpected argument '\(parsed.positionals[0])'", usage: usage) }
        let targets = try ServerTargets.resolve(parsed, usage: usage)
        let connector = targets.connector
        // Read before any probe, so a bad --metrics-server is a usage error with nothing done.
        let metrics = parsed.value("--prometheus") == nil ? nil : try metricsSettings(parsed, usage: usage)
        var timeout = 2.0
        if let text = parsed.value("--timeout") {
            guard let duration = RunbookDuration.parse(text) else {
                throw UsageError(message: "--timeout: expected \(RunbookDuration.expectation), found '\(text)'", usage: usage)
            }
            timeout = duration.seconds
        }
        var maxLag: UInt64 = 1000
        if let text = parsed.value("--max-lag") {
            guard let value = UInt64(text) else { throw UsageError(message: "--max-lag takes a whole number", usage: usage) }
            maxLag = value
        }
        // ruok is left out: it shows nothing the table or the verdict uses ('imok' even when not serving).
        var inspector = EnsembleInspector(
            probe: ServerProbe(limits: SocketLimits(connectTimeout: timeout, readTimeout: timeout), wantRuok: false, wantConfig: true, connector: connector),
            maxLag: maxLag)
        let seconds = timeout
        LeaderHints.shared.keep(inStateDirectory: StateLayout.standard(explicit: parsed.value("--state-dir")).root)
        let sasl = try targets.saslIdentity()
        inspector.readConfig = { ZooKeeperActions.readConfig(from: $0, timeout: seconds, connector: connector, sasl: sasl) }
        inspector.readMembersFile = ZooKeeperActions.readMembersFile(nodes: targets.file?.nodes ?? [])
        let view = inspector.inspect(targets.members, namedByPosition: parsed.values["--server"] != nil)
        try EnsembleTable.print(view, json: parsed.flags.contains("--json"))
        if !parsed.flags.contains("--json"), !view.membership.findings.isEmpty, let file = parsed.value("--ensemble") {
            // A membership not as written may be a run's change left half done (a hand-off, a reconfig): say
            // which runs on this ensemble did not finish, as this machine's journals record them.
            let layout = StateLayout.standard(explicit: parsed.value("--state-dir"))
            let path = URL(fileURLWithPath: file).standardizedFileURL.path
            let unfinished = RunHistory(layout: layout).list().filter {
                $0.status == "unfinished" && !$0.dryRun && $0.ensemble.map { URL(fileURLWithPath: $0).standardizedFileURL.path } == path
            }
            for run in unfinished.reversed() {
                Swift.print(
                    "unfinished: run \(run.runID) (\(run.runbook), started \(run.startedAt)) did not finish on this ensemble: zkrunbook resume \(run.runID)")
            }
        }
        if let path = parsed.value("--prometheus"), let metrics {
            let history = ZxidHistory(stateDirectory: StateLayout.standard(explicit: parsed.value("--state-dir")).root)
            let limits = SocketLimits(connectTimeout: timeout, readTimeout: timeout)
            do { try PrometheusTextfile.write(view, metrics: metrics, history: history, limits: limits, connector: connector, to: path) } catch {
                throw CommandFailure(message: "error: cannot write \(path): \(error.localizedDescription)", exitCode: .outputFailed)
            }
        }
        switch view.verdict {
        case .healthy: return CLI.ExitCode.success
        case .degraded: return .stepFailed
        case .electing: return .electing
        case .unknown: return .partialView
        case .noQuorum, .split: return CLI.ExitCode.refused
        }
    }

    /// The ensemble label (--ensemble-name, else the ensemble file's name, else the members' identity) and
    /// whose per-server series to write (--metrics-server, else this node's myid from --zoo-cfg, else all).
    static func metricsSettings(_ parsed: ParsedArguments, usage: String) throws -> PrometheusMetrics {
        var name = parsed.value("--ensemble-name")
        var servers = PrometheusMetrics.Servers.all
        if let path = parsed.value("--ensemble"), let file = try? EnsembleFile.load(path: path) {
            name = name ?? file.name
        }
        if let path = parsed.value("--zoo-cfg"), let config = try? ZooConfig.load(path: path) {
            if name == nil {
                name = EnsembleLease.identity(of: EnsembleMember.members(from: config))
            }
            if let myid = config.myid { servers = .only(myid) }
        }
        if let text = parsed.value("--metrics-server") {
            if text == "all" {
                servers = .all
            } else if let id = Int(text) {
                servers = .only(id)
            } else {
                throw UsageError(message: "--metrics-server takes a server id (myid) or 'all', found '\(text)'", usage: usage)
            }
        }
        return PrometheusMetrics(ensemble: name ?? "zookeeper", servers: servers)
    }
}

/// Writes `status --prometheus`: the rollover ETA from the zxid samples kept in the state directory, the
/// exposition from the library, then an atomic rename so node_exporter never reads half a file.
enum PrometheusTextfile {
    static func write(
        _ view: EnsembleView, metrics: PrometheusMetrics, history: ZxidHistory, limits: SocketLimits, connector: any ServerConnector, to path: String
    ) throws {
        var metrics = metrics
        // status reads mntr of the leader alone; the servers this file covers need theirs (watches, file
        // descriptors): asked of those still without it, at once.
        var view = view
        let missing = view.members.indices.filter {
            metrics.covers(view.members[$0].member.id) && view.members[$0].facts.monitor.isEmpty && view.members[$0].facts.mode.isServing
        }
        let monitor = ServerProbe(limits: limits, connector: connector)
        let added = Parallel.map(missing.map { view.members[$0] }) { status in
            var facts = status.facts
            monitor.addMonitor(to: &facts, adminPort: status.member.adminPort)
            return facts
        }
        for (index, facts) in zip(missing, added) { view.members[index].facts = facts }
        if let leaderID = view.leaderID, let leader = view.members.first(where: { $0.member.id == leaderID }), let zxid = leader.facts.zxid {
            let now = RolloverEstimate.Sample(time: metrics.time, zxid: zxid)
            metrics.rolloverETA = history.eta(server: leader.member.endpoint.description, now: now)
            history.append(server: leader.member.endpoint.description, sample: now)
        }
        let temporary = path + ".tmp-\(getpid())"
        do {
            try metrics.render(view).write(toFile: temporary, atomically: false, encoding: .utf8)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: reason])
        }
    }
}

/// A failure with its own message and exit code (not a usage error).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: ExitCode
    var description: String { message }
}

/// The `status` table.
enum EnsembleTable {
    /// The view as the table, or with --json as the whole view.
    static func print(_ view: EnsembleView, json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            Swift.print(String(decoding: try encoder.encode(view), as: UTF8.self))
        } else {
            Swift.print(render(view))
        }
    }

    static func render(_ view: EnsembleView) -> String {
        let quorum = view.quorum
        var lines = [
            "\(quorum.voters.count) voter(s)\(quorum.observers.isEmpty ? "" : " + \(quorum.observers.count) observer(s)"), majority \(quorum.majority), tolerates \(quorum.tolerated) voter failure(s); probed in \(view.probeMs) ms"
        ]
        let header = ["ID", "ENDPOINT", "ROLE", "MODE", "VERSION", "ZXID", "EPOCH", "COUNTER", "LAG", "SYNCED", "CHANNELS"]
        var rows: [[String]] = []
        for status in view.members {
            let facts = status.facts
            var synced = "-"
            if facts.mode == .leader, let count = facts.syncedFollowers { synced = "\(count)/\(max(0, quorum.voters.count - 1))" }
            let channels = Set([facts.channels["mode"], facts.channels["syncedFollowers"]].compactMap { $0 }).sorted().joined(separator: ", ")
            rows.append([
                String(status.member.id), status.member.endpoint.description, status.member.role.rawValue, facts.mode.rawValue,
                facts.version.flatMap(ZooKeeperVersion.init)?.description ?? "-", facts.zxid?.description ?? "-", facts.zxid.map { String($0.epoch) } ?? "-",
                facts.zxid.map { String($0.counter) } ?? "-",
                status.lag.map(String.init) ?? (facts.mode == .leader ? "leader" : "-"), synced, channels.isEmpty ? "-" : channels,
            ])
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            lines.append(
                row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(
                    in: .whitespaces))
        }
        lines.append("verdict: \(view.verdict.rawValue)" + (view.leaderID.map { " (leader: server \($0))" } ?? "") + ", scope: \(view.scope.rawValue)")
        lines += view.reasons.map { "  - " + $0 }
        if view.verdict == .unknown {
            // No arithmetic over a list that is not the ensemble: a mistyped port is not "1 voter, too few".
            lines.append("quorum: not judged: a partial view (\(view.members.count) server(s) given) in which nothing serves")
        } else {
            lines.append("quorum: " + quorum.reason)
        }
        lines += releaseLines(view)
        lines += certificateLines(view)
        lines += view.notes.map { "note: " + $0 }
        return lines.joined(separator: "\n")
    }

    /// A mixed ensemble named: each release with the servers that said they run it (a halted upgrade).
    static func releaseLines(_ view: EnsembleView) -> [String] {
        var byRelease: [String: [Int]] = [:]
        for status in view.members {
            if let release = status.facts.version.flatMap(ZooKeeperVersion.init) { byRelease[release.description, default: []].append(status.member.id) }
        }
        guard byRelease.count > 1 else { return [] }
        let described = byRelease.sorted { $0.key < $1.key }.map {
            "\($0.key) on server\($0.value.count == 1 ? "" : "s") \($0.value.map(String.init).joined(separator: ", "))"
        }
        return [
            "releases: MIXED: " + described.joined(separator: "; ")
                + " (an upgrade in progress or halted: finish it with rolling-upgrade, or put the node back)"
        ]
    }

    /// Each server's certificate as its handshake showed it: expiry date, days left, serial.
    static func certificateLines(_ view: EnsembleView, now: Date = Date()) -> [String] {
        let shown = view.members.compactMap { status in status.facts.certificate.map { (status, $0) } }
        guard !shown.isEmpty else { return [] }
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withFullDate]
        return ["certificates (as each server showed it over TLS):"]
            + shown.map { status, certificate in
                let days = certificate.daysLeft(at: now)
                let when = certificate.notAfter.map { "valid until \(format.string(from: $0))" } ?? "no expiry read"
                let left =
                    days.map { $0 < 0 ? " (EXPIRED \(-$0) day(s) ago)" : " (\($0) day(s) left\($0 < 7 ? ": renew now" : $0 < 30 ? ": renew soon" : ""))" } ?? ""
                return "  server \(status.member.id) (\(status.member.endpoint)): \(when)\(left), serial \(certificate.serial ?? "?")"
            }
    }
}

enum SandboxCommand {
    /// This binary as the sandbox's agent, restarting a node with its own `sandbox restart`.
    static var agent: SandboxAgent {
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "zkrunbook"
        let path = running.hasSuffix("/zkrunbook") ? running : "zkrunbook"
        return SandboxAgent(path: path) { directory in AgentRequest.sandbox(.restart, directory: directory, node: "${node.id}").argv(agent: path) }
    }
    static let usage = "Usage: zkrunbook sandbox (up|down|status|stop|start|restart|renew-certs) [options]"
    static let help = """
        \(usage)

        A throwaway ZooKeeper ensemble of real servers on loopback, started from the installed jars
        (Debian's zookeeper package, or an Apache tarball in ZK_HOME), for tests, CI dry runs and the
        quick start. Node i listens on BASE+i (clients), BASE+100+i (quorum), BASE+200+i (election)
        and BASE+300+i (AdminServer), BASE+400+i with --tls: two sandboxes run side by side with bases
        at least 500 apart (--base-port auto picks a free base and says it).
        'up' writes DIR/ensemble.json5 for 'zkrunbook status --ensemble' and the rolling restart.

          sandbox up [--nodes 3] [--observers 0] [--dir DIR] [--base-port 22000|auto]
                     [--four-letter-words all|default] [--zookeeper VERSION|DIR] [--timeout 90s]
                     [--reconfig] [--spares N] [--tls [--tls-plaintext-port] [--no-quorum-tls] [--admin-https]]
                     [--versions V1,V2] [--sasl digest]
          sandbox down [--dir DIR]
          sandbox status [--dir DIR] [--json]
          sandbox stop|start|restart --node N [--dir DIR] [--wait] [--timeout 60s]
          sandbox renew-certs [--dir DIR] [--serial-base N] [--days N]

        Options:
          --dir DIR                  the sandbox folder (default ./zk-sandbox)
          --base-port BASE|auto      where the ports start (default 22000); auto: the first base from
                                     20000 in steps of 500 where every port is free, said when chosen
          --four-letter-words MODE   all: 4lw.commands.whitelist=*; default: ZooKeeper's default (srvr only)
          --zookeeper VERSION|DIR    another ZooKeeper than Debian's: a folder of its jars, or a version
                                     whose jars are in $ZKRUNBOOK_ZOOKEEPER_JARS/VERSION (default
                                     ~/.cache/zkrunbook/zookeeper-jars; packaging/fetch-zookeeper-jars.sh
                                     fills it: 3.4.14, 3.6.3, 3.9.3)
          --versions V1,V2           lay these ZooKeeper releases out side by side (DIR/opt/zookeeper-V/lib) beside
                                     the one --zookeeper names (or Debian's); each node runs the release its
                                     link DIR/nodeN/zookeeper points at, and the ensemble file gets an install
                                     block: what rolling-upgrade switches
          --reconfig                 dynamic reconfiguration (3.5+): reconfigEnabled=true, skipACL=yes, the
                                     server list in each node's zoo.cfg.dynamic
          --spares N                 also prepare nodes N+1… (folder, zoo.cfg, myid), not members and not
                                     started: servers for add-server (node-config and start work on them)
          --tls                      secured: a throwaway CA and certificates in DIR/tls (openssl, and keytool
                                     for the PKCS#12 truststore), each node's secureClientPort at BASE+400+i
                                     wanting a client certificate (ssl.clientAuth=need), no plaintext client
                                     port, quorum TLS (sslQuorum=true); the ensemble file gets a tls block
                                     with a client certificate. Needs Debian's libnetty-java (the Netty
                                     connection factory; 3.8 and 3.9 run on its 4.1.48)
          --tls-plaintext-port       with --tls: keep the plaintext client port too
          --no-quorum-tls            with --tls: the servers talk plaintext among themselves (the stores are
                                     set, so enable-quorum-tls can turn it on)
          --admin-https              with --tls: the AdminServer answers HTTPS too (admin.portUnification)
          --tls-files-only           with --tls: the CA, certificates and stores made and named in each zoo.cfg
                                     (ssl.*, ssl.quorum.*), nothing secured yet: the plaintext ensemble
                                     enable-client-tls and enable-quorum-tls start from; DIR/ensemble-tls.json5
                                     is the ensemble file for after enable-client-tls
          --sasl digest              authenticated (3.7+): every client session must authenticate with SASL
                                     DIGEST-MD5 (enforce.auth.enabled=true, enforce.auth.schemes=sasl); the
                                     users zkrunbook and witness, random passwords in DIR/sasl/USER.password
                                     (0600), listed in DIR/sasl/jaas.conf's Server section; with --reconfig,
                                     zkrunbook is the super user (superUser=zkrunbook) instead of skipACL
          --wait                     start/restart: wait until the node serves again
          --serial-base N            renew-certs: new certificates (same CA) numbered from N (default 2000);
                                     the keystores are replaced, the servers not restarted (rotate-certs does);
                                     --days: how long they are valid (default 365)
          -h, --help                 show this help

        Exit codes: 0 done, 1 a node failed to start or stop (its log tail is printed), 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments,
            valueOptions: [
                "--nodes", "--observers", "--dir", "--base-port", "--four-letter-words", "--timeout", "--node", "--zookeeper", "--spares", "--serial-base",
                "--days", "--versions", "--sasl",
            ],
            flagOptions: ["--json", "--wait", "--reconfig", "--tls", "--tls-plaintext-port", "--no-quorum-tls", "--admin-https", "--tls-files-only"],
            usage: usage)
        if parsed.flags.contains("--help") || parsed.positionals.isEmpty {
            print(help)
            return parsed.flags.contains("--help") ? CLI.ExitCode.success : CLI.ExitCode.usage
        }
        let directory = parsed.value("--dir") ?? "./zk-sandbox"
        func integer(_ name: String, default value: Int) throws -> Int {
            guard let text = parsed.value(name) else { return value }
            guard let number = Int(text) else { throw UsageError(message: "\(name) takes a whole number, found '\(text)'", usage: usage) }
            return number
        }
        func seconds(default value: Double) throws -> Double {
            guard let text = parsed.value("--timeout") else { return value }
            guard let duration = RunbookDuration.parse(text) else {
                throw UsageError(message: "--timeout: expected \(RunbookDuration.expectation), found '\(text)'", usage: usage)
            }
            return duration.seconds
        }
        do {
            switch parsed.positionals[0] {
            case "up":
                let mode = parsed.value("--four-letter-words") ?? "all"
                guard mode == "all" || mode == "default" else {
                    throw UsageError(message: "--four-letter-words is 'all' or 'default', found '\(mode)'", usage: usage)
                }
                let tlsFlags = ["--tls-plaintext-port", "--no-quorum-tls", "--admin-https", "--tls-files-only"].filter(parsed.flags.contains)
                if !parsed.flags.contains("--tls"), let flag = tlsFlags.first { throw UsageError(message: "\(flag) goes with --tls", usage: usage) }
                var spec = SandboxSpec(
                    nodes: try integer("--nodes", default: 3), observers: try integer("--observers", default: 0),
                    basePort: parsed.value("--base-port") == "auto" ? 0 : try integer("--base-port", default: 22000), allFourLetterWords: mode == "all",
                    zookeeperJars: parsed.value("--zookeeper").map(Sandbox.jarFolder), spares: try integer("--spares", default: 0),
                    reconfig: parsed.flags.contains("--reconfig"))
                if let versions = parsed.value("--versions") {
                    let list = versions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    guard !list.isEmpty, list.allSatisfy({ ZooKeeperVersion($0)?.description == $0 }) else {
                        throw UsageError(message: "--versions takes release numbers separated by commas (3.8.0,3.9.3), found '\(versions)'", usage: usage)
                    }
                    guard !parsed.flags.contains("--tls") else { throw UsageError(message: "--versions does not go with --tls", usage: usage) }
                    spec.versions = list
                }
                if let sasl = parsed.value("--sasl") {
                    guard sasl == "digest" else { throw UsageError(message: "--sasl takes 'digest' (DIGEST-MD5 users), found '\(sasl)'", usage: usage) }
                    spec.sasl = sasl
                }
                if parsed.flags.contains("--tls") {
                    let filesOnly = parsed.flags.contains("--tls-files-only")
                    spec.tls = SandboxTLS(
                        plaintextClientPort: filesOnly || parsed.flags.contains("--tls-plaintext-port"),
                        quorum: !filesOnly && !parsed.flags.contains("--no-quorum-tls"), adminHTTPS: !filesOnly && parsed.flags.contains("--admin-https"),
                        secureClientPort: !filesOnly)
                }
                if parsed.value("--base-port") == "auto" {
                    guard let base = Sandbox.freeBase(for: spec) else {
                        throw CommandFailure(
                            message: "error: --base-port auto: no base from 20000 to 32268 (steps of \(SandboxSpec.layoutWidth)) has every port free",
                            exitCode: CLI.ExitCode.stepFailed)
                    }
                    spec.basePort = base
                    print(
                        "base port \(base) (--base-port auto: every port the sandbox needs was free): clients on \(base + 1) to \(base + spec.nodes + spec.spareCount)"
                    )
                }
                if spec.voters % 2 == 0 {
                    print(
                        "warning: \(spec.voters) voters: a majority is \(spec.voters / 2 + 1), so the ensemble survives \(spec.voters / 2 - 1) failure(s), as \(spec.voters - 1) voters would; an odd number of voters is the usual choice"
                    )
                }
                let started = Date()
                let sandbox = try Sandbox.up(spec, directory: directory, agent: Self.agent, timeout: try seconds(default: 90)) { print($0) }
                // New servers on ports that were free: a lease left on those ports (a conductor killed while it
                // held an earlier sandbox there) concerns servers that are gone.
                let leases = NodeLeaseStore.standard()
                for id in 1...(spec.nodes + spec.spareCount) {
                    if let stale = try? leases.release(NodeLeaseStore.key(clientPort: String(spec.reachPort(id))), runID: nil) {
                        print("broke the lease of gone servers on port \(spec.reachPort(id)): \(stale.holderDescription)")
                    }
                }
                print(String(format: "sandbox up in %.1fs: %@", Date().timeIntervalSince(started), sandbox.directory))
                print(EnsembleTable.render(sandbox.inspector.inspect(sandbox.members)))
                print("ensemble file: \(sandbox.directory)/\(Sandbox.ensembleFile)")
                return CLI.ExitCode.success
            case "down":
                let sandbox = try Sandbox.open(directory: directory)
                let stuck = sandbox.down()
                if !stuck.isEmpty {
                    CLI.printError("error: nodes \(stuck.map(String.init).joined(separator: ", ")) would not stop")
                    return .stepFailed
                }
                print("sandbox down: \(sandbox.directory) (folder kept; remove it to start afresh)")
                return CLI.ExitCode.success
            case "status":
                let sandbox = try Sandbox.open(directory: directory)
                let view = sandbox.inspector.inspect(sandbox.members)
                try EnsembleTable.print(view, json: parsed.flags.contains("--json"))
                return view.verdict == .healthy ? .success : .stepFailed
            case "renew-certs":
                let sandbox = try Sandbox.open(directory: directory)
                guard sandbox.spec.tls != nil else { throw UsageError(message: "\(directory) is not a secured sandbox (sandbox up --tls)", usage: usage) }
                let base = try integer("--serial-base", default: 2000)
                let days = try integer("--days", default: 365)
                guard days >= 1 else { throw UsageError(message: "--days takes a number of days, 1 or more", usage: usage) }
                try sandbox.certificates.renew(servers: Array(sandbox.spec.allNodes), days: days, serialBase: base)
                print(
                    "renewed the certificates of nodes \(sandbox.spec.allNodes.map(String.init).joined(separator: ", ")) (serials from \(base + 1)); not restarted"
                )
                return CLI.ExitCode.success
            case "stop", "start", "restart":
                let sandbox = try Sandbox.open(directory: directory)
                guard let node = parsed.value("--node").flatMap(Int.init) else {
                    throw UsageError(message: "\(parsed.positionals[0]) needs --node N", usage: usage)
                }
                let action = parsed.positionals[0]
                if action != "start" {
                    guard sandbox.stop(node: node) else {
                        CLI.printError("error: node \(node) would not stop")
                        return .stepFailed
                    }
                    print("node \(node) stopped")
                }
                if action != "stop" {
                    try sandbox.start(node: node)
                    if parsed.flags.contains("--wait") { try sandbox.waitUntilServing(node: node, timeout: try seconds(default: 60)) }
                    print("node \(node) started" + (parsed.flags.contains("--wait") ? " and serving" : ""))
                }
                return CLI.ExitCode.success
            default:
                throw UsageError(message: "unknown sandbox command '\(parsed.positionals[0])'", usage: usage)
            }
        } catch let error as SandboxError {
            CLI.printError("error: \(error.description)")
            return error.description.hasPrefix("--") ? CLI.ExitCode.usage : .stepFailed
        }
    }
}
