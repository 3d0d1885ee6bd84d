import Foundation
import ZKRunbookAgent
import ZKRunbookDiagnostics
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookRolling
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// `zkrunbook doctor`: names the incident from logs and live facts, with the evidence lines.
enum DoctorCommand {
    static let usage =
        "Usage: zkrunbook doctor [--logs PATH]... [--ensemble FILE | --zoo-cfg FILE | --server HOST:PORT...] [--json] [--html FILE] [--state-dir DIR]"
    static let help = """
        \(usage)

        Scans ZooKeeper logs (files, folders, .gz) for known signatures — leader elections and their
        duration, zxid rollover, not serving, connections closed while not ready, ConnectionLoss, slow
        fsync, too many connections, session expiry bursts, quorum channel errors, "Not sufficient
        followers synced" — and, given servers, judges the live ensemble (no quorum and why, with the
        two-data-centre case spelled out) and estimates when the zxid counter rolls over (from samples
        kept in the state directory across runs). With --zoo-cfg, on a node, it also judges the node's
        disks: free space against the newest snapshot (the next one must fit), a full disk within 24
        hours at the growth seen since earlier runs (samples in the state directory), autopurge off, and
        the count of snapshots and logs. Each finding comes with its evidence and the runbook to run next.

        The timeline: every server's events on one time axis — elections and how long each kept the
        server from serving, leader and epoch changes, process starts told apart from counter resets,
        bursts of lost connections, slow fsyncs, expired sessions, refused connections, JVM pauses —
        beside zkrunbook's own runs read from the journals in the state directory: an election during
        a rolling restart is labelled planned and not judged as an incident. It is a table in the
        report, and with --html one self-contained page (inline SVG, nothing fetched) with a lane per
        server, each mark linked to its finding's evidence lines, and each server's zxid counter
        against its 2^32 limit with the rollover ETA.

        Options:
          --logs PATH          a log file or folder (repeatable); one that holds no log is an error
          --ensemble FILE      the live ensemble to judge (or --zoo-cfg FILE, or --server HOST:PORT...);
                               with --ensemble, each node's logFile is read too (through ssh for a
                               remote node: its last 64 MiB) and scanned apart, its findings named by server
          --json               report.json instead of report.md
          --html FILE          also write the report as one HTML page with the timeline (report.html)
          --state-dir DIR      where zxid and disk samples are kept between runs (as for run)
          --log-timezone ZONE  the zone the servers wrote their log times in (an IANA name: Europe/Berlin;
                               default: for a collect bundle's logs, the zone collect found the server
                               writing in (its manifest.json), else this machine's); a stamp that names
                               its zone (Docker's, kubectl's --timestamps: ...Z) is read in it whatever
                               this says
        \(ServerTargets.tlsHelp)
          -h, --help           show this help

        Exit codes: 0 nothing worse than information, 1 a warning or critical finding, 2 usage error.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments,
            valueOptions: ServerTargets.tlsValueOptions.union(["--logs", "--ensemble", "--zoo-cfg", "--server", "--state-dir", "--html", "--log-timezone"]),
            flagOptions: ServerTargets.tlsFlagOptions.union(["--json"]), usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        let logs = parsed.values["--logs"] ?? []
        for path in logs where DoctorReport.expand([path]).isEmpty {
            let exists = FileManager.default.fileExists(atPath: path)
            throw CommandFailure(
                message: "error: --logs \(path): " + (exists ? "the folder holds no ZooKeeper log (*.log*, *.out)" : "no such file or folder"),
                exitCode: CLI.ExitCode.usage)
        }
        // The zone the logs' times were written in (a stamp that names its own, as Docker's, is read in it).
        var zoneSource: String?
        if let zone = parsed.value("--log-timezone") {
            guard Self.isTimezone(zone) else {
                throw UsageError(message: "--log-timezone: '\(zone)' is no time zone (an IANA name such as Europe/Berlin, or UTC)", usage: usage)
            }
            setenv("TZ", zone, 1)
            tzset()
        } else if let recorded = logs.lazy.compactMap({ ServerTimezone.recorded(near: $0) }).first, Self.isTimezone(recorded.zone) {
            // A bundle's logs: read in the zone collect found the server writing in.
            setenv("TZ", recorded.zone, 1)
            tzset()
            zoneSource = recorded.source
        }
        var view: EnsembleView?
        if ["--ensemble", "--zoo-cfg", "--server"].contains(where: { parsed.values[$0] != nil }) {
            let targets = try ServerTargets.resolve(parsed, usage: usage)
            var inspected = EnsembleInspector(probe: ServerProbe(connector: targets.connector)).inspect(targets.members)
            // Every member's uptime (mntr), not only the leader's: it tells a restart from a counter reset.
            let probe = ServerProbe(connector: targets.connector)
            for index in inspected.members.indices where inspected.members[index].facts.mode.isServing && inspected.members[index].facts.uptimeMs == nil {
                probe.addMonitor(to: &inspected.members[index].facts, adminPort: inspected.members[index].member.adminPort)
            }
            view = inspected
        }
        if logs.isEmpty && view == nil { throw UsageError(message: "give --logs, or servers to judge", usage: usage) }
        if logs.isEmpty && parsed.value("--ensemble") == nil {
            CLI.printError("note: no logs scanned (give --logs PATH, or --ensemble with each node's logFile)")
        }
        let history = ZxidHistory(stateDirectory: StateLayout.standard(explicit: parsed.value("--state-dir")).root)
        var fetched = Workspace()
        defer { fetched.remove() }
        var nodeLogs: [(node: String, path: String)] = []
        var unread: [String] = []
        if let path = parsed.value("--ensemble"), let file = try? EnsembleFile.load(path: path) {
            for member in file.nodes {
                guard let logFile = member.logFile else { continue }
                let label = DoctorReport.lane(id: member.id, host: member.host)
                switch NodeLogFetcher.fetch(member, logFile: logFile, into: &fetched) {
                case .success(let local): nodeLogs.append((label, local))
                case .failure(let why): unread.append("\(label): cannot read \(logFile): \(why.message)")
                }
            }
        }
        let stateDirectory = StateLayout.standard(explicit: parsed.value("--state-dir")).root
        var report = DoctorReport.build(
            logs: logs, nodeLogs: nodeLogs, view: view, history: history, planned: PlannedWork.read(stateDirectory: stateDirectory))
        // On a node (--zoo-cfg): its disks, judged against the snapshot size, their growth and autopurge.
        if let zooCfg = parsed.value("--zoo-cfg") {
            do {
                let measured = try DiskJudgement.measure(zooCfg: zooCfg)
                let disks = DiskHistory(stateDirectory: StateLayout.standard(explicit: parsed.value("--state-dir")).root)
                let now = Date().timeIntervalSince1970
                report.findings += DiskJudgement().findings(measured, at: now, earlier: disks.load())
                disks.append(DiskJudgement.Sample(time: now, zookeeperBytes: measured.zookeeperBytes))
            } catch {
                report.findings.append(
                    Finding(
                        id: "disk-unread", severity: .warning, title: "The node's disks could not be judged", detail: error.description, count: 1, evidence: [],
                        nextRunbook: nil))
            }
            report.sortFindings()
        }
        if !unread.isEmpty {
            report.findings.append(
                Finding(
                    id: "logs-unread", severity: .warning, title: "Some servers' logs could not be read", detail: "their findings are missing from this report",
                    count: unread.count, evidence: unread, nextRunbook: nil))
        }
        report.logTimezone = Self.zoneName()
        report.logTimezoneSource = zoneSource
        report.nextArguments = Self.nextArguments(for: Set(report.findings.compactMap(\.nextRunbook)), parsed)
        if let html = parsed.value("--html") {
            do { try Data(TimelinePage.render(report).utf8).write(to: URL(fileURLWithPath: html), options: .atomic) } catch {
                throw CommandFailure(message: "error: --html \(html): cannot write: \(error.localizedDescription)", exitCode: CLI.ExitCode.usage)
            }
            CLI.printError("wrote \(html): \(report.timeline.count) event(s) on the timeline, \(report.findings.count) finding(s)")
        }
        print(parsed.flags.contains("--json") ? report.json : report.markdown)
        return report.findings.contains { $0.severity != .info } ? .stepFailed : .success
    }
}

extension DoctorCommand {
    /// An IANA zone this machine knows (its zoneinfo file), or UTC/GMT.
    static func isTimezone(_ zone: String) -> Bool {
        ["UTC", "GMT"].contains(zone)
            || (!zone.contains("..") && !zone.hasPrefix("/") && FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/" + zone))
    }

    /// The zone log times are read in: TZ (as --log-timezone sets it), else the machine's.
    static func zoneName() -> String {
        if let zone = getenv("TZ").map({ String(cString: $0) }), !zone.isEmpty {
            return zone
        }
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime")).map { $0.components(separatedBy: "zoneinfo/").last ?? $0 }
            ?? TimeZone.current.identifier
    }

    /// Each "Next:" runbook's arguments for the servers doctor was given: `--ensemble FILE` (or `--param
    /// ensemble=…` with a zoo.cfg or servers) where the runbook takes an ensemble, and a placeholder for any other
    /// parameter it requires; a runbook not found gets none.
    static func nextArguments(for runbooks: Set<String>, _ parsed: ParsedArguments) -> [String: String] {
        let target: [String]? =
            parsed.value("--ensemble").map { ["--ensemble", $0] }
            ?? parsed.value("--zoo-cfg").map { ["--param", "ensemble=" + $0] }
            ?? (parsed.values["--server"].map { ["--param", "ensemble=" + $0.joined(separator: ",")] })
        let loader = RunbookLoader(registry: CLI.registry)
        var arguments: [String: String] = [:]
        for name in runbooks {
            guard let path = try? RunbookLocator.standard().locate(name), let runbook = try? loader.load(path: path) else { continue }
            var words: [String] = []
            if let ensemble = runbook.parameters.first(where: { $0.name == "ensemble" }) {
                if let target { words += target } else if ensemble.required { words += ["--ensemble", "<ENSEMBLE-FILE>"] }
            }
            for parameter in runbook.parameters where parameter.required && parameter.name != "ensemble" {
                words += ["--param", "\(parameter.name)=<\(parameter.name.uppercased())>"]
            }
            if !words.isEmpty { arguments[name] = ShellQuoting.join(words) }
        }
        return arguments
    }
}

/// A node's log as a local path: the file itself on this machine, else its last 64 MiB over the node's
/// transport, into a scratch folder removed when doctor ends.
enum NodeLogFetcher {
    static let remoteBytes = 64 << 20

    static func fetch(_ member: EnsembleNode, logFile: String, into scratch: inout Workspace) -> Result<String, InputProblem> {
        if member.access.isLocal {
            return FileManager.default.isReadableFile(atPath: logFile) ? .success(logFile) : .failure(InputProblem("no such readable file"))
        }
        let result = member.access.runner(host: member.host).run(
            CommandSpec(argv: ["tail", "-c", String(remoteBytes), logFile], timeout: 60, outputCap: remoteBytes + 1), cancellation: nil)
        guard result.exitStatus == 0 else {
            return .failure(InputProblem("\(result.termination.summary) \(result.stderr.lastLines(1).joined())"))
        }
        let path = scratch.path(for: "server-\(member.id).log")
        guard FileManager.default.createFile(atPath: path, contents: result.stdout.head + result.stdout.tail, attributes: [.posixPermissions: 0o600]) else {
            return .failure(InputProblem("cannot write \(path)"))
        }
        return .success(path)
    }
}

/// A scratch folder under the temporary directory, made on first use.
struct Workspace {
    private var folder: String?

    mutating func path(for name: String) -> String {
        if folder == nil {
            let made = NSTemporaryDirectory() + "zkrunbook-doctor-\(getpid())"
            try? FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            folder = made
        }
        return folder! + "/" + name
    }

    func remove() {
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }
}
