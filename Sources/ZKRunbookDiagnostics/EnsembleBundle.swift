import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `collect --ensemble`: every node's bundle made by its own agent (in parallel, bounded), brought back over
/// the node's transport, checked against its .sha256, and combined into one archive with a folder per server
/// (`<ensemble>-<time>/server-<id>-<host>/…`), an ensemble manifest and doctor's report over every server's
/// logs with one timeline. A node that cannot be reached or fails is a manifest line, not a failure of the whole.
public struct EnsembleCollector: Sendable {
    public struct Options: Sendable {
        public var outputDirectory: String
        public var since: String = "24h"
        /// Bytes of logs per node.
        public var maxLogBytes: Int64 = 64 << 20
        /// Nodes collected at once (1 to 16).
        public var parallel: Int = 3
        /// The limit for one node's bundle, its download included.
        public var timeout: Double = 600
        /// zkrunbook's state directory here: its journals put the runs on the timeline.
        public var stateDirectory: String?

        public init(outputDirectory: String) { self.outputDirectory = outputDirectory }
    }

    /// What happened to one server's bundle.
    public struct Server: Codable, Sendable, Equatable {
        public enum Status: String, Codable, Sendable { case collected, unreachable, failed }
        public var id: Int
        public var host: String
        public var status: Status
        /// The folder inside the archive (collected servers only).
        public var folder: String?
        /// The node's own archive, its size and SHA-256 as checked against the node's .sha256.
        public var bundle: String?
        public var bytes: Int64?
        public var sha256: String?
        public var seconds: Double
        public var reason: String?
    }

    public struct Manifest: Codable, Sendable {
        public var ensemble: String
        public var createdAt: String
        public var servers: [Server]
    }

    public struct Result: Sendable {
        public var archivePath: String
        public var manifest: Manifest
        public var report: DoctorReport
    }

    public var file: EnsembleFile
    public var options: Options

    public init(file: EnsembleFile, options: Options) { (self.file, self.options) = (file, options) }

