import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// What to collect, and the limits that keep collecting safe on a struggling node.
public struct BundleOptions: Sendable {
    public var zooCfg: String
    public var server: Endpoint?
    public var adminPort: Int?
    public var logDirectories: [String]
    /// Logs last modified longer ago than this are left out.
    public var since: RunbookDuration
    public var outputDirectory: String
    /// Bytes of logs kept in all; the newest logs first, a log larger than what is left keeps its tail.
    public var maxLogBytes: Int64
    /// Every command and every network exchange gives up after this.
    public var commandTimeout: Double
    /// How the server is connected to (TLS on a secure client port).
    public var connector: any ServerConnector = PlaintextConnector()

    public init(
        zooCfg: String, server: Endpoint? = nil, adminPort: Int? = nil, logDirectories: [String], since: RunbookDuration,
        outputDirectory: String, maxLogBytes: Int64 = 256 << 20, commandTimeout: Double = 10
    ) {
        (self.zooCfg, self.server, self.adminPort, self.logDirectories) = (zooCfg, server, adminPort, logDirectories)
        (self.since, self.outputDirectory, self.maxLogBytes, self.commandTimeout) = (since, outputDirectory, maxLogBytes, commandTimeout)
    }
}

/// One line of manifest.json.
public struct ManifestItem: Codable, Sendable {
    /// What became of an item; encoded as its word in manifest.json.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case ok, refused, failed, unreadable, cut, excluded, unavailable
        case timedOut = "timed-out"
    }

    public var path: String
    public var source: String
    public var size: Int64
    public var sha256: String?
    public var status: Status
    public var exitStatus: Int?
    public var note: String?
}

public struct BundleResult: Sendable {
    public var archivePath: String
    public var checksumPath: String
    /// The archive's own sha256 (what the .sha256 file beside it says).
    public var sha256: String = ""
    public var items: [ManifestItem]
    public var seconds: Double
}

/// Collects a diagnostics bundle for one ZooKeeper node into a single .tar.gz.
///
/// Every item has its own limit and its own manifest line: a command that hangs is `timed-out`, a file
/// that cannot be read is `unreadable`, and the bundle still completes. Secrets are masked before any
/// byte is written (see `ConfigRedactor`), and the archive is created 0600.
public struct BundleCollector: Sendable {
    public var options: BundleOptions
    public var runner: any CommandRunner

    public init(options: BundleOptions, runner: any CommandRunner = LocalCommandRunner()) {
        self.options = options
        self.runner = runner
    }

    /// A planned item: what it is, and how to add it.
    struct Plan {
        var name: String
        var work: (inout Context) -> Void
    }

    /// State shared by the items while the archive is written.
    struct Context {
        var writer: TarGzWriter
        var report: RedactionReport
        var items: [ManifestItem] = []
        var scrubber: SecretScrubber
        var root: String
        /// doctor's scanner, fed the (masked) logs as they are copied: one read serves both.
        var scanner = LogScanner()
        var scanSeconds = 0.0

        /// Adds text that has been redacted by its own rules, then masked for every known secret.
        mutating func addText(_ name: String, _ text: String, source: String, status: ManifestItem.Status = .ok, exitStatus: Int? = nil, note: String? = nil) {
            var bytes = Array(text.utf8)
            scrubber.scrub(&bytes)
            let data = Data(bytes)
            writer.add(name: root + "/" + name, data: data)
            items.append(
                ManifestItem(
                    path: name, source: source, size: Int64(data.count), sha256: SHA256.hex(data), status: status, exitStatus: exitStatus,
                    note: note))
        }

        mutating func record(_ name: String, source: String, status: ManifestItem.Status, note: String) {
            items.append(ManifestItem(path: name, source: source, size: 0, sha256: nil, status: status, exitStatus: nil, note: note))
        }
    }

