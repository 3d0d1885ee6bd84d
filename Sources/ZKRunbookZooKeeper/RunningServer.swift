import Foundation
import ZKRunbookProcess

/// The ZooKeeper server that runs on this machine behind a client port, and the zoo.cfg it was started with.
///
/// Why: an ensemble file may name no zoo.cfg, or the wrong one (Debian's default while the server was
/// started with its own). The running server's command line says which file it read: the kernel's table
/// gives the socket listening on the port, /proc/PID/fd the process holding it, /proc/PID/cmdline the
/// argument after ZooKeeper's main class (made absolute against the process's working folder).
public struct RunningServer: Sendable, Codable, Equatable {
    public var pid: Int32
    /// `QuorumPeerMain` or `ZooKeeperServerMain`.
    public var mainClass: String
    /// The config file as the process was given it, made absolute; nil when no argument follows the class.
    public var configPath: String?

    public init(pid: Int32, mainClass: String, configPath: String?) { (self.pid, self.mainClass, self.configPath) = (pid, mainClass, configPath) }

    static let mainClasses = ["org.apache.zookeeper.server.quorum.QuorumPeerMain", "org.apache.zookeeper.server.ZooKeeperServerMain"]

    /// Why the running server could not be found, said as seen.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The server listening on `clientPort` here.
    public static func find(clientPort: Int, proc: String = "/proc") -> Result<RunningServer, Problem> {
        let tcp = ProcFile.text(proc + "/net/tcp") ?? ""
        let tcp6 = ProcFile.text(proc + "/net/tcp6") ?? ""
        let inodes = Set(ListeningAddress.sockets(port: clientPort, tcp: tcp, tcp6: tcp6).map(\.inode).filter { $0 != 0 })
        guard !inodes.isEmpty else { return .failure(Problem(description: "nothing listens on port \(clientPort) here")) }
        guard let pid = owner(of: inodes, proc: proc) else {
            return .failure(
                Problem(
                    description:
                        "a socket listens on port \(clientPort), but no process visible to this user (uid \(getuid())) holds it: run the agent as root or as the server's user"
                ))
        }
        guard let data = ProcFile.data("\(proc)/\(pid)/cmdline") else {
            return .failure(Problem(description: "process \(pid) listens on port \(clientPort), but its command line cannot be read"))
        }
        let arguments = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(proc)/\(pid)/cwd")
        guard let found = parse(commandLine: arguments, workingFolder: cwd) else {
            let program = arguments.first.map { ($0 as NSString).lastPathComponent } ?? "?"
            return .failure(
                Problem(
                    description:
                        "process \(pid) (\(program)) listens on port \(clientPort), but it is not a ZooKeeper server (no \(mainClasses[0]) on its command line)"
                ))
        }
        return .success(RunningServer(pid: pid, mainClass: found.mainClass, configPath: found.configPath))
    }

    /// The main class and the config argument after it, made absolute against `workingFolder` (pure).
    static func parse(commandLine arguments: [String], workingFolder: String?) -> (mainClass: String, configPath: String?)? {
        guard let index = arguments.firstIndex(where: { mainClasses.contains($0) }) else { return nil }
        var config = arguments.dropFirst(index + 1).first { !$0.isEmpty }
        // ZooKeeperServerMain also takes `port dataDir`: a number there is not a config file.
        if let value = config, Int(value) != nil { config = nil }
        if let value = config, !value.hasPrefix("/"), let workingFolder {
            config = URL(fileURLWithPath: workingFolder).appendingPathComponent(value).standardizedFileURL.path
        }
        return (arguments[index], config)
    }

    /// The process holding one of `inodes` open, from its /proc/PID/fd links.
    static func owner(of inodes: Set<UInt64>, proc: String) -> Int32? {
        let wanted = Set(inodes.map { "socket:[\($0)]" })
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: proc) else { return nil }
        for entry in entries {
            guard let pid = Int32(entry), let fds = try? FileManager.default.contentsOfDirectory(atPath: "\(proc)/\(entry)/fd") else { continue }
            for fd in fds {
                var buffer = [CChar](repeating: 0, count: 64)
                let length = readlink("\(proc)/\(entry)/fd/\(fd)", &buffer, buffer.count - 1)
                guard length > 0 else { continue }
                if wanted.contains(String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)) { return pid }
            }
        }
        return nil
    }
}