    public func collect(progress: @escaping @Sendable (String) -> Void = { _ in }) throws(BundleError) -> Result {
        let started = Date()
        let name = "\(file.name)-\(StateLayout.compactTimestamp(started))"
        let staging = options.outputDirectory + "/." + name + ".partial"
        let archive = options.outputDirectory + "/" + name + ".tar.gz"
        let manager = FileManager.default
        do { try manager.createDirectory(atPath: staging + "/" + name, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw BundleError("cannot create \(staging): \(error.localizedDescription)")
        }
        defer { try? manager.removeItem(atPath: staging) }

        let results = ServerResults(count: file.members.count)
        let gate = DispatchSemaphore(value: min(max(options.parallel, 1), 16))
        let group = DispatchGroup()
        for (index, member) in file.nodes.enumerated() {
            gate.wait()
            group.enter()
            Thread.detachNewThread { [self] in
                defer {
                    gate.signal()
                    group.leave()
                }
                progress("server \(member.id) (\(member.host)): collecting")
                let server = collect(member, into: staging + "/" + name)
                progress("server \(member.id) (\(member.host)): \(server.status.rawValue)" + (server.reason.map { ": " + $0 } ?? ""))
                results.set(index, server)
            }
        }
        group.wait()
        let servers = results.all

        let collected = servers.filter { $0.status == .collected }
        let nodeLogs = collected.map { (node: DoctorReport.lane(id: $0.id, host: $0.host), path: staging + "/" + name + "/" + $0.folder! + "/logs") }
        let view = EnsembleInspector().inspect(file.members)
        var report = DoctorReport.build(
            logs: [], nodeLogs: nodeLogs, view: view, history: nil, planned: options.stateDirectory.map { PlannedWork.read(stateDirectory: $0) } ?? [])
        let missing = servers.filter { $0.status != .collected }
        if !missing.isEmpty {
            report.findings.append(
                Finding(
                    id: "servers-not-collected", severity: .warning, title: "Some servers' bundles are missing",
                    detail: "their logs and facts are not in this archive; manifest.json says why", count: missing.count,
                    evidence: missing.map { "server \($0.id) (\($0.host)): \($0.status.rawValue): \($0.reason ?? "")" }, nextRunbook: nil))
            report.sortFindings()
        }
        let manifest = Manifest(ensemble: file.name, createdAt: Event.timestamp(started), servers: servers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let top = staging + "/" + name + "/"
        do {
            try (try encoder.encode(manifest)).write(to: URL(fileURLWithPath: top + "manifest.json"))
            try Data(report.markdown.utf8).write(to: URL(fileURLWithPath: top + "report.md"))
            try Data(report.json.utf8).write(to: URL(fileURLWithPath: top + "report.json"))
            try Data(TimelinePage.render(report, title: "zkrunbook: ensemble \(file.name)").utf8).write(to: URL(fileURLWithPath: top + "report.html"))
        } catch {
            throw BundleError("cannot write the ensemble's manifest and report in \(top): \(error.localizedDescription)")
        }
        // Written under a hidden name, renamed when whole.
        let partial = options.outputDirectory + "/." + name + ".tar.gz.partial"
        let tar = LocalCommandRunner().run(
            CommandSpec(argv: ["tar", "-czf", partial, "-C", staging, name], timeout: 3600, outputCap: 1 << 16), cancellation: nil)
        guard tar.exitStatus == 0 else {
            unlink(partial)
            throw BundleError("tar -czf \(partial) failed: \(tar.termination.summary) \(tar.stderr.lastLines(3).joined(separator: " "))")
        }
        guard rename(partial, archive) == 0 else {
            unlink(partial)
            throw BundleError("cannot rename \(partial) to \(archive): \(String(cString: strerror(errno)))")
        }
        return Result(archivePath: archive, manifest: manifest, report: report)
    }

    /// One node: a scratch folder there, its agent's `collect --json`, the archive fetched and checked, the
    /// scratch folder removed, the archive unpacked into `server-<id>-<host>/`.
    func collect(_ member: EnsembleNode, into folder: String) -> Server {
        let started = Date()
        var server = Server(id: member.id, host: member.host, status: .failed, seconds: 0)
        func finish(_ status: Server.Status, _ reason: String? = nil) -> Server {
            server.status = status
            server.reason = reason
            server.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
            return server
        }
        let runner = member.access.runner(host: member.host)
        let deadline = started.addingTimeInterval(options.timeout)
        func remaining() -> Double { max(1, deadline.timeIntervalSinceNow) }
        let made = runner.run(CommandSpec(argv: ["mktemp", "-d", "/tmp/zkrunbook-collect-XXXXXX"], timeout: min(60, remaining())), cancellation: nil)
        guard made.exitStatus == 0, let scratch = made.stdout.text.split(separator: "\n").first.map(String.init), scratch.hasPrefix("/tmp/zkrunbook-collect-")
        else {
            if case .transportFailed(_, let message) = made.termination { return finish(.unreachable, message) }
            return finish(.failed, "cannot make a scratch folder on the node: \(made.termination.summary) \(made.stderr.lastLines(2).joined(separator: " "))")
        }
        defer { _ = runner.run(CommandSpec(argv: ["rm", "-rf", scratch], timeout: 60), cancellation: nil) }
        let agent = member.nodeAgent(environment: file.agentEnvironment)
        var request = CollectRequest(
            zooCfg: member.zooCfg ?? "/etc/zookeeper/conf/zoo.cfg", output: scratch, since: options.since, maxLogBytes: Int64(options.maxLogBytes),
            stateDir: scratch + "/state", logDir: member.logFile.map { ($0 as NSString).deletingLastPathComponent })
        request.tls = file.tls
        var spec = agent.spec(.collect(request), timeout: remaining(), outputCap: 8 << 20)
        spec.terminationGrace = 10
        let bundle = runner.run(spec, cancellation: nil)
        let facts = bundle.stdout.text.split(separator: "\n").compactMap { line -> [String: FactValue]? in
            (try? JSONDecoder().decode(Event.self, from: Data(line.utf8)))?.facts
        }
        guard bundle.exitStatus == 0,
            let remoteArchive = facts.compactMap({ fact -> String? in if case .string(let path) = fact["archive"] { return path } else { return nil } }).last
        else {
            if case .transportFailed(_, let message) = bundle.termination { return finish(.unreachable, message) }
            let why = bundle.termination == .commandNotFound ? "the agent \(agent.path) is not installed on the node" : bundle.termination.summary
            return finish(.failed, "the node's collect failed: \(why) \(bundle.stderr.lastLines(2).joined(separator: " "))")
        }
        let local = folder + "/." + (remoteArchive as NSString).lastPathComponent
        defer { unlink(local) }
        var fetch = CommandSpec(argv: ["cat", remoteArchive], timeout: remaining())
        fetch.standardOutputFile = local
        let fetched = runner.run(fetch, cancellation: nil)
        let expected = runner.run(CommandSpec(argv: ["cat", remoteArchive + ".sha256"], timeout: min(60, remaining())), cancellation: nil)
        guard fetched.exitStatus == 0, expected.exitStatus == 0 else {
            return finish(
                .failed, "bringing \(remoteArchive) back failed: \(fetched.termination.summary) \(fetched.stderr.lastLines(2).joined(separator: " "))")
        }
        let digest = (try? SHA256.hex(fileAt: local)) ?? ""
        guard expected.stdout.text.hasPrefix(digest + " ") else {
            return finish(.failed, "\(remoteArchive) came back with SHA-256 \(digest), the node's .sha256 says \(expected.stdout.text.prefix(64))")
        }
        let serverFolder = "server-\(member.id)-\(member.host)"
        try? FileManager.default.createDirectory(atPath: folder + "/" + serverFolder, withIntermediateDirectories: true)
        let unpacked = LocalCommandRunner().run(
            CommandSpec(argv: ["tar", "-xzf", local, "-C", folder + "/" + serverFolder, "--strip-components=1"], timeout: remaining()), cancellation: nil)
        guard unpacked.exitStatus == 0 else {
            return finish(.failed, "cannot unpack the node's bundle: \(unpacked.stderr.lastLines(2).joined(separator: " "))")
        }
        server.folder = serverFolder
        server.bundle = (remoteArchive as NSString).lastPathComponent
        server.bytes = FileInfo.stat(local)?.size
        server.sha256 = digest
        return finish(.collected)
    }
}

/// The servers' results, written by the threads that collect them.
private final class ServerResults: @unchecked Sendable {
    private let lock = NSLock()
    private var servers: [EnsembleCollector.Server?]

    init(count: Int) { servers = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ server: EnsembleCollector.Server) {
        lock.lock()
        servers[index] = server
        lock.unlock()
    }

    var all: [EnsembleCollector.Server] {
        lock.lock()
        defer { lock.unlock() }
        return servers.compactMap { $0 }
    }
}