    /// `<host>-myid<N>-<time>`: whose bundle it is, in its name (`myidunknown` when myid cannot be read);
    /// a second bundle in the same second gets `-2`.
    static func archiveName(zooCfg: String, in directory: String, date: Date = Date()) -> String {
        let host = HostName.short
        let dataDir = (try? ZooConfig.load(path: zooCfg, readMyid: false, dynamicMayBeMissing: true))?.dataDir
        let myid = dataDir.flatMap { try? String(contentsOfFile: $0 + "/myid", encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
        let base = "\(host)-myid\(myid.flatMap { Int($0) }.map(String.init) ?? "unknown")-\(StateLayout.compactTimestamp(date))"
        var name = base
        var number = 2
        while FileManager.default.fileExists(atPath: directory + "/" + name + ".tar.gz")
            || FileManager.default.fileExists(atPath: directory + "/." + name + ".tar.gz.partial")
        {
            name = base + "-\(number)"
            number += 1
        }
        return name
    }

    /// Writes the archive under a temporary name and renames it into place only when it is whole: a
    /// failure (a full disk, say) leaves no truncated archive under the final name.
    public func collect(progress: (Int, Int, String) -> Void = { _, _, _ in }) throws -> BundleResult {
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        let stamp = Self.archiveName(zooCfg: options.zooCfg, in: options.outputDirectory)
        let archive = options.outputDirectory + "/" + stamp + ".tar.gz"
        let partial = options.outputDirectory + "/." + stamp + ".tar.gz.partial"
        let checksumPath = archive + ".sha256"
        do {
            var result = try collect(stamp: stamp, into: partial, progress: progress)
            try "\(result.sha256)  \((archive as NSString).lastPathComponent)\n".write(toFile: checksumPath, atomically: true, encoding: .utf8)
            guard rename(partial, archive) == 0 else { throw BundleError("cannot rename \(partial) to \(archive): \(String(cString: strerror(errno)))") }
            result.archivePath = archive
            result.checksumPath = checksumPath
            return result
        } catch {
            unlink(partial)
            unlink(checksumPath)
            let text = "\(error)"
            if text.contains("No space left") || (error as NSError).code == NSFileWriteOutOfSpaceError {
                throw BundleError(
                    "\(options.outputDirectory) is full (No space left on device): the bundle was not written (its partial archive was removed); free space there or give --output another folder"
                )
            }
            throw error
        }
    }

    /// The archive at `archive` (the temporary name); the caller writes its checksum and names it.
    private func collect(stamp: String, into archive: String, progress: (Int, Int, String) -> Void) throws -> BundleResult {
        let started = Date()
        let root = stamp
        let report = RedactionReport()
        let config = try? ZooConfig.load(path: options.zooCfg)
        let configDirectory = (options.zooCfg as NSString).deletingLastPathComponent

        // Redact the configuration first: the secrets it holds are then masked in everything else.
        var configTexts: [(String, String, String, ManifestItem.Status)] = []  // name, text, source, status
        var configRecords: [(String, String, ManifestItem.Status, String)] = []  // name, source, status, note
        for path in configFiles(configDirectory: configDirectory, config: config) {
            let name = "config/" + (path as NSString).lastPathComponent
            if ConfigRedactor.isKeyMaterial(path) {
                configRecords.append((name, path, .excluded, "key material: left out"))
                report.record(path, "the whole file (key material)", value: nil)
                continue
            }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                configRecords.append((name, path, .unreadable, "cannot read \(path)"))
                continue
            }
            let lower = path.lowercased()
            let redacted: String
            if lower.contains("jaas") {
                redacted = ConfigRedactor.redactJAAS(text, source: path, report: report)
            } else if lower.hasSuffix(".sh") || lower.hasSuffix("java.env") || lower.hasSuffix("environment") {
                redacted = ConfigRedactor.redactEnvironment(text, source: path, report: report)
            } else if lower.hasSuffix(".xml") {
                redacted = ConfigRedactor.redactJAAS(text, source: path, report: report)
            } else {
                redacted = ConfigRedactor.redactProperties(text, source: path, report: report)
            }
            configTexts.append((name, redacted, path, .ok))
        }
        let process = ZooKeeperProcess.find(config: options.zooCfg)
        var processText: String?
        if let process {
            processText = ConfigRedactor.redactCommandLine(process.commandLine, source: "/proc/\(process.pid)/cmdline", report: report)
            _ = ConfigRedactor.redactEnvironment(process.environment, source: "/proc/\(process.pid)/environ", report: report)
        }

        let writer = try TarGzWriter(path: archive)
        var context = Context(writer: writer, report: report, scrubber: SecretScrubber(secrets: report.secrets), root: root)
        var plans: [Plan] = []
        for (name, text, source, _) in configTexts {
            plans.append(Plan(name: name) { $0.addText(name, text, source: source) })
        }
        for (name, source, status, note) in configRecords {
            plans.append(Plan(name: name) { $0.record(name, source: source, status: status, note: note) })
        }
        if let myid = config?.dataDir.map({ $0 + "/myid" }), let text = try? String(contentsOfFile: myid, encoding: .utf8) {
            plans.append(Plan(name: "config/myid") { $0.addText("config/myid", text, source: myid) })
        }
        plans += fourLetterWordPlans(config: config)
        plans += adminPlans(config: config)
        plans += dataPlans(config: config)
        plans += systemPlans(process: process, processText: processText, report: report)
        plans += logPlans(config: config)
        let endpointForDoctor = endpoint
        let connector = options.connector
        plans.append(
            Plan(name: "report.md") { context in
                // doctor over the logs just copied and the live server, inside the bundle.
                let view = endpointForDoctor.map {
                    EnsembleInspector(probe: ServerProbe(limits: SocketLimits(connectTimeout: 2, readTimeout: 2), connector: connector)).inspect([
                        EnsembleMember(id: 1, host: $0.host, clientPort: $0.port)
                    ])
                }
                let report = DoctorReport.build(scanner: context.scanner, seconds: context.scanSeconds, view: view, history: nil)
                context.addText("report.md", report.markdown, source: "zkrunbook doctor")
                context.addText("report.json", report.json, source: "zkrunbook doctor")
            })
        for (index, plan) in plans.enumerated() {
            progress(index + 1, plans.count, plan.name)
            plan.work(&context)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        context.addText("REDACTION.md", report.markdown, source: "zkrunbook")
        // The zone the server writes its log times in, so doctor reads this bundle's logs in it wherever it runs.
        let zone = ServerTimezone.detect(zooCfg: options.zooCfg)
        let manifest = [
            "bundle": root, "createdAt": Event.timestamp(started), "zooCfg": options.zooCfg,
            "since": options.since.description, "maxLogBytes": String(options.maxLogBytes),
            "serverTimezone": zone.zone, "serverTimezoneSource": zone.source,
        ]
        struct Manifest: Codable {
            var about: [String: String]
            var items: [ManifestItem]
        }
        let manifestData = (try? encoder.encode(Manifest(about: manifest, items: context.items))) ?? Data()
        var manifestBytes = Array(manifestData)
        context.scrubber.scrub(&manifestBytes)
        writer.add(name: root + "/manifest.json", data: Data(manifestBytes))
        let digest = try writer.finish()
        return BundleResult(archivePath: archive, checksumPath: "", sha256: digest, items: context.items, seconds: Date().timeIntervalSince(started))
    }

    // MARK: Items

    func configFiles(configDirectory: String, config: ZooConfig?) -> [String] {
        var paths = [options.zooCfg]
        if let dynamic = config?.dynamicConfigFile {
            paths.append(dynamic.hasPrefix("/") ? dynamic : configDirectory + "/" + dynamic)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: configDirectory)) ?? []
        for name in names.sorted() {
            let lower = name.lowercased()
            let wanted =
                lower == "java.env" || lower == "zookeeper-env.sh" || lower == "environment" || lower.hasPrefix("log4j")
                || lower.hasPrefix("logback") || lower.contains("jaas") || ConfigRedactor.isKeyMaterial(name)
            if wanted { paths.append(configDirectory + "/" + name) }
        }
        if let config {
            for (key, value) in config.properties where key.lowercased().hasSuffix("passwordpath") || key.lowercased().hasSuffix(".location") {
                // Files named by *.passwordPath and keystore locations: recorded as excluded, never read.
                paths.append(value)
            }
        }
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    var endpoint: Endpoint? {
        if let server = options.server { return server }
        guard let config = try? ZooConfig.load(path: options.zooCfg, readMyid: false), config.clientPort ?? config.secureClientPort != nil else { return nil }
        // Where the server on this node listens, as the kernel says (its bound address; loopback for a wildcard).
        return Endpoint(host: ListeningAddress.resolve(port: config.probePort).host, port: config.probePort)
    }

    func fourLetterWordPlans(config: ZooConfig?) -> [Plan] {
        guard let endpoint else { return [] }
        let client = FourLetterWordClient(
            limits: SocketLimits(connectTimeout: options.commandTimeout, readTimeout: options.commandTimeout), connector: options.connector)
        return FourLetterWord.allCases.map { word in
            Plan(name: "4lw/\(word.rawValue).txt") { context in
                let name = "4lw/\(word.rawValue).txt"
                switch client.send(word, to: endpoint) {
                case .success(let text): context.addText(name, text, source: "\(endpoint) \(word.rawValue)")
                case .failure(let error):
                    let status: ManifestItem.Status
                    switch error {
                    case .notWhitelisted: status = .refused
                    case .readTimedOut, .connectTimedOut: status = .timedOut
                    default: status = .failed
                    }
                    context.record(name, source: "\(endpoint) \(word.rawValue)", status: status, note: error.description)
                }
            }
        }
    }

    func adminPlans(config: ZooConfig?) -> [Plan] {
        guard let endpoint, let port = options.adminPort ?? config?.adminPort else { return [] }
        let admin = AdminServerClient(
            limits: SocketLimits(connectTimeout: options.commandTimeout, readTimeout: options.commandTimeout), connector: options.connector)
        let target = Endpoint(host: endpoint.host, port: port)
        return ["srvr", "mntr", "conf", "envi", "cons", "wchs", "dirs", "isro"].map { command in
            Plan(name: "admin/\(command).json") { context in
                let name = "admin/\(command).json"
                switch admin.command(command, at: target) {
                case .success(let json):
                    let data = (try? JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])) ?? Data()
                    context.addText(name, String(decoding: data, as: UTF8.self), source: "http://\(target)/commands/\(command)")
                case .failure(let error):
                    context.record(
                        name, source: "http://\(target)/commands/\(command)", status: error.isUnreachable ? .unavailable : .failed, note: error.description)
                }
            }
        }
    }

