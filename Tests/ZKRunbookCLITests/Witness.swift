import Foundation
import ZKRunbookTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// An independent ZooKeeper client — Debian's python3-kazoo, Tests/support/kazoo-witness.py — writing
/// sequential znodes every 20 ms for as long as a test runs, then reading every acknowledged one back.
final class KazooWitness {
    struct Verdict {
        var acked: Int
        var lost: [String]
        var longestGapMs: Int
        var failedAttempts: Int
    }

    let process: Process
    let stopFile: String
    let outputFile: String

    static let python = "/usr/bin/python3"

    /// `name` names its files in the workspace: a test with several witnesses, one per phase, gives each its own.
    static func start(_ ensemble: SandboxEnsemble, in workspace: Scratch, name: String = "witness") throws -> KazooWitness {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw HarnessError(message: "no \(python): apt-get install -y python3 python3-kazoo (the witness client)")
        }
        let hosts = (1...ensemble.nodes).map { "127.0.0.1:\(ensemble.clientPort($0))" }.joined(separator: ",")
        let stop = workspace.file("\(name).stop")
        let ready = workspace.file("\(name).ready")
        let output = workspace.file("\(name).out")
        let log = workspace.file("\(name).log")
        FileManager.default.createFile(atPath: output, contents: nil)
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        // A sandbox reached over TLS: kazoo over TLS with the sandbox's client certificate.
        let files = ensemble.sandbox.certificates
        let tls = ensemble.sandbox.serverTLS == nil ? [] : [files.caFile, files.clientCertificate, files.clientKey]
        process.arguments = [repositoryRoot + "/Tests/support/kazoo-witness.py", hosts, stop, ready] + tls
        // An authenticated sandbox: kazoo speaks SASL DIGEST-MD5 as the sandbox's witness user.
        if ensemble.sandbox.spec.sasl != nil {
            process.environment = ProcessInfo.processInfo.environment.merging(
                ["KAZOO_WITNESS_SASL_USER": "witness", "KAZOO_WITNESS_SASL_PASSWORD_FILE": ensemble.sandbox.saslPasswordFile("witness")]) { $1 }
        }
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let witness = KazooWitness(process: process, exited: exited, stopFile: stop, outputFile: output, logFile: log)
        do {
            try poll("the kazoo witness's first acknowledged write", timeout: 60) {
                FileManager.default.fileExists(atPath: ready) || witness.hasExited
            }
        } catch {
            process.terminate()
            throw error
        }
        if !FileManager.default.fileExists(atPath: ready) {
            throw HarnessError(message: "the kazoo witness stopped: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return witness
    }

    private let exited: DispatchSemaphore
    private let logFile: String
    private var exitSeen = false

    private init(process: Process, exited: DispatchSemaphore, stopFile: String, outputFile: String, logFile: String) {
        self.process = process
        self.exited = exited
        self.stopFile = stopFile
        self.outputFile = outputFile
        self.logFile = logFile
    }

    /// Whether it ended, from its termination handler (Foundation's isRunning can lag behind).
    var hasExited: Bool {
        if !exitSeen && exited.wait(timeout: .now()) == .success { exitSeen = true }
        return exitSeen
    }

    /// Stops the writes, waits for the read-back (its verdict line is the marker), and says what was lost.
    func finish() throws -> Verdict {
        FileManager.default.createFile(atPath: stopFile, contents: nil)
        func verdictObject() -> [String: Any]? {
            let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        do {
            try poll("the kazoo witness to read its writes back", timeout: 120) { verdictObject() != nil || hasExited }
        } catch {
            process.terminate()
            let tail = ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").split(separator: "\n").suffix(20).joined(separator: "\n")
            throw HarnessError(message: "\(error); its log:\n\(tail)")
        }
        guard let object = verdictObject(), let acked = object["acked"] as? Int else {
            throw HarnessError(message: "the kazoo witness gave no verdict: \((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "")")
        }
        if process.isRunning { process.terminate() }
        return Verdict(
            acked: acked, lost: object["lost"] as? [String] ?? ["?"], longestGapMs: object["longestGapMs"] as? Int ?? -1,
            failedAttempts: object["failedAttempts"] as? Int ?? -1)
    }
}

/// Counts, from the kernel's tables of listening sockets (/proc/net/tcp and tcp6: the JVM listens on a
/// dual-stack socket even for 127.0.0.1), how many of an ensemble's
/// client ports are down at the same moment: the servers' own state, not what zkrunbook reported.
final class DownCounter: @unchecked Sendable {
    private let ports: [Int]
    private let lock = NSLock()
    private var running = true
    private var maximum = 0
    private var samples = 0
    private var sawDown = 0
    private let done = DispatchSemaphore(value: 0)

    init(ports: [Int]) {
        self.ports = ports
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            // The kernel's table is read in pages while it changes (busy machines open and close many
            // connections), so one read can miss a listener: a port is down only when it is missing
            // from several reads in a row, which any real stop (hundreds of milliseconds) is.
            var misses = [Int](repeating: 0, count: self.ports.count)
            while lock.withLock({ running }) {
                let listening = Self.listeningPorts()
                for (index, port) in self.ports.enumerated() { misses[index] = listening.contains(port) ? 0 : misses[index] + 1 }
                let down = misses.filter { $0 >= Self.missesForDown }.count
                lock.withLock {
                    maximum = max(maximum, down)
                    samples += 1
                    if down > 0 { sawDown += 1 }
                }
                usleep(2_000)
            }
        }
    }

    /// The most client ports down at once, and how many samples were taken (and saw one down).
    func stop() -> (maxDown: Int, samples: Int, samplesWithADownNode: Int) {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { (maximum, samples, sawDown) }
    }

    static let missesForDown = 5

    /// A /proc file read to its end: it reports size 0, and Foundation's contentsOfFile stops after the
    /// first page (4 KiB), which holds only the first ~25 sockets of a busy machine.
    static func readWhole(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func listeningPorts() -> Set<Int> {
        let text = ["/proc/net/tcp", "/proc/net/tcp6"].map(readWhole).joined(separator: "\n")
        var ports = Set<Int>()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            // sl local_address rem_address st …; st 0A is LISTEN.
            guard fields.count > 3, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16)
            else { continue }
            ports.insert(port)
        }
        return ports
    }
}
