import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built `zkrunbook` binary as an operator would: a separate process, real signals. Any other
/// program too (`ZKRunbookBinary(path: "/bin/tar")`): its exit is read with waitid, where Foundation's
/// waitUntilExit hangs while another child of the test (an sshd) still runs.
public struct ZKRunbookBinary: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The binary beside the test bundle (swift build puts both in the same folder).
    public static func locate() throws -> ZKRunbookBinary {
        if let explicit = ProcessInfo.processInfo.environment["ZKRUNBOOK_BIN"] { return ZKRunbookBinary(path: explicit) }
        let testExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (testExecutable as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            let candidate = directory + "/zkrunbook"
            if FileManager.default.isExecutableFile(atPath: candidate) { return ZKRunbookBinary(path: candidate) }
            directory = (directory as NSString).deletingLastPathComponent
        }
        throw HarnessError(message: "the zkrunbook binary is not built next to the tests: run 'swift build' before 'swift test' (or set ZKRUNBOOK_BIN)")
    }

    /// A command given no --state-dir keeps its state here, never in the machine's /var/lib/zkrunbook:
    /// what earlier runs and other suites left there (zxid samples of another sandbox on the same port)
    /// must not change a test's verdict. A test that judges history gives its own --state-dir.
    /// Removed when the test process exits.
    static let testStateDirectory: String = {
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "zkr-state-\(getpid())") }
        return NSTemporaryDirectory() + "zkr-state-\(getpid())"
    }()

    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs to completion (at most `timeout` seconds) and returns exit status and output. The events a
    /// `run`, `plan` or `resume --json` prints are checked against packaging/schemas/event.schema.json.
    public func run(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:], timeout: Double = 60) throws -> Result {
        let running = try start(arguments, directory: directory, environment: environment)
        let result = try running.wait(timeout: timeout)
        if result.status == 0 { SandboxBases.shared.release(afterDown: arguments) }
        if ["run", "plan", "resume"].contains(arguments.first ?? ""), arguments.contains("--json") {
            let problems = try JSONSchema.published("event").problems(lines: result.stdout)
            if !problems.isEmpty { Issue.record("events not as event.schema.json says: \(problems.prefix(10).joined(separator: "; "))") }
        }
        return result
    }

    /// `holdStandardInput`: its stdin a pipe this process keeps open (an agent started with
    /// `--stop-when-stdin-closes`, as a conductor would start it) instead of /dev/null.
    public func start(
        _ arguments: [String], directory: String? = nil, environment: [String: String] = [:], holdStandardInput: Bool = false
    ) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if merged["ZKRUNBOOK_STATE_DIR"] == nil { merged["ZKRUNBOOK_STATE_DIR"] = Self.testStateDirectory }
        process.environment = merged
        let scratch = NSTemporaryDirectory() + "zkr-out-\(UInt32.random(in: 0...UInt32.max))"
        _ = FileManager.default.createFile(atPath: scratch + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch + ".err", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: scratch + ".out")
        process.standardError = FileHandle(forWritingAtPath: scratch + ".err")
        let input = holdStandardInput ? Pipe() : nil
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()
        let running = Running(process: process, outputBase: scratch)
        running.input = input
        return running
    }

    public final class Running {
        public let process: Process
        public let outputBase: String
        /// Held open for its life when started with `holdStandardInput`.
        var input: Pipe?

        public init(process: Process, outputBase: String) {
            self.process = process
            self.outputBase = outputBase
        }

        public var pid: Int32 { process.processIdentifier }

        /// What it has printed so far (to watch for a marker while it runs).
        public var outputSoFar: String { (try? String(contentsOfFile: outputBase + ".out", encoding: .utf8)) ?? "" }

        public func signal(_ signo: Int32) { kill(process.processIdentifier, signo) }

        /// The exit status, read with waitid(WNOWAIT) rather than Foundation's isRunning, which stays true
        /// while any descendant (a ZooKeeper server the command started) still holds what it watches.
        private func exitStatus() -> Int32? {
            var info = siginfo_t()
            let pid = process.processIdentifier
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 {
                guard info._sifields._kill.si_pid == pid else { return nil }
                let status = info._sifields._sigchld.si_status
                return info.si_code == Int32(CLD_EXITED) ? status : 128 + status
            }
            return process.isRunning ? nil : process.terminationStatus
        }

        public func wait(timeout: Double) throws -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            var status = exitStatus()
            while status == nil && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
                status = exitStatus()
            }
            guard let status else {
                process.terminate()
                throw HarnessError(message: "zkrunbook \(process.arguments?.joined(separator: " ") ?? "") did not finish within \(timeout)s")
            }
            let out = (try? String(contentsOfFile: outputBase + ".out", encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: outputBase + ".err", encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: outputBase + ".out")
            try? FileManager.default.removeItem(atPath: outputBase + ".err")
            return Result(status: status, stdout: out, stderr: err)
        }
    }
}