    func dataPlans(config: ZooConfig?) -> [Plan] {
        guard let config, let dataDir = config.dataDir else { return [] }
        var directories = [dataDir, dataDir + "/version-2"]
        if let logDir = config.dataLogDir, logDir != dataDir { directories += [logDir, logDir + "/version-2"] }
        var plans = [
            Plan(name: "data/listing.txt") { context in
                var lines = ["# name, bytes, modified (UTC): snapshots (snapshot.<zxid>) and transaction logs (log.<zxid>)"]
                for directory in directories {
                    lines.append("\n\(directory):")
                    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                        lines.append("  (cannot list)")
                        continue
                    }
                    for name in names.sorted() {
                        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
                        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
                        let modified = (attributes?[.modificationDate] as? Date).map(Event.timestamp) ?? "?"
                        lines.append("  \(name)  \(size)  \(modified)")
                    }
                }
                context.addText("data/listing.txt", lines.joined(separator: "\n") + "\n", source: directories.joined(separator: ", "))
            }
        ]
        for file in ["currentEpoch", "acceptedEpoch"] {
            let path = dataDir + "/version-2/" + file
            plans.append(
                Plan(name: "data/\(file)") { context in
                    if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                        context.addText("data/\(file)", text, source: path)
                    } else {
                        context.record("data/\(file)", source: path, status: .unavailable, note: "no \(path)")
                    }
                })
        }
        return plans
    }

    func systemPlans(process: ZooKeeperProcess?, processText: String?, report: RedactionReport) -> [Plan] {
        var commands: [(String, [String])] = [
            ("system/df.txt", ["df", "-h"]), ("system/free.txt", ["free", "-m"]), ("system/ulimit-n.txt", ["/bin/sh", "-c", "ulimit -n"]),
            ("system/uptime.txt", ["uptime"]), ("system/java-version.txt", ["java", "-version"]),
        ]
        if FileManager.default.fileExists(atPath: "/run/systemd/system") {
            commands.append(("system/journal.txt", ["journalctl", "--no-pager", "-u", "zookeeper", "--since", "-\(Int(options.since.seconds))s"]))
        }
        let runner = self.runner
        let timeout = options.commandTimeout
        var plans = commands.map { name, argv in
            Plan(name: name) { context in
                CommandItem.add(name: name, argv: argv, runner: runner, timeout: timeout, context: &context)
            }
        }
        if !FileManager.default.fileExists(atPath: "/run/systemd/system") {
            plans.append(
                Plan(name: "system/journal.txt") {
                    $0.record("system/journal.txt", source: "journalctl", status: .unavailable, note: "no systemd journal on this machine")
                })
        }
        plans.append(
            Plan(name: "system/process.txt") { context in
                guard let process, let processText else {
                    context.record("system/process.txt", source: "/proc", status: .unavailable, note: "no running ZooKeeper server found for \(options.zooCfg)")
                    return
                }
                let environment = ConfigRedactor.redactEnvironment(process.environment, source: "/proc/\(process.pid)/environ", report: RedactionReport())
                let text = "pid: \(process.pid)\nopen file descriptors: \(process.openFiles)\ncommand line: \(processText)\n\nenvironment:\n\(environment)\n"
                context.addText("system/process.txt", text, source: "/proc/\(process.pid)")
            })
        return plans
    }

    func logPlans(config: ZooConfig?) -> [Plan] {
        let cutoff = Date().addingTimeInterval(-options.since.seconds)
        var candidates: [(path: String, size: Int64, modified: Date)] = []
        for directory in options.logDirectories {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names where name.contains(".log") || name.hasSuffix(".out") || name.contains("zookeeper") {
                let path = directory + "/" + name
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                    (attributes[.type] as? FileAttributeType) == .typeRegular,
                    let modified = attributes[.modificationDate] as? Date, modified >= cutoff
                else { continue }
                candidates.append((path, (attributes[.size] as? NSNumber)?.int64Value ?? 0, modified))
            }
        }
        candidates.sort { $0.modified > $1.modified }
        var budget = options.maxLogBytes
        var usedNames = Set<String>()
        return candidates.map { candidate in
            var name = "logs/" + (candidate.path as NSString).lastPathComponent
            if candidate.path.hasSuffix(".gz") { name = String(name.dropLast(3)) }
            while usedNames.contains(name) { name += "_" }
            usedNames.insert(name)
            let path = candidate.path
            return Plan(name: name) { context in
                guard budget > 0 else {
                    context.record(name, source: path, status: .cut, note: "left out: the log budget of \(options.maxLogBytes) bytes was spent on newer logs")
                    return
                }
                let added = LogCopier.add(path: path, name: name, budget: budget, context: &context)
                budget -= added
            }
        }
    }
}

