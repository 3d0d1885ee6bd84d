import Foundation

/// Starts a long-lived process (a ZooKeeper server) that outlives zkrunbook, with its output in a log file.
///
/// The child gets its own process group (so a Ctrl-C meant for zkrunbook does not reach it), an empty
/// signal mask, /dev/null on stdin, and its log opened for appending; zkrunbook never waits for it.
public enum DetachedProcess {
    public struct SpawnError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func spawn(
        argv: [String], workingDirectory: String, environment: [String: String] = [:], logPath: String
    ) throws(SpawnError) -> Int32 {
        guard let first = argv.first else { throw SpawnError(description: "empty argv") }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let executable: String
        switch ExecutableLocator.locate(first, path: env["PATH"]) {
        case .success(let path): executable = path
        case .failure(let why): throw SpawnError(description: why.message)
        }
        if !FileManager.default.fileExists(atPath: logPath) {
            FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o644])
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw SpawnError(description: "cannot open \(logPath) for writing")
        }
        defer { try? log.close() }
        _ = try? log.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try SignalMask.withEmptyMask { try process.run() }
        } catch {
            throw SpawnError(description: "\(executable): \(error.localizedDescription)")
        }
        return process.processIdentifier
    }

    /// True while `pid` is a live process (not a zombie) whose command line contains `marker`.
    public static func isRunning(_ pid: Int32, commandLineContains marker: String) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        if state == "Z" || state == "X" { return false }
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: cmdline, as: UTF8.self).replacingOccurrences(of: "\0", with: " ").contains(marker)
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; returns once the process is gone (or `grace` + 5 s passed).
    @discardableResult
    public static func stop(_ pid: Int32, commandLineContains marker: String, grace: Double = 10) -> Bool {
        guard isRunning(pid, commandLineContains: marker) else { return true }
        kill(pid, SIGTERM)
        let termDeadline = Date().addingTimeInterval(grace)
        while Date() < termDeadline {
            if !isRunning(pid, commandLineContains: marker) { return true }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        let killDeadline = Date().addingTimeInterval(5)
        while Date() < killDeadline {
            if !isRunning(pid, commandLineContains: marker) { return true }
            usleep(20_000)
        }
        return false
    }
}
