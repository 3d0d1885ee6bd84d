import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `zkrunbook` binary as an operator would: a separate process, real signals.
struct ZKRunbookBinary {
    let path: String

    /// The binary beside the test bundle (swift build puts both in the same folder).
    static func locate() throws -> ZKRunbookBinary {
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

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs to completion (at most `timeout` seconds) and returns exit status and output.
    func run(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:], timeout: Double = 60) throws -> Result {
        let running = try start(arguments, directory: directory, environment: environment)
        return try running.wait(timeout: timeout)
    }

    func start(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let scratch = NSTemporaryDirectory() + "zkr-out-\(UInt32.random(in: 0...UInt32.max))"
        FileManager.default.createFile(atPath: scratch + ".out", contents: nil)
        FileManager.default.createFile(atPath: scratch + ".err", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: scratch + ".out")
        process.standardError = FileHandle(forWritingAtPath: scratch + ".err")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, outputBase: scratch)
    }

    final class Running {
        let process: Process
        let outputBase: String

        init(process: Process, outputBase: String) {
            self.process = process
            self.outputBase = outputBase
        }

        var pid: Int32 { process.processIdentifier }

        /// What it has printed so far (to watch for a marker while it runs).
        var outputSoFar: String { (try? String(contentsOfFile: outputBase + ".out", encoding: .utf8)) ?? "" }

        func signal(_ signo: Int32) { kill(process.processIdentifier, signo) }

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

        func wait(timeout: Double) throws -> Result {
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

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Polls `condition` every 20 ms up to `timeout` seconds: waiting for a ready marker, never a fixed sleep.
func waitFor(_ what: String, timeout: Double = 20, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { throw HarnessError(message: "timed out after \(timeout)s waiting for \(what)") }
        Thread.sleep(forTimeInterval: 0.02)
    }
}

/// Pids of live processes whose command line starts with `name`.
func processesNamed(_ name: String) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry in
        guard let pid = Int32(entry), let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
            String(decoding: cmdline, as: UTF8.self).hasPrefix(name)
        else { return nil }
        return pid
    }
}

/// A temporary folder for one test.
final class Workspace: @unchecked Sendable {
    let path: String

    init(_ label: String) {
        path = NSTemporaryDirectory() + "zkr-cli-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        FileManager.default.createFile(atPath: file(name), contents: Data(text.utf8))
        return file(name)
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: file(name), encoding: .utf8)) ?? "" }

    /// The run ids in this workspace's state directory.
    var runIDs: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: file("state/runs"))) ?? []).sorted() }
}

/// The repository root, found from this source file's path.
let repositoryRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = (path as NSString).deletingLastPathComponent }
    return path
}()

/// The JSON objects of `--json` output (JSON Lines); a line that is not a JSON object is skipped.
func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}