/// A command's output as an item, with its own timeout and its ending as the item's status.
enum CommandItem {
    static func add(name: String, argv: [String], runner: any CommandRunner, timeout: Double, context: inout BundleCollector.Context) {
        let outcome = describe(runner.run(CommandSpec(argv: argv, timeout: timeout, outputCap: 4 << 20), cancellation: nil))
        context.addText(name, outcome.text, source: ShellQuoting.join(argv), status: outcome.status, exitStatus: outcome.exit, note: outcome.note)
    }

    /// The item's text, status, exit status and note for a finished command.
    static func describe(_ result: CommandResult) -> (text: String, status: ManifestItem.Status, exit: Int?, note: String?) {
        let out = result.stdout.text
        let err = result.stderr.text
        let termination = result.termination
        let text = err.isEmpty ? out : out + "\n[stderr]\n" + err
        let status = Self.status(termination)
        var exit: Int?
        if case .exited(let code) = termination { exit = Int(code) }
        return (text, status, exit, status == .ok ? nil : termination.summary)
    }

    static func status(_ termination: Termination) -> ManifestItem.Status {
        switch termination {
        case .exited(0): return .ok
        case .timedOut: return .timedOut
        case .spawnFailed: return .unavailable
        default: return .failed
        }
    }
}

/// Streams one log into the archive: the tail when it is larger than the budget, masked chunk by chunk.
enum LogCopier {
    static func add(path: String, name: String, budget: Int64, context: inout BundleCollector.Context) -> Int64 {
        var source = path
        var temporary: String?
        if path.hasSuffix(".gz") {
            // Compressed rotated logs are decompressed (to a private temporary file) so they are masked too.
            let scratch = NSTemporaryDirectory() + "zkrunbook-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
            let fd = open(scratch, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                context.record(name, source: path, status: .unreadable, note: "cannot create a temporary file to decompress into")
                return 0
            }
            let gunzip = Process()
            gunzip.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/bin/gzip") ? "/bin/gzip" : "/usr/bin/gzip")
            gunzip.arguments = ["-dc", path]
            gunzip.standardOutput = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            gunzip.standardError = FileHandle.nullDevice
            do {
                try gunzip.run()
                gunzip.waitUntilExit()
            } catch {}
            guard gunzip.terminationStatus == 0 else {
                unlink(scratch)
                context.record(name, source: path, status: .unreadable, note: "gzip -dc failed")
                return 0
            }
            source = scratch
            temporary = scratch
        }
        defer { if let temporary { unlink(temporary) } }
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            context.record(name, source: path, status: .unreadable, note: String(cString: strerror(errno)))
            return 0
        }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let size = Int64(info.st_size)
        let kept = min(size, budget)
        let skip = size - kept
        if skip > 0 { lseek(fd, off_t(skip), SEEK_SET) }
        let scrubber = context.scrubber
        // The item's sha256 and doctor's scan run on a thread of its own, beside this one and gzip.
        let scanWorker = ScanWorker(scanner: context.scanner, name: path)
        context.writer.add(name: context.root + "/" + name, size: kept, mtime: Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec))) { emit in
            var produced: Int64 = 0
            var carry: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while produced + Int64(carry.count) < kept {
                let want = Int(min(Int64(chunk.count), kept - produced - Int64(carry.count)))
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
                if count <= 0 { break }
                var window = carry + chunk[0..<count]
                scrubber.scrub(&window)
                // Hold back the last few bytes: a secret may straddle this chunk and the next.
                let hold = (produced + Int64(window.count) >= kept) ? 0 : min(scrubber.overlap, window.count)
                let ready = window.count - hold
                window.withUnsafeBytes { raw in emit(UnsafeRawBufferPointer(rebasing: raw[0..<ready])) }
                scanWorker.feed(Array(window[0..<ready]))
                produced += Int64(ready)
                carry = Array(window[ready...])
            }
            if !carry.isEmpty {
                carry.withUnsafeBytes { raw in emit(raw) }
                scanWorker.feed(carry)
                produced += Int64(carry.count)
            }
            return produced
        }
        let (scanner, scanTime, digest) = scanWorker.finish()
        context.scanner = scanner
        context.scanSeconds += scanTime
        context.items.append(
            ManifestItem(
                path: name, source: path, size: kept, sha256: digest,
                status: skip > 0 ? .cut : .ok, exitStatus: nil, note: skip > 0 ? "kept the last \(kept) of \(size) bytes" : nil))
        return kept
    }
}

