import Foundation
import ZKRunbookProcess

/// How the conductor reaches a node over ssh.
public struct SSHSettings: Sendable, Codable, Hashable {
    public var user: String?
    public var port: Int?
    public var identityFile: String?
    /// Extra `-o` options, e.g. "UserKnownHostsFile=/etc/zkrunbook/known_hosts". Host-key checking stays on
    /// unless an option here turns it off.
    public var options: [String]

    public init(user: String? = nil, port: Int? = nil, identityFile: String? = nil, options: [String] = []) {
        (self.user, self.port, self.identityFile, self.options) = (user, port, identityFile, options)
    }
}

/// Runs commands on a remote node through the OpenSSH client (`ssh -o BatchMode=yes …`).
///
/// The command travels as one string the remote shell splits again, so every argv element is quoted
/// here: a parameter value stays one argument on the node too. An ssh failure is named — unreachable,
/// authentication, host key, dropped mid-command — never a bare exit status 255.
public struct SSHCommandRunner: CommandRunner {
    public var host: String
    public var settings: SSHSettings
    public var connectTimeout: Int
    public var ssh: String
    var local = LocalCommandRunner()

    public init(host: String, settings: SSHSettings, connectTimeout: Int = 10, ssh: String = "ssh") {
        (self.host, self.settings, self.connectTimeout, self.ssh) = (host, settings, connectTimeout, ssh)
    }

    /// The ssh argv that runs `spec` on the node.
    public func sshArgv(for spec: CommandSpec) -> [String] { connection() + [host, "--", Self.remoteCommand(for: spec)] }

    /// ssh and its options, up to the host: the same for a command and for asking the shared connection.
    func connection() -> [String] {
        var argv = [
            ssh, "-o", "BatchMode=yes", "-o", "ConnectTimeout=\(connectTimeout)", "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR",
        ]
        if let port = settings.port { argv += ["-p", String(port)] }
        if let identity = settings.identityFile { argv += ["-i", identity, "-o", "IdentitiesOnly=yes"] }
        for option in settings.options { argv += ["-o", option] }
        // One connection per node for the whole run, as Ansible does: later commands ride the first one's
        // (about 250 ms of setup each otherwise). After the ensemble's own options: ssh takes the first value
        // it is given, so `ControlMaster=no` there turns it off.
        if let folder = Self.controlFolder {
            argv += ["-o", "ControlMaster=auto", "-o", "ControlPath=\(folder)/%C", "-o", "ControlPersist=60"]
        }
        if let user = settings.user { argv += ["-l", user] }
        return argv
    }

    /// The private folder of this user's shared ssh connections (mode 0700, owned by this user), made once;
    /// nil where it cannot be made private, and then every command opens its own connection.
    static let controlFolder: String? = {
        let folder = (ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp") + "/zkrunbook-ssh-\(getuid())"
        if mkdir(folder, 0o700) != 0 && errno != EEXIST { return nil }
        var info = stat()
        // Someone else's folder, or one others may write: its sockets could be theirs.
        guard lstat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o077 == 0 else { return nil }
        // A socket path is limited to 108 bytes; %C is 40.
        return folder.utf8.count + 41 < 104 ? folder : nil
    }()

    /// `cd DIR && env K=V argv…`, every word quoted for the remote shell.
    static func remoteCommand(for spec: CommandSpec) -> String {
        var words: [String] = []
        if !spec.environment.isEmpty || !spec.unsetEnvironment.isEmpty {
            words.append("env")
            for name in spec.unsetEnvironment { words += ["-u", name] }
            for (name, value) in spec.environment.sorted(by: { $0.key < $1.key }) { words.append("\(name)=\(value)") }
        }
        words += spec.argv
        let command = words.map(quote).joined(separator: " ")
        if let directory = spec.workingDirectory { return "cd \(quote(directory)) && \(command)" }
        return command
    }

    static func quote(_ word: String) -> String { ShellQuoting.quote(word) }

    public func run(_ spec: CommandSpec, cancellation: CancellationToken?) -> CommandResult {
        var wrapped = CommandSpec(
            argv: sshArgv(for: spec), timeout: spec.timeout, terminationGrace: spec.terminationGrace, outputCap: spec.outputCap,
            standardInput: spec.standardInput)
        wrapped.holdStandardInputOpen = spec.holdStandardInputOpen
        wrapped.standardOutputFile = spec.standardOutputFile
        wrapped.onStandardOutputLine = spec.onStandardOutputLine
        wrapped.unsetEnvironment = ["SSH_AUTH_SOCK"].filter { _ in settings.identityFile != nil }
        var result = local.run(wrapped, cancellation: cancellation)
        if case .exited(255) = result.termination {
            if let failure = Self.classify(stderr: result.stderr.text, host: host) {
                result.termination = .transportFailed(kind: failure.kind, message: failure.message)
            } else if Self.controlFolder != nil, !sharedConnectionAlive() {
                // A command riding a shared connection that went away says nothing itself: asked, the
                // connection's master is gone. (A remote command that exits 255 leaves it alive.)
                result.termination = .transportFailed(
                    kind: .sshDropped,
                    message:
                        "ssh to \(host): the connection dropped during the command (its shared connection is gone); the command may or may not have finished on the node"
                )
            }
        }
        if case .spawnFailed(let why) = result.termination {
            result.termination = .spawnFailed("ssh client: \(why) (install openssh-client)")
        }
        return result
    }

    /// Whether this node's shared connection still answers (`ssh -O check`).
    func sharedConnectionAlive() -> Bool {
        local.run(CommandSpec(argv: connection() + ["-O", "check", host], timeout: 5), cancellation: nil).termination == .exited(0)
    }

    /// Names an ssh failure from what the client printed; nil when exit 255 came from the remote command.
    public static func classify(stderr: String, host: String) -> (kind: FailureCause, message: String)? {
        let text = stderr.lowercased()
        let firstLine = stderr.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if text.contains("host key verification failed") || text.contains("remote host identification has changed")
            || text.contains("host key is known for") || text.contains("no matching host key")
        {
            return (.sshHostKey, "ssh to \(host): the host key is unknown or changed (\(firstLine)); add it to known_hosts after checking it")
        }
        if text.contains("permission denied") || text.contains("too many authentication failures") {
            return (.sshAuth, "ssh to \(host): authentication failed (\(firstLine)); check the user and identityFile")
        }
        if text.contains("could not resolve hostname") || text.contains("connection refused") || text.contains("no route to host")
            || text.contains("connection timed out") || text.contains("operation timed out") || text.contains("network is unreachable")
            || text.contains("kex_exchange_identification")
        {
            return (.sshUnreachable, "ssh to \(host): unreachable (\(firstLine))")
        }
        if text.contains("closed by remote host") || text.contains("broken pipe") || text.contains("connection reset")
            || text.contains("not responding") || text.contains("connection closed")
        {
            return (
                .sshDropped, "ssh to \(host): the connection dropped during the command (\(firstLine)); the command may or may not have finished on the node"
            )
        }
        return nil
    }
}

extension FailureCause {
    /// ssh did not get through: name resolution, connection refused, no route, a timed-out connect.
    public static let sshUnreachable = FailureCause(rawValue: "ssh-unreachable")
    /// The node refused our key or user.
    public static let sshAuth = FailureCause(rawValue: "ssh-auth")
    /// The node's host key is unknown or changed.
    public static let sshHostKey = FailureCause(rawValue: "ssh-host-key")
    /// The connection dropped while the command ran: it may or may not have finished on the node.
    public static let sshDropped = FailureCause(rawValue: "ssh-dropped")
}