/// Hashes a log item and feeds doctor's `LogScanner` on a thread of its own, through a bounded queue
/// (at most 4 chunks wait): the copying thread only reads, masks and hands on.
final class ScanWorker: @unchecked Sendable {
    private var scanner: LogScanner
    private var hasher = SHA256()
    /// An empty chunk ends the stream.
    private let queue = BoundedQueue<[UInt8]>(capacity: 4)
    private let done = DispatchSemaphore(value: 0)
    private var seconds = 0.0

    init(scanner: LogScanner, name: String) {
        self.scanner = scanner
        self.scanner.begin(name)
        Thread.detachNewThread { [self] in
            while true {
                let chunk = queue.take()
                if chunk.isEmpty { break }
                chunk.withUnsafeBytes { self.hasher.update(bytes: $0) }
                let start = Date()
                self.scanner.feed(chunk[...])
                seconds += Date().timeIntervalSince(start)
            }
            self.scanner.end()
            done.signal()
        }
    }

    func feed(_ chunk: [UInt8]) {
        if !chunk.isEmpty { queue.put(chunk) }
    }

    /// Waits for the scan to catch up; returns the scanner, the time it spent scanning, and the sha256.
    func finish() -> (LogScanner, Double, String) {
        queue.put([])
        done.wait()
        return (scanner, seconds, hasher.finalizeHex())
    }
}

/// The running ZooKeeper server for a config: pid, command line, environment, open files.
struct ZooKeeperProcess {
    var pid: Int32
    var commandLine: String
    var environment: String
    var openFiles: Int

    static func find(config: String) -> ZooKeeperProcess? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry), let raw = ProcFile.data("/proc/\(entry)/cmdline") else { continue }
            let words = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard words.contains(where: { $0.hasSuffix("QuorumPeerMain") || $0.hasSuffix("ZooKeeperServerMain") }),
                words.last == config || words.contains(config)
            else { continue }
            let environ =
                ProcFile.data("/proc/\(entry)/environ").map {
                    $0.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
                } ?? ""
            let files = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd").count) ?? -1
            return ZooKeeperProcess(pid: pid, commandLine: words.map { ShellQuoting.quote($0) }.joined(separator: " "), environment: environ, openFiles: files)
        }
        return nil
    }
}
